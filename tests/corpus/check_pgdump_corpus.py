#!/usr/bin/env python3
"""Every real pg_dump file of the shared corpus ingests without a parse problem.

Ingests the whole corpus/pg_dump folder in one `dbautopsy ingest` run and checks, per file:
plain SQL dumps are read to the end (status ok); custom-format archives are recognised and
listed as not analysed; files that are not dumps are reported as unrecognised. The only
problems allowed are the two known constructs that PostgreSQL 15's grammar lacks
(booktown's 7.x-era CREATE LANGUAGE, pagila head-2026's PostgreSQL 18 VIRTUAL column), and
a "dump-incomplete" notice exactly for the files that carry pg_dump's header but not its
closing line -- which this script checks in the files themselves, independently.
"""
import argparse
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))
from locate import corpus_dir  # noqa: E402

KNOWN_OTHER_VERSION = {
    ("booktown/booktown.sql", 59): "7.x",
    ("pagila/head-2026/pagila-schema.sql", 438): "PostgreSQL 18",
}


def expected_incomplete(path):
    """Has pg_dump's opening line but not its closing one (read the file, not the tool)."""
    text = path.read_text(encoding="utf-8", errors="replace")
    lines = [l.strip() for l in text.splitlines()]
    opened = "-- PostgreSQL database dump" in lines or "-- PostgreSQL database cluster dump" in lines
    closed = ("-- PostgreSQL database dump complete" in lines
              or "-- PostgreSQL database cluster dump complete" in lines)
    return opened and not closed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dbautopsy", required=True)
    ap.add_argument("--root", required=True)
    args = ap.parse_args()
    corpus = corpus_dir(args.root) / "pg_dump"
    failures = []

    with tempfile.TemporaryDirectory() as tmp:
        store = Path(tmp) / "facts.db"
        run = subprocess.run([args.dbautopsy, "ingest", "--store", str(store), str(corpus)],
                             capture_output=True, text=True)
        if run.returncode not in (0, 2):
            print(run.stdout, run.stderr)
            sys.exit(f"dbautopsy ingest crashed with status {run.returncode}")
        db = sqlite3.connect(store)
        artifacts = {Path(p).resolve().relative_to(corpus.resolve()).as_posix(): (i, k, s)
                     for i, p, k, s in db.execute("SELECT id, path, kind, status FROM artifact")}
        files = sorted(p.relative_to(corpus).as_posix() for p in corpus.rglob("*") if p.is_file())
        for rel in files:
            if rel not in artifacts:
                failures.append(f"{rel}: not ingested")
                continue
            _, kind, status = artifacts[rel]
            if rel.endswith((".dump", ".pgdump")):
                want = ("pgdump-custom", "unsupported")
            elif rel.endswith(".sql"):
                want = ("pgdump-sql", "ok")
            else:
                want = ("unknown", "failed")
            if (kind, status) != want:
                failures.append(f"{rel}: {kind}/{status}, expected {want[0]}/{want[1]}")

        problems = db.execute(
            "SELECT a.path, p.line, p.severity, p.code, p.message FROM problem p "
            "JOIN artifact a ON a.id = p.artifact_id ORDER BY a.path, p.line").fetchall()
        seen_other = set()
        seen_incomplete = set()
        for path, line, severity, code, message in problems:
            rel = Path(path).resolve().relative_to(corpus.resolve()).as_posix()
            if code == "other-version-syntax" and (rel, line) in KNOWN_OTHER_VERSION:
                if KNOWN_OTHER_VERSION[(rel, line)] not in message:
                    failures.append(f"{rel}:{line}: explanation lacks "
                                    f"'{KNOWN_OTHER_VERSION[(rel, line)]}': {message}")
                seen_other.add((rel, line))
            elif code == "dump-incomplete" and severity == "notice":
                seen_incomplete.add(rel)
            else:
                failures.append(f"{rel}:{line}: unexpected {severity} [{code}] {message}")
        for key in KNOWN_OTHER_VERSION:
            if key not in seen_other:
                failures.append(f"{key[0]}:{key[1]}: the known other-version construct was not "
                                "reported")
        want_incomplete = {rel for rel in files if rel.endswith(".sql")
                           and expected_incomplete(corpus / rel)}
        for rel in sorted(want_incomplete - seen_incomplete):
            failures.append(f"{rel}: lacks pg_dump's closing line but no notice says so")
        for rel in sorted(seen_incomplete - want_incomplete):
            failures.append(f"{rel}: notice says incomplete, but the file has its closing line")

        tables = db.execute("SELECT count(*) FROM db_relation WHERE kind LIKE '%table'").fetchone()[0]
        print(f"{len(files)} corpus files, {len(artifacts)} artifacts, {tables} tables recorded, "
              f"{len(problems)} problems ({len(seen_incomplete)} incomplete-dump notices)")

    for f in failures:
        print("FAIL:", f)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
