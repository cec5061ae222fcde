#!/usr/bin/env python3
"""`--format sarif` is SARIF 2.1.0 that other tools can read.

For each case given: `dbautopsy investigate CASE --format sarif` validates against the
official SARIF 2.1.0 JSON schema (committed beside this file, from the OASIS sarif-spec
repository), holds one result per finding of `--format json` with the same rule, level and
message, points at the artifact and line of the finding's first evidence, lists every rule of
`dbautopsy rules` with its documentation, and gives each result a fingerprint that is unique
within the run and the same on a second run.
"""
import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import unquote

import jsonschema

LEVEL = {"error": "error", "warning": "warning", "info": "note"}


def investigate(dbautopsy, case, store, fmt):
    r = subprocess.run([dbautopsy, "investigate", str(case), "--store", str(store), "--format", fmt,
                        "--fail-on", "never"], capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"{case.name}: investigate --format {fmt} exited {r.returncode}: {r.stderr}")
    return json.loads(r.stdout)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dbautopsy", required=True)
    ap.add_argument("--cases", required=True)
    ap.add_argument("--schema", required=True)
    ap.add_argument("names", nargs="+")
    args = ap.parse_args()
    schema = json.loads(Path(args.schema).read_text())
    validator = jsonschema.Draft4Validator(schema)
    listing = subprocess.run([args.dbautopsy, "rules"], capture_output=True, text=True, check=True)
    rule_ids = [line.split()[0] for line in listing.stdout.splitlines() if line.strip()]
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.names:
            case = Path(args.cases) / name
            store = Path(tmp) / f"{name}.db"
            sarif = investigate(args.dbautopsy, case, store, "sarif")
            errors = sorted(validator.iter_errors(sarif), key=lambda e: list(e.path))
            for e in errors[:5]:
                failures.append(f"{name}: not SARIF 2.1.0 at {'/'.join(map(str, e.path))}: {e.message}")
            report = investigate(args.dbautopsy, case, store, "json")
            run = sarif["runs"][0]
            rules = run["tool"]["driver"]["rules"]
            listed = [r["id"] for r in rules]
            for rid in rule_ids:
                if rid not in listed:
                    failures.append(f"{name}: rule {rid} missing from tool.driver.rules")
            for r in rules:
                if not r.get("help", {}).get("text", "").startswith("## What it means"):
                    failures.append(f"{name}: rule {r['id']} has no documentation as help")
            results = run["results"]
            findings = report["findings"]
            if len(results) != len(findings):
                failures.append(f"{name}: {len(results)} results for {len(findings)} findings")
            fingerprints = set()
            for res, f in zip(results, findings):
                where = f"{name} {f['id']}"
                if res["ruleId"] != f["rule"] or rules[res["ruleIndex"]]["id"] != f["rule"]:
                    failures.append(f"{where}: ruleId {res['ruleId']} for {f['rule']}")
                if res["level"] != LEVEL[f["severity"]]:
                    failures.append(f"{where}: level {res['level']} for {f['severity']}")
                if res["message"]["text"] != f["message"]:
                    failures.append(f"{where}: message differs")
                placed = [e for e in f["evidence"] if e.get("artifact")]
                if placed:
                    loc = res["locations"][0]["physicalLocation"]
                    if unquote(loc["artifactLocation"]["uri"]) != placed[0]["artifact"]:
                        failures.append(f"{where}: location {loc['artifactLocation']['uri']} "
                                        f"for {placed[0]['artifact']}")
                    if placed[0].get("line") and loc.get("region", {}).get("startLine") != placed[0]["line"]:
                        failures.append(f"{where}: line {loc.get('region')} for {placed[0]['line']}")
                elif res.get("locations"):
                    failures.append(f"{where}: a location without evidence")
                fp = res["partialFingerprints"]["dbautopsySubject/v1"]
                if fp in fingerprints:
                    failures.append(f"{where}: fingerprint {fp} not unique")
                fingerprints.add(fp)
            again = investigate(args.dbautopsy, case, Path(tmp) / f"{name}-again.db", "sarif")
            fp2 = [r["partialFingerprints"] for r in again["runs"][0]["results"]]
            if fp2 != [r["partialFingerprints"] for r in results]:
                failures.append(f"{name}: fingerprints differ between two runs")
            print(f"{name:<32} {len(results):3} results, {len(errors)} schema errors")
    for f in failures:
        print("FAIL:", f, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
