#!/usr/bin/env python3
"""Start moto's server (AWS Organizations, IAM, STS emulator) on a loopback port.

Run it with the moto venv's python (see scripts/emulator.sh). Unlike `moto_server`, it
  * binds loopback only (127.0.0.1 by default; refuses non-loopback hosts);
  * exits by itself when the process that started it dies (the test binary, or a shell given
    with --watch-pid), so a test run never leaves an orphan server behind;
  * loads just a few AWS managed IAM policies (by default DEFAULT_MANAGED_POLICIES, the list
    orgctl's in-memory IAM knows, `AWS_MANAGED_POLICIES` in crates/orgctl-backend; or
    --managed-policies NAME,NAME; `none` for none) instead of all ~1,600, which would cost ~1 s
    and ~29 MiB for every account moto creates. Without them, attaching
    arn:aws:iam::aws:policy/AdministratorAccess fails with NoSuchEntity;
  * detaches an OU's policies when the OU is deleted, as AWS does (moto 5.2.5 keeps the deleted
    OU among the policy's targets, so such a policy can never be deleted).

Usage: python scripts/moto_server.py --port PORT [--host 127.0.0.1] [--watch-pid PID|0]
                                     [--managed-policies NAME,NAME|none]
"""

import argparse
import json
import os
import sys
import threading
import time

LOOPBACK = {"127.0.0.1", "::1", "localhost"}

# Keep in step with AWS_MANAGED_POLICIES in crates/orgctl-backend/src/memory/iam.rs (the emulator
# test `iam::every_builtin_managed_policy_attaches_in_the_emulator` checks it).
DEFAULT_MANAGED_POLICIES = ",".join(
    [
        "AdministratorAccess",
        "PowerUserAccess",
        "ReadOnlyAccess",
        "SecurityAudit",
        "IAMReadOnlyAccess",
        "ViewOnlyAccess",
        "Billing",
        "SupportUser",
    ]
)


def watch_parent(watch_pid: int, original_ppid: int) -> None:
    """Exit the whole process as soon as the watched process is gone."""
    while True:
        time.sleep(0.5)
        if watch_pid == original_ppid and os.getppid() != original_ppid:
            os._exit(0)  # reparented: our parent died
        try:
            os.kill(watch_pid, 0)
        except ProcessLookupError:
            os._exit(0)
        except PermissionError:
            pass  # exists, owned by someone else


def keep_only_managed_policies(names: list[str]) -> None:
    """Replace moto's managed-policy table by the named subset, before any backend exists."""
    import moto.iam.aws_managed_policies as table
    import moto.iam.models as iam_models

    full = json.loads(table.aws_managed_policies_data)
    missing = [n for n in names if n not in full]
    if missing:
        sys.exit(f"moto_server.py: unknown AWS managed policies: {', '.join(missing)}")
    subset = json.dumps({n: full[n] for n in names})
    table.aws_managed_policies_data = subset
    iam_models.aws_managed_policies_data = subset
    os.environ["MOTO_IAM_LOAD_MANAGED_POLICIES"] = "true"


def detach_policies_of_deleted_ous() -> None:
    """Make DeleteOrganizationalUnit drop the OU's policy attachments, as AWS does."""
    from moto.organizations.models import OrganizationsBackend

    delete = OrganizationsBackend.delete_organizational_unit

    def delete_and_detach(self, **kwargs):  # type: ignore[no-untyped-def]
        ou = self.get_organizational_unit_by_id(kwargs["OrganizationalUnitId"])
        delete(self, **kwargs)
        for policy in list(ou.attached_policies):
            if ou in policy.attachments:
                policy.attachments.remove(ou)
        ou.attached_policies.clear()

    OrganizationsBackend.delete_organizational_unit = delete_and_detach


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument(
        "--watch-pid",
        type=int,
        default=None,
        help="exit when this process dies (default: the parent process; 0: never)",
    )
    ap.add_argument(
        "--managed-policies",
        default=DEFAULT_MANAGED_POLICIES,
        help="comma-separated AWS managed policy names to load, or none (default: %(default)s)",
    )
    args = ap.parse_args()

    if args.host not in LOOPBACK:
        sys.exit(f"moto_server.py: refusing to bind {args.host}: loopback only")
    if not 0 < args.port < 65536:
        sys.exit(f"moto_server.py: bad port {args.port}")
    if os.environ.get("MOTO_ACCOUNT_ID"):
        sys.exit("moto_server.py: unset MOTO_ACCOUNT_ID (it forces one account for every caller)")

    wanted = "" if args.managed_policies.strip() == "none" else args.managed_policies
    names = [n.strip() for n in wanted.split(",") if n.strip()]
    if names:
        keep_only_managed_policies(names)
    elif os.environ.get("MOTO_IAM_LOAD_MANAGED_POLICIES", "").lower() == "true":
        sys.exit("moto_server.py: use --managed-policies instead of MOTO_IAM_LOAD_MANAGED_POLICIES")

    original_ppid = os.getppid()
    watch_pid = original_ppid if args.watch_pid is None else args.watch_pid
    if watch_pid:
        threading.Thread(
            target=watch_parent, args=(watch_pid, original_ppid), daemon=True
        ).start()

    detach_policies_of_deleted_ous()

    from moto.server import main as moto_main

    moto_main(["-H", args.host, "-p", str(args.port)])


if __name__ == "__main__":
    main()
