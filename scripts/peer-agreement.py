#!/usr/bin/env python3
"""Runs slipway, hadolint and checkov over fixtures/check/planted and writes
docs/peer-agreement.md: for each planted problem, which tool finds it, and with
which id. A peer "finds" a problem when it reports the planted id (from
planted.yaml) for that file; hadolint and checkov report lines differently, so the
file and the id are compared, not the line.

Usage: scripts/peer-agreement.py [path/to/slipway]   (run scripts/setup-test-env.sh first)
"""
import json
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TREE = os.path.join(ROOT, "fixtures", "check", "planted")
SLIPWAY = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else os.path.join(ROOT, "target", "release", "slipway")


def planted():
    items = []
    for line in open(os.path.join(TREE, "planted.yaml"), encoding="utf-8"):
        m = re.search(r"id: (P\d+), file: ([^,]+), line: (\d+), rule: (\w+), hadolint: \"?([\w]*)\"?, checkov: \"?([\w]*)\"?, what: \"([^\"]*)\"", line)
        if m:
            items.append(dict(id=m[1], file=m[2], line=int(m[3]), rule=m[4], hadolint=m[5], checkov=m[6], what=m[7]))
    return items


def run(cmd):
    return subprocess.run(cmd, capture_output=True, text=True, cwd=TREE)


def slipway_found():
    out = json.loads(run([SLIPWAY, "check", ".", "--format", "json"]).stdout)
    return {(f["file"], f["line"], f["rule_id"]) for f in out["findings"]}, len(out["findings"])


def hadolint_found():
    found, total = set(), 0
    for root, _, files in os.walk(TREE):
        for f in files:
            if f == "Dockerfile":
                path = os.path.join(root, f)
                rel = os.path.relpath(path, TREE)
                res = run(["hadolint", "--format", "json", "--failure-threshold", "none", path])
                for r in json.loads(res.stdout or "[]"):
                    found.add((rel, r["code"]))
                    total += 1
    return found, total


def checkov_found():
    res = run(["checkov", "-d", ".", "-o", "json", "--quiet", "--compact", "--skip-download"])
    data = json.loads(res.stdout or "[]")
    reports = data if isinstance(data, list) else [data]
    found, total = set(), 0
    for rep in reports:
        for r in rep.get("results", {}).get("failed_checks", []):
            found.add((r["file_path"].lstrip("/"), r["check_id"]))
            total += 1
    return found, total


def main():
    items = planted()
    s_found, s_total = slipway_found()
    h_found, h_total = hadolint_found()
    c_found, c_total = checkov_found()
    hv = run(["hadolint", "--version"]).stdout.strip()
    cv = run(["checkov", "--version"]).stdout.strip()
    rows, agree, only_us, only_peer = [], 0, 0, 0
    for p in items:
        s = (p["file"], p["line"], p["rule"]) in s_found
        h = (p["file"], p["hadolint"]) in h_found if p["hadolint"] else None
        c = (p["file"], p["checkov"]) in c_found if p["checkov"] else None
        def cell(v, peer_id):
            if v is None:
                return "no rule"
            return f"yes ({peer_id})" if v else f"**missed** ({peer_id})"
        peers = [v for v in (h, c) if v is not None]
        if s and peers and all(peers):
            agree += 1
        if s and (not peers or not any(peers)):
            only_us += 1
        if not s and any(peers):
            only_peer += 1
        rows.append(f"| {p['id']} | `{p['file']}`:{p['line']} | {p['what']} | {'yes' if s else '**missed**'} ({p['rule']}) | {cell(h, p['hadolint'])} | {cell(c, p['checkov'])} |")
    doc = f"""# Agreement with peers on the planted tree

`fixtures/check/planted/` holds {len(items)} planted problems, listed in `planted.yaml`.
This table is written by `scripts/peer-agreement.py`, which runs slipway,
{hv} and checkov {cv} over the same tree.

| id | where | planted problem | slipway | hadolint | checkov |
|---|---|---|---|---|---|
""" + "\n".join(rows) + f"""

- slipway finds {sum(1 for p in items if (p['file'], p['line'], p['rule']) in s_found)} of {len(items)}. All findings: slipway {s_total}, hadolint {h_total}, checkov {c_total}.
- Where a peer has a matching rule, both found the problem in {agree} cases.
- slipway alone found {only_us}. Most of these are compose problems, because checkov
  has no compose framework and hadolint reads only Dockerfiles. The others are
  cross-file references (a Service that selects no pod) and shell strict mode.
- A peer found a problem slipway missed in {only_peer} cases.

Where they differ, and why:

- **hadolint** checks each Dockerfile on its own. It has no rule for a missing
  `HEALTHCHECK`, a missing `USER`, or secrets in `ENV` (slipway: DKR003, DKR002,
  DKR008). Its DL3002 fires only on an explicit `USER root`.
- **checkov** does not scan compose files. It reports Dockerfile problems per file
  rather than per line, and some of its ids cover several slipway rules. For
  example, CKV_K8S_10 (CPU request) is one part of slipway's K8S011. Its secret
  scanner (CKV_SECRET_*) only reports what its entropy and keyword filters keep.
"""
    out = os.path.join(ROOT, "docs", "peer-agreement.md")
    with open(out, "w", encoding="utf-8") as f:
        f.write(doc)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
