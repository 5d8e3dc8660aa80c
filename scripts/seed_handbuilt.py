#!/usr/bin/env python3
"""Seed the emulator with a HAND-BUILT organization: the kind orgctl meets on day one.

Relative to the example in desired-state/, the organization this script builds has
  * OU /Workloads and /Workloads/Staging, made by hand (no `managed-by: orgctl` tag: adopted),
    /Workloads/Production and /Sandbox missing (created);
  * companyx-staging in the root instead of /Workloads/Staging, with a STALE tag value
    (environment=stage) and an extra tag (moved, re-tagged);
  * companyx-production in /Workloads/Staging instead of /Workloads/Production (moved);
  * companyx-sandbox missing (created);
  * the SCP deny-leave-organization attached to the root but with a DIFFERENT document
    (updated, adopted), restrict-regions and the tag policy missing (created, attached);
    tag policies not enabled (enabled);
  * an unrelated OU /Legacy with an account legacy-billing and an SCP legacy-deny-s3 attached
    to it: not in the desired state and not orgctl's, so plans must leave them alone.

So `orgctl plan` on desired-state/ shows creates, moves, updates and adoptions together.

Run it with the emulator venv's python, against the emulator only (loopback endpoints):

    eval "$(scripts/emulator.sh start)"
    .venv-moto/bin/python scripts/seed_handbuilt.py            # as 123456789012 (the example's)
    .venv-moto/bin/python scripts/seed_handbuilt.py --account 210987654321 > seeded.json

With --account, it first assumes arn:aws:iam::ACCOUNT:role/bootstrap (moto maps the returned
credentials to that account) and builds the organization there; the JSON it prints then holds
those credentials, so a test can point orgctl at its own organization. Credentials otherwise
come from the environment (the `testing` pair if none is set).
"""

import argparse
import json
import os
import sys
from urllib.parse import urlparse

import boto3
from botocore.exceptions import ClientError

LOOPBACK = {"127.0.0.1", "localhost", "::1"}

DENY_LEAVE_OLD = {
    # Hand-written long ago: also denies closing accounts, and has no Sid.
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Deny",
            "Action": ["organizations:LeaveOrganization", "account:CloseAccount"],
            "Resource": "*",
        }
    ],
}

LEGACY_DENY_S3 = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Deny", "Action": "s3:DeleteBucket", "Resource": "*"}],
}


