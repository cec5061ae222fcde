#!/usr/bin/env python3
"""Every real pg_dump file of the shared corpus ingests without a parse problem.

Ingests the whole corpus/pg_dump folder in one `dbautopsy ingest` run and checks, per file:
plain SQL dumps and custom-format archives (PostgreSQL 14 to 18, every compression) are
read to the end (status ok), and the archives of the pgdumpx set give the tables, columns
and row counts its manifest.toml states; files that are not dumps are reported as
unrecognised. The only
problems allowed are the two known constructs that PostgreSQL 15's grammar lacks
(booktown's 7.x-era CREATE LANGUAGE, pagila head-2026's PostgreSQL 18 VIRTUAL column), and
a "dump-incomplete" notice exactly for the files that carry pg_dump's header but not its
closing line -- which this script checks in the files themselves, independently.
"""
import argparse
import re
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


def manifest_fixtures(path):
    """The [[fixture]] tables of the pgdumpx manifest (the few value forms it uses)."""
    fixtures = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() == "[[fixture]]":
            fixtures.append({})
            continue
        m = re.match(r'^(\w+) = (.*)$', line)
        if m and fixtures:
            raw = m.group(2)
            if raw.startswith("["):
                value = re.findall(r'"([^"]*)"', raw)
            elif raw.startswith('"'):
                value = raw[1:-1]
            else:
                value = int(raw)
            fixtures[-1][m.group(1)] = value
    return fixtures


def check_manifest(db, artifacts, folder):
    """Each archive of the pgdumpx set has the tables, columns and rows the manifest states."""
    failures = []
    manifest = folder / "manifest.toml"
    if not manifest.exists():
        return [f"{manifest}: missing"]
    fixtures = manifest_fixtures(manifest)
    if len(fixtures) < 9:
        failures.append(f"{manifest}: {len(fixtures)} fixtures, expected at least 9")
    for f in fixtures:
        rel = f"custom_format/pgdumpx/{f['name']}.dump"
        if rel not in artifacts:
            failures.append(f"{rel}: in the manifest but not ingested")
            continue
        artifact = artifacts[rel][0]
        for table in f["expected_tables"]:
            schema, name = table.split(".", 1)
            columns = [r[0] for r in db.execute(
                "SELECT name FROM db_column WHERE artifact_id = ? AND schema_name = ? AND "
                "table_name = ? ORDER BY ordinal", (artifact, schema, name))]
            if columns != f["expected_columns"]:
                failures.append(f"{rel}: {table} has columns {columns}, the manifest says "
                                f"{f['expected_columns']}")
            rows = db.execute(
                "SELECT sum(rows) FROM table_stats WHERE artifact_id = ? AND schema_name = ? AND "
                "table_name = ?", (artifact, schema, name)).fetchone()[0]
            if rows != f["expected_row_count"]:
                failures.append(f"{rel}: {table} has {rows} rows, the manifest says "
                                f"{f['expected_row_count']}")
        version = db.execute("SELECT dumped_by FROM artifact WHERE id = ?",
                             (artifact,)).fetchone()[0] or ""
        if not version or version not in f["generator"]:
            failures.append(f"{rel}: dumped by '{version}', the manifest says {f['generator']}")
    print(f"{len(fixtures)} archives of the pgdumpx manifest checked")
    return failures


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
                want = ("pgdump-custom", "ok")
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

        failures += check_manifest(db, artifacts, corpus / "custom_format" / "pgdumpx")

        tables = db.execute("SELECT count(*) FROM db_relation WHERE kind LIKE '%table'").fetchone()[0]
        print(f"{len(files)} corpus files, {len(artifacts)} artifacts, {tables} tables recorded, "
              f"{len(problems)} problems ({len(seen_incomplete)} incomplete-dump notices)")

    for f in failures:
        print("FAIL:", f)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
