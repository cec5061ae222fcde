#!/usr/bin/env python3
"""A case whose text files Windows tools rewrote says what the original case says.

Customers hand over files that went through Windows: Notepad and PowerShell's
`Set-Content -Encoding UTF8` put a UTF-8 byte order mark in front, Windows PowerShell's `>`
and `Out-File` write UTF-16LE with its mark, and some tools UTF-16BE. The django_drift case
(a dump, the server's and the application's logs, django_migrations as CSV, showmigrations,
sqlmigrate output and the migration files) is copied once per encoding, every text file
re-encoded by Python's own codecs (the .gz dump and the custom archive stay as they are), and
investigated. Each copy must give the original's findings (rule, subject, message, cause)
and artifact kinds and statuses, and say of each re-encoded file that it read past its mark.

Usage: check_text_encodings.py --dbautopsy PATH --fixtures DIR
"""
import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ENCODINGS = {
    "UTF-8 with a byte order mark": lambda text: ("\ufeff" + text).encode("utf-8"),
    "UTF-16LE": lambda text: ("\ufeff" + text).encode("utf-16-le"),
    "UTF-16BE": lambda text: ("\ufeff" + text).encode("utf-16-be"),
}
# Files that are not text, or not the case's evidence.
KEEP = {".gz", ".dump"}


def investigate(exe, case, work):
    store = work / "facts.db"
    out = work / "report"
    r = subprocess.run([exe, "investigate", str(case), "--store", str(store), "--out", str(out)],
                       capture_output=True, text=True)
    if r.returncode not in (0, 1):
        raise SystemExit(f"investigate {case} exited {r.returncode}:\n{r.stderr}")
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    findings = sorted(
        json.dumps({k: f.get(k) for k in ("rule", "severity", "subject", "message", "cause")},
                   sort_keys=True) for f in report["findings"])

    def query(sql):
        q = subprocess.run([exe, "query", "--store", str(store), "--format", "json", sql],
                           check=True, capture_output=True, text=True)
        return json.loads(q.stdout)

    artifacts = {a["path"]: (a["kind"], a["status"])
                 for a in query("SELECT path, kind, status FROM artifact")}
    marks = {p["path"] for p in query(
        "SELECT a.path FROM problem p JOIN artifact a ON a.id = p.artifact_id "
        "WHERE p.code = 'byte-order-mark'")}
    return findings, artifacts, marks


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dbautopsy", required=True)
    ap.add_argument("--fixtures", required=True, type=Path)
    a = ap.parse_args()
    source = a.fixtures / "cases" / "django_drift"
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        original = tmp / "original"
        shutil.copytree(source, original, ignore=shutil.ignore_patterns(".dbautopsy"))
        want_findings, want_artifacts, want_marks = investigate(a.dbautopsy, original,
                                                                tmp / "work-original")
        if len(want_findings) < 10 or want_marks:
            failures.append(f"the original case gives {len(want_findings)} findings and "
                            f"marks on {sorted(want_marks)}")
        for name, encode in ENCODINGS.items():
            case = tmp / name.replace(" ", "-")
            shutil.copytree(original, case)
            rewritten = set()
            for f in sorted(case.rglob("*")):
                if not f.is_file() or f.suffix in KEEP:
                    continue
                f.write_bytes(encode(f.read_bytes().decode("utf-8")))
                rewritten.add(f.relative_to(case).as_posix())
            findings, artifacts, marks = investigate(a.dbautopsy, case,
                                                     tmp / f"work-{case.name}")
            if findings != want_findings:
                lost = [f for f in want_findings if f not in findings]
                new = [f for f in findings if f not in want_findings]
                failures.append(f"{name}: findings differ; lost {lost[:3]}, new {new[:3]}")
            if artifacts != want_artifacts:
                diff = {p: (want_artifacts.get(p), artifacts.get(p))
                        for p in set(artifacts) | set(want_artifacts)
                        if artifacts.get(p) != want_artifacts.get(p)}
                failures.append(f"{name}: artifacts differ: {diff}")
            # Every re-encoded file of a kind dbautopsy reads says so.
            read = {p for p, (kind, _) in want_artifacts.items() if kind != "unknown"}
            expected_marks = rewritten & read
            if marks != expected_marks:
                failures.append(f"{name}: byte-order-mark notices on {sorted(marks)}, expected "
                                f"{sorted(expected_marks)}")
            print(f"{name}: {len(findings)} findings, {len(marks)} files read past their mark")
    for f in failures:
        print("FAIL:", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