def tags(d):
    return [{"Key": k, "Value": v} for k, v in d.items()]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--endpoint-url",
        default=os.environ.get("AWS_ENDPOINT_URL"),
        help="the emulator (default: $AWS_ENDPOINT_URL)",
    )
    ap.add_argument("--region", default=os.environ.get("AWS_REGION", "us-east-1"))
    ap.add_argument(
        "--account",
        help="build the organization in this (new, 12-digit) management account",
    )
    args = ap.parse_args()

    if not args.endpoint_url:
        sys.exit("seed_handbuilt.py: give --endpoint-url or set AWS_ENDPOINT_URL (the emulator)")
    host = urlparse(args.endpoint_url).hostname
    if host not in LOOPBACK:
        sys.exit(f"seed_handbuilt.py: refusing {args.endpoint_url}: emulator (loopback) only")
    if args.account and not (len(args.account) == 12 and args.account.isdigit()):
        sys.exit("seed_handbuilt.py: --account must be 12 digits")

    session = boto3.session.Session(
        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "testing"),
        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "testing"),
        aws_session_token=os.environ.get("AWS_SESSION_TOKEN"),
        region_name=args.region,
    )
    credentials = None
    if args.account:
        sts = session.client("sts", endpoint_url=args.endpoint_url)
        c = sts.assume_role(
            RoleArn=f"arn:aws:iam::{args.account}:role/bootstrap",
            RoleSessionName="orgctl-seed",
        )["Credentials"]
        credentials = {
            "AWS_ACCESS_KEY_ID": c["AccessKeyId"],
            "AWS_SECRET_ACCESS_KEY": c["SecretAccessKey"],
            "AWS_SESSION_TOKEN": c["SessionToken"],
        }
        session = boto3.session.Session(
            aws_access_key_id=c["AccessKeyId"],
            aws_secret_access_key=c["SecretAccessKey"],
            aws_session_token=c["SessionToken"],
            region_name=args.region,
        )
    org = session.client("organizations", endpoint_url=args.endpoint_url)

    try:
        o = org.create_organization(FeatureSet="ALL")["Organization"]
    except ClientError as e:
        if e.response["Error"]["Code"] == "AlreadyInOrganizationException":
            sys.exit(
                "seed_handbuilt.py: this account already has an organization: restart the "
                "emulator (scripts/emulator.sh stop && scripts/emulator.sh start) or use --account"
            )
        raise
    root = org.list_roots()["Roots"][0]["Id"]
    org.enable_policy_type(RootId=root, PolicyType="SERVICE_CONTROL_POLICY")

    def ou(parent, name, t):
        return org.create_organizational_unit(ParentId=parent, Name=name, Tags=tags(t))[
            "OrganizationalUnit"
        ]["Id"]

    def account(name, email, t, parent):
        status = org.create_account(AccountName=name, Email=email, Tags=tags(t))[
            "CreateAccountStatus"
        ]
        if status["State"] != "SUCCEEDED":
            sys.exit(f"seed_handbuilt.py: CreateAccount {name}: {status}")
        acct = status["AccountId"]
        if parent != root:
            org.move_account(AccountId=acct, SourceParentId=root, DestinationParentId=parent)
        return acct

    workloads = ou(root, "Workloads", {"cost-center": "platform", "aws-controltower-managed": "true"})
    staging = ou(workloads, "Staging", {"cost-center": "companyx", "environment": "staging"})
    legacy = ou(root, "Legacy", {"owner": "finance"})

    staging_acct = account(
        "companyx-staging",
        "companyx-staging@partner.example",
        {"cost-center": "companyx", "environment": "stage", "owner": "partner", "ticket": "OPS-12"},
        root,
    )
    production_acct = account(
        "companyx-production",
        "companyx-production@partner.example",
        {"cost-center": "companyx", "environment": "production", "owner": "partner"},
        staging,
    )
    legacy_acct = account(
        "legacy-billing", "legacy-billing@companyx.example", {"owner": "finance"}, legacy
    )

    deny_leave = org.create_policy(
        Name="deny-leave-organization",
        Type="SERVICE_CONTROL_POLICY",
        Description="hand-made: no leaving",
        Content=json.dumps(DENY_LEAVE_OLD, indent=2),
    )["Policy"]["PolicySummary"]["Id"]
    org.attach_policy(PolicyId=deny_leave, TargetId=root)
    legacy_scp = org.create_policy(
        Name="legacy-deny-s3",
        Type="SERVICE_CONTROL_POLICY",
        Description="Finance keeps its buckets",
        Content=json.dumps(LEGACY_DENY_S3),
    )["Policy"]["PolicySummary"]["Id"]
    org.attach_policy(PolicyId=legacy_scp, TargetId=legacy)

    seeded = {
        "endpoint_url": args.endpoint_url,
        "management_account_id": o["MasterAccountId"],
        "organization_id": o["Id"],
        "root_id": root,
        "ous": {"/Workloads": workloads, "/Workloads/Staging": staging, "/Legacy": legacy},
        "accounts": {
            "companyx-staging": staging_acct,
            "companyx-production": production_acct,
            "legacy-billing": legacy_acct,
        },
        "policies": {"deny-leave-organization": deny_leave, "legacy-deny-s3": legacy_scp},
    }
    if credentials:
        seeded["credentials"] = credentials
    json.dump(seeded, sys.stdout, indent=2, sort_keys=True)
    print()


if __name__ == "__main__":
    main()
