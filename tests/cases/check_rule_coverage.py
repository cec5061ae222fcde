#!/usr/bin/env python3
"""Every built-in rule is documented and proven by a case.

For each rule `dbautopsy rules` lists: `dbautopsy explain RULE` prints its four sections
(what it means, why it happens, how to repair, an example), and at least one case test's
expected.json -- findings computed from the real database when the fixture was generated --
holds a finding of it; every case named *_clean expects none at all. A rule no case proves
is a rule nothing shows to work.
"""
import argparse
import json
import subprocess
import sys
from pathlib import Path

SECTIONS = ["## What it means", "## Why it happens", "## How to repair", "## Example"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dbautopsy", required=True)
    ap.add_argument("--cases", required=True, help="fixtures/cases")
    ap.add_argument("names", nargs="+", help="the cases that run as tests")
    args = ap.parse_args()

    listing = subprocess.run([args.dbautopsy, "rules"], capture_output=True, text=True, check=True)
    rules = [line.split()[0] for line in listing.stdout.splitlines() if line.strip()]
    failures = []
    if len(rules) < 15:
        failures.append(f"`dbautopsy rules` lists only {len(rules)} rules")

    proven = {}
    for name in args.names:
        expected = json.loads((Path(args.cases) / name / "expected.json").read_text())
        findings = expected["findings"] if isinstance(expected, dict) else expected
        if name.endswith("_clean") and findings:
            failures.append(f"{name}: a clean case expects {len(findings)} findings")
        for f in findings:
            proven.setdefault(f["rule"], []).append(name)

    for rule in rules:
        doc = subprocess.run([args.dbautopsy, "explain", rule], capture_output=True, text=True)
        if doc.returncode != 0:
            failures.append(f"explain {rule}: exit {doc.returncode}: {doc.stderr.strip()}")
        else:
            for section in SECTIONS:
                if section not in doc.stdout:
                    failures.append(f"explain {rule}: no '{section}' section")
        if rule not in proven:
            failures.append(f"{rule}: no case test expects a finding of it")
        else:
            print(f"{rule:<30} proven by {', '.join(sorted(set(proven[rule])))}")

    for rule in sorted(set(proven) - set(rules)):
        failures.append(f"{rule}: expected by a case but not a built-in rule")
    for f in failures:
        print("FAIL:", f, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
