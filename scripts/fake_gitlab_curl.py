#!/usr/bin/env python3
"""A stand-in for `curl` that answers the GitLab API calls of docs/ci/gitlab/gitlab-ci.yml from
a JSON file, so scripts/ci-steps.sh runs the recipe's note and issue jobs locally.

Used as `curl` on PATH with FAKE_GITLAB_STATE=FILE. Understands the options the recipe uses
(--fail --silent --show-error --header --request --data-urlencode) and the calls it makes:
merge-request notes (list, create, update) and issues (list, create, update, comment). Any
other call, a missing PRIVATE-TOKEN header or a malformed request fails as curl --fail would
(exit 22), so a recipe that calls the API wrongly fails here.
"""

import json
import os
import re
import sys
from urllib.parse import parse_qs, urlsplit


def main(argv):
    method, headers, data, url = None, [], [], None
    it = iter(argv)
    for a in it:
        if a in ("--fail", "--silent", "--show-error", "-f", "-s", "-S", "-fsS"):
            continue
        if a in ("--header", "-H"):
            headers.append(next(it))
        elif a in ("--request", "-X"):
            method = next(it)
        elif a == "--data-urlencode":
            data.append(next(it))
        elif a.startswith("-"):
            return refuse(f"option {a} is not simulated")
        else:
            url = a
    if url is None:
        return refuse("no URL")
    if not any(re.fullmatch(r"PRIVATE-TOKEN: \S+", h) for h in headers):
        return refuse("401 Unauthorized: no PRIVATE-TOKEN header")
    method = method or ("POST" if data else "GET")
    fields = {}
    for d in data:
        m = re.fullmatch(r"(\w+)([=@])(.*)", d, re.S)
        if not m:
            return refuse(f"bad --data-urlencode {d!r}")
        if m.group(2) == "@":
            with open(m.group(3), encoding="utf-8") as f:
                fields[m.group(1)] = f.read()
        else:
            fields[m.group(1)] = m.group(3)

    path = os.environ["FAKE_GITLAB_STATE"]
    state = json.load(open(path)) if os.path.exists(path) else {"notes": [], "issues": [], "next": 1}
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    route = re.sub(r"^.*/api/v4", "", parts.path)

    def new_id():
        state["next"] += 1
        return state["next"] - 1

    answer = None
    if m := re.fullmatch(r"/projects/(\w+)/merge_requests/(\d+)/notes", route):
        mr = int(m.group(2))
        if method == "GET":
            notes = [n for n in state["notes"] if n["mr"] == mr]
            per, page = int(query.get("per_page", 20)), int(query.get("page", 1))
            answer = notes[(page - 1) * per : page * per]
        elif method == "POST" and "body" in fields:
            answer = {"id": new_id(), "mr": mr, "body": fields["body"], "updates": 0}
            state["notes"].append(answer)
    elif m := re.fullmatch(r"/projects/(\w+)/merge_requests/(\d+)/notes/(\d+)", route):
        note = next((n for n in state["notes"] if n["id"] == int(m.group(3))), None)
        if method == "PUT" and note and "body" in fields:
            note["body"] = fields["body"]
            note["updates"] += 1
            answer = note
    elif re.fullmatch(r"/projects/(\w+)/issues", route):
        if method == "GET":
            labels = [x for x in query.get("labels", "").split(",") if x]
            st = query.get("state", "all")
            answer = [i for i in state["issues"]
                      if (st == "all" or i["state"] == st) and all(x in i["labels"] for x in labels)]
        elif method == "POST" and "title" in fields:
            answer = {"iid": new_id(), "title": fields["title"], "description": fields.get("description", ""),
                      "labels": [x for x in fields.get("labels", "").split(",") if x], "state": "opened",
                      "notes": [], "updates": 0}
            state["issues"].append(answer)
    elif m := re.fullmatch(r"/projects/(\w+)/issues/(\d+)(/notes)?", route):
        issue = next((i for i in state["issues"] if i["iid"] == int(m.group(2))), None)
        if issue and m.group(3) and method == "POST" and "body" in fields:
            issue["notes"].append(fields["body"])
            answer = {"id": new_id(), "body": fields["body"]}
        elif issue and not m.group(3) and method == "PUT":
            if fields.get("state_event") == "close":
                issue["state"] = "closed"
            if "description" in fields:
                issue["description"] = fields["description"]
            issue["updates"] += 1
            answer = issue
    if answer is None:
        return refuse(f"{method} {route} {sorted(fields)} is not a call the simulated GitLab answers")
    with open(path, "w") as f:
        json.dump(state, f, indent=2)
    print(json.dumps(answer))
    return 0


def refuse(why):
    print(f"curl (simulated GitLab): {why}", file=sys.stderr)
    return 22


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
