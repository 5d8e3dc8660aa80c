#!/usr/bin/env python3
"""Seed the emulator with a large organization and write the matching desired state.

    .venv-moto/bin/python scripts/seed_scale.py --accounts 500 --ous 20 --scps 5 [--grants] --out DIR

Builds, in the organization of the credentials in the environment (the emulator's default
management account 123456789012 unless told otherwise): 5 top-level OUs with 3 children each
(20 OUs), ACCOUNTS accounts spread over the OUs with two cost tags each, and SCPS SCPs each
attached to a top-level OU; all OUs and policies carry `managed-by: orgctl`. It writes the
desired state describing exactly that organization to DIR, so `orgctl plan DIR` is the pure
read cost of the organization (no changes). Against the emulator only (AWS_ENDPOINT_URL).

With --grants it also writes grants.yaml: two partner grants on 50 accounts (of 500), each
with an AWS managed policy and an inline policy: `partner-ou` on the OU /Unit0/Team0 (every
20th account, 25 of 500) and `partner-named` on 25 accounts named one by one, spread over the
other OUs. It creates no roles: `orgctl apply` does (scripts/bench-emulator.sh --grants).

With --scale5000 it builds the organization of issue 9 instead, most of which the YAML does
not manage: 15 top-level OUs (/Unit0 with 4 children, /Unit1../Unit9 with 9 children each,
/Unit10../Unit14 without: 100 OUs), ACCOUNTS (default 5,000) accounts, 5 SCPs. The desired
state manages /Unit0 and its 4 children (tagged `managed-by: orgctl`) with 10 accounts each,
given by `id` (50), the 5 SCPs (one on each of those OUs) and one partner grant on 20 of the
50 accounts; every other account sits in the 95 OUs it does not manage, untagged.
"""
import argparse, datetime, json, os, pathlib, sys

