#!/usr/bin/env python3
"""Seed the emulator with a large organization and write the matching desired state.

    .venv-moto/bin/python scripts/seed_scale.py --accounts 500 --ous 20 --scps 5 --out DIR

Builds, in the organization of the credentials in the environment (the emulator's default
management account 123456789012 unless told otherwise): 5 top-level OUs with 3 children each
(20 OUs), ACCOUNTS accounts spread over the OUs with two cost tags each, and SCPS SCPs each
attached to a top-level OU; all OUs and policies carry `managed-by: orgctl`. It writes the
desired state describing exactly that organization to DIR, so `orgctl plan DIR` is the pure
read cost of the organization (no changes). Against the emulator only (AWS_ENDPOINT_URL).
"""
import argparse, json, os, pathlib, sys

import boto3


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--accounts", type=int, default=500)
    ap.add_argument("--ous", type=int, default=20)
    ap.add_argument("--scps", type=int, default=5)
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
    print(json.dumps({"ous": len(ous), "accounts": len(accounts), "policies": len(policies), "management": mgmt}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
