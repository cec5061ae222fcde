#!/usr/bin/python3
"""`dbautopsy ingest` of pg_dump archives, as a user runs it.

  * Each archive of fixtures/pgdump (custom, tar, directory) is recognised as its kind and
    read (status ok); the kitchen-sink archives hold the schema objects of the plain dump
    kitchen_sink.full.sql (the same kitchen_sink.sql loaded into PostgreSQL 15).
  * An archive cut short is partial: the error names the file and the byte offset where
    the archive ends, and the objects read before the cut stay in the store.
  * A file with "PGDMP" and a version no pg_dump wrote fails with that said.
"""
import argparse
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

SCHEMA_FACTS = {
    "db_relation": "schema_name, name, kind",
    "db_column": "schema_name, table_name, name, type, not_null",
    "db_index": "schema_name, table_name, name",
    "db_constraint": "schema_name, table_name, name, kind",
    "db_sequence": "schema_name, name",
}


def ingest(dbautopsy, store, *paths):
    return subprocess.run([dbautopsy, "ingest", "--store", str(store)] + [str(p) for p in paths],
                          capture_output=True, text=True)


def schema_facts(db, artifact):
    out = set()
    for table, columns in SCHEMA_FACTS.items():
        for row in db.execute(f"SELECT {columns} FROM {table} WHERE artifact_id = ?",
                              (artifact,)):
            out.add((table,) + tuple(row))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dbautopsy", required=True)
    ap.add_argument("--root", required=True)
    args = ap.parse_args()
    fixtures = Path(args.root) / "fixtures" / "pgdump"
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        store = tmp / "facts.db"
        kinds = {"kitchen_sink.custom.dump": "pgdump-custom", "kitchen_sink.tar": "pgdump-tar",
                 "kitchen_sink.dir": "pgdump-dir", "large_objects.custom.dump": "pgdump-custom",
                 "large_objects.piped.dump": "pgdump-custom", "large_objects.tar": "pgdump-tar",
                 "large_objects.dir": "pgdump-dir"}
        run = ingest(args.dbautopsy, store, fixtures / "kitchen_sink.full.sql",
                     *[fixtures / name for name in kinds])
        if run.returncode != 0:
            failures.append(f"ingest exited {run.returncode}: {run.stderr.strip()}")
        db = sqlite3.connect(store)
        artifacts = {Path(p).name: (i, k, s, d) for i, p, k, s, d in db.execute(
            "SELECT id, path, kind, status, status_detail FROM artifact")}
        plain = schema_facts(db, artifacts["kitchen_sink.full.sql"][0])
        if len(plain) < 200:
            failures.append(f"kitchen_sink.full.sql: only {len(plain)} schema facts")
        for name, kind in kinds.items():
            got = artifacts.get(name)
            if got is None or got[1:3] != (kind, "ok"):
                failures.append(f"{name}: {got and got[1:]}, expected {kind}/ok")
                continue
            if name.startswith("kitchen_sink"):
                mine = schema_facts(db, got[0])
                if mine != plain:
                    failures.append(f"{name}: {len(mine - plain)} schema facts the plain dump "
                                    f"lacks, {len(plain - mine)} it has and the archive not: "
                                    f"{sorted(mine ^ plain)[:5]}")
            print(f"{name}: {got[1]} {got[2]}: {got[3]}")

        # Cut short in the middle of the TOC.
        full = (fixtures / "kitchen_sink.custom.dump").read_bytes()
        cut = tmp / "cut.dump"
        cut.write_bytes(full[: len(full) // 2])
        store2 = tmp / "cut.db"
        run = ingest(args.dbautopsy, store2, cut)
        db2 = sqlite3.connect(store2)
        status, detail = db2.execute("SELECT status, status_detail FROM artifact").fetchone()
        where = f"the archive ends at byte {len(full) // 2}"
        if status != "partial" or where not in detail:
            failures.append(f"cut.dump: {status}: {detail}; expected partial, '{where}'")
        if "cut.dump" not in run.stderr or where not in run.stderr:
            failures.append(f"cut.dump: stderr does not name the file and the byte: {run.stderr}")
        relations = db2.execute("SELECT count(*) FROM db_relation").fetchone()[0]
        if relations == 0:
            failures.append("cut.dump: the relations before the cut were not kept")
        offset = db2.execute("SELECT byte_offset, in_file FROM problem WHERE severity = 'error'"
                             ).fetchall()
        if offset != [(len(full) // 2, 1)]:
            failures.append(f"cut.dump: error problems at {offset}, expected one at byte "
                            f"{len(full) // 2} of the file")
        print(f"cut.dump: {status}: {detail} ({relations} relations kept)")

        # A version no pg_dump wrote.
        bad = tmp / "future.dump"
        bad.write_bytes(full[:5] + bytes([1, 17, 0]) + full[8:])
        run = ingest(args.dbautopsy, tmp / "future.db", bad)
        if "newer than dbautopsy knows" not in run.stderr or "future.dump" not in run.stderr:
            failures.append(f"future.dump: {run.stderr.strip()}")
        print(run.stderr.strip())

    for f in failures:
        print("FAIL:", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