import boto3


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--accounts", type=int, default=500)
    ap.add_argument("--ous", type=int, default=20)
    ap.add_argument("--scps", type=int, default=5)
    ap.add_argument("--grants", action="store_true")
    ap.add_argument("--scale5000", action="store_true")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    endpoint = os.environ.get("AWS_ENDPOINT_URL", "")
    if not endpoint.startswith(("http://127.", "http://localhost")):
        print("seed_scale.py: AWS_ENDPOINT_URL must point at the local emulator", file=sys.stderr)
        return 1
    org = boto3.client("organizations", region_name="us-east-1")
    try:
        org.create_organization(FeatureSet="ALL")
    except org.exceptions.AlreadyInOrganizationException:
        pass
    mgmt = org.describe_organization()["Organization"]["MasterAccountId"]
    root = org.list_roots()["Roots"][0]["Id"]
    try:
        org.enable_policy_type(RootId=root, PolicyType="SERVICE_CONTROL_POLICY")
    except org.exceptions.PolicyTypeAlreadyEnabledException:
        pass
    managed = [{"Key": "managed-by", "Value": "orgctl"}]
    if a.scale5000:
        return scale5000(org, root, mgmt, a, managed)
    tops = max(1, a.ous // 4)
    ous = []  # (path, id)
    for t in range(tops):
        top = org.create_organizational_unit(ParentId=root, Name=f"Unit{t}", Tags=managed)
        ous.append((f"/Unit{t}", top["OrganizationalUnit"]["Id"]))
        for c in range(a.ous // tops - 1):
            child = org.create_organizational_unit(
                ParentId=top["OrganizationalUnit"]["Id"], Name=f"Team{c}", Tags=managed)
            ous.append((f"/Unit{t}/Team{c}", child["OrganizationalUnit"]["Id"]))
    accounts = []
    for i in range(a.accounts):
        path, ou_id = ous[i % len(ous)]
        name, email = f"acct-{i:04d}", f"acct-{i:04d}@scale.example"
        tags = [{"Key": "cost-center", "Value": f"cc-{i % 17}"}, {"Key": "environment", "Value": "prod" if i % 2 else "dev"}]
        status = org.create_account(AccountName=name, Email=email, Tags=tags)["CreateAccountStatus"]
        org.move_account(AccountId=status["AccountId"], SourceParentId=root, DestinationParentId=ou_id)
        accounts.append((name, email, path, {t["Key"]: t["Value"] for t in tags}))
    policies = []
    for s in range(a.scps):
        doc = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": f"svc{s}:*", "Resource": "*"}]}
        p = org.create_policy(Name=f"scp-{s}", Description="", Type="SERVICE_CONTROL_POLICY",
                              Content=json.dumps(doc), Tags=managed)
        target_path, target_id = ous[(s * (len(ous) // tops)) % len(ous)]
        org.attach_policy(PolicyId=p["Policy"]["PolicySummary"]["Id"], TargetId=target_id)
        policies.append((f"scp-{s}", doc, target_path))

    out = pathlib.Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    q = json.dumps  # JSON strings are valid YAML scalars
    lines = ["organization:", f"  management_account_id: {q(mgmt)}",
             "  enabled_policy_types: [service_control_policy]", "ous:"]
    lines += [f"  - path: {q(p)}" for p, _ in ous]
    lines.append("accounts:")
    for name, email, path, tags in accounts:
        lines += [f"  - name: {q(name)}", f"    email: {q(email)}", f"    ou: {q(path)}",
                  "    tags: " + q(tags)]
    lines.append("policies:")
    for name, doc, target in policies:
        lines += [f"  - name: {q(name)}", "    type: service_control_policy",
                  "    document: " + q(json.dumps(doc)), f"    targets: [{q(target)}]"]
    (out / "org.yaml").write_text("\n".join(lines) + "\n")
    if a.grants:
        (out / "grants.yaml").write_text(grants_yaml(accounts, ous))
    print(json.dumps({"ous": len(ous), "accounts": len(accounts), "policies": len(policies), "management": mgmt}))
    return 0


def scale5000(org, root, mgmt, a, managed) -> int:
    """The issue's organization (see the module doc); writes the desired state of its managed
    part."""
    ous_yaml, unmanaged, managed_ous = [], [], []
    for u in range(15):
        tags = managed if u == 0 else []
        top = org.create_organizational_unit(ParentId=root, Name=f"Unit{u}", Tags=tags)["OrganizationalUnit"]
        teams = 4 if u == 0 else (9 if u <= 9 else 0)
        if u == 0:
            managed_ous.append((f"/Unit{u}", top["Id"]))
        elif teams == 0:
            unmanaged.append(top["Id"])
        for t in range(teams):
            child = org.create_organizational_unit(ParentId=top["Id"], Name=f"Team{t}", Tags=tags)["OrganizationalUnit"]
            if u == 0:
                managed_ous.append((f"/Unit{u}/Team{t}", child["Id"]))
            else:
                unmanaged.append(child["Id"])
    accounts = []
    for i in range(a.accounts):
        name, email = f"acct-{i:04d}", f"acct-{i:04d}@scale.example"
        status = org.create_account(AccountName=name, Email=email)["CreateAccountStatus"]
        if i < 50:
            path, ou_id = managed_ous[i % 5]
            accounts.append((name, email, path, status["AccountId"]))
        else:
            ou_id = unmanaged[i % len(unmanaged)]
        org.move_account(AccountId=status["AccountId"], SourceParentId=root, DestinationParentId=ou_id)
    policies = []
    for s in range(5):
        doc = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": f"svc{s}:*", "Resource": "*"}]}
        p = org.create_policy(Name=f"scp-{s}", Description="", Type="SERVICE_CONTROL_POLICY",
                              Content=json.dumps(doc), Tags=managed)
        org.attach_policy(PolicyId=p["Policy"]["PolicySummary"]["Id"], TargetId=managed_ous[s][1])
        policies.append((f"scp-{s}", doc, managed_ous[s][0]))
    out = pathlib.Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    q = json.dumps
    lines = ["organization:", f"  management_account_id: {q(mgmt)}",
             "  enabled_policy_types: [service_control_policy]", "ous:"]
    lines += [f"  - path: {q(p)}" for p, _ in managed_ous]
    lines.append("accounts:")
    for name, email, path, account_id in accounts:
        lines += [f"  - name: {q(name)}", f"    id: {q(account_id)}", f"    email: {q(email)}",
                  f"    ou: {q(path)}"]
    lines.append("policies:")
    for name, doc, target in policies:
        lines += [f"  - name: {q(name)}", "    type: service_control_policy",
                  "    document: " + q(json.dumps(doc)), f"    targets: [{q(target)}]"]
    (out / "org.yaml").write_text("\n".join(lines) + "\n")
    expires = (datetime.datetime.now(datetime.timezone.utc).date() + datetime.timedelta(days=180)).isoformat()
    inline = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Action": ["aws-portal:*", "account:*"], "Resource": "*"}]}
    named = [name for name, _, _, _ in accounts[:20]]
    (out / "grants.yaml").write_text("\n".join([
        "grants:", "  - name: partner-named", f"    partner: {q('Partner B')}",
        "    owner: platform@scale.example", "    ticket: OPS-1",
        f"    principal: {q('arn:aws:iam::888877776666:role/operators')}",
        f"    external_id: {q('partner-named-7f3a9c2e')}", "    max_session: 2h",
        "    permissions:", "      managed: [SecurityAudit]", "      inline:",
        "        - name: deny-billing", "          document: " + q(json.dumps(inline)),
        "    targets: [" + ", ".join(q(t) for t in named) + "]", f"    expires: {expires}"]) + "\n")
    print(json.dumps({"ous": 100, "accounts": a.accounts, "yaml_accounts": len(accounts),
                      "policies": len(policies), "management": mgmt}))
    return 0


def grants_yaml(accounts, ous) -> str:
    """Two partner grants, on an OU (/Unit0/Team0: 25 of 500 accounts) and on 25 named accounts
    elsewhere, each a managed policy and an inline policy, expiring in 180 days."""
    q = json.dumps
    ou = ous[1][0] if len(ous) > 1 else ous[0][0]
    named = [name for name, _, path, _ in accounts[::19] if path != ou][:25]
    expires = (datetime.datetime.now(datetime.timezone.utc).date() + datetime.timedelta(days=180)).isoformat()
    inline = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Action": ["aws-portal:*", "account:*"], "Resource": "*"}]}
    grants = [
        ("partner-ou", "Partner A", q("999988887777"), "ReadOnlyAccess", [ou]),
        ("partner-named", "Partner B", q("arn:aws:iam::888877776666:role/operators"),
         "SecurityAudit", named),
    ]
    lines = ["grants:"]
    for name, partner, principal, managed, targets in grants:
        lines += [f"  - name: {name}", f"    partner: {q(partner)}",
                  "    owner: platform@scale.example", "    ticket: OPS-1",
                  f"    principal: {principal}", f"    external_id: {q(name + '-7f3a9c2e')}",
                  "    max_session: 2h", "    permissions:", f"      managed: [{managed}]",
                  "      inline:", "        - name: deny-billing",
                  "          document: " + q(json.dumps(inline)),
                  "    targets: [" + ", ".join(q(t) for t in targets) + "]",
                  f"    expires: {expires}"]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
