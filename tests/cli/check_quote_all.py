#!/usr/bin/env python3
"""pg_dump --quote-all-identifiers gives the facts of a plain pg_dump.

fixtures/pgdump/kitchen_sink.quoteall.sql and kitchen_sink.full.sql are two dumps of the
same database by one real pg_dump 15 (fixtures/generate/kitchen_sink.sh), the first with
--quote-all-identifiers (pgAdmin's "Quote all identifiers"), which quotes every name in
every default, index, constraint and view it writes ("now"(), '"public"."s"'::"regclass").
Both are ingested; every column (type, nullability, default, generated expression), index
(columns, INCLUDE, predicate, definition), constraint (columns, reference, definition) and
relation (kind, definition) must be the same: a faked migration must not be told from a
real one by how the dump quoted its names.

Usage: check_quote_all.py --dbautopsy PATH --fixtures DIR
"""
import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

QUERIES = {
    "columns": "SELECT schema_name, table_name, name, type, not_null, default_expr, "
               "generated_expr FROM db_column ORDER BY 1, 2, 3",
    "indexes": "SELECT schema_name, table_name, name, is_unique, columns, include_columns, "
               "predicate, definition FROM db_index ORDER BY 1, 2, 3",
    "constraints": "SELECT schema_name, table_name, name, kind, columns, ref_schema, ref_table, "
                   "definition FROM db_constraint ORDER BY 1, 2, 3",
    "relations": "SELECT schema_name, name, kind, definition FROM db_relation ORDER BY 1, 2",
}


def facts(exe, dump, store):
    subprocess.run([exe, "ingest", "--store", str(store), str(dump)], check=True,
                   stdout=subprocess.DEVNULL)
    out = {}
    for name, sql in QUERIES.items():
        r = subprocess.run([exe, "query", "--store", str(store), "--format", "json", sql],
                           check=True, capture_output=True, text=True)
        out[name] = json.loads(r.stdout)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dbautopsy", required=True)
    ap.add_argument("--fixtures", required=True, type=Path)
    a = ap.parse_args()
    pg = a.fixtures / "pgdump"
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        plain = facts(a.dbautopsy, pg / "kitchen_sink.full.sql", Path(tmp) / "plain.db")
        quoted = facts(a.dbautopsy, pg / "kitchen_sink.quoteall.sql", Path(tmp) / "quoted.db")
    raw = (pg / "kitchen_sink.quoteall.sql").read_text(encoding="utf-8")
    if '"now"()' not in raw or '::"regclass"' not in raw:
        failures.append("kitchen_sink.quoteall.sql does not quote every name")
    for name in QUERIES:
        if not plain[name]:
            failures.append(f"no {name} in the plain dump")
        for p, q in zip(plain[name], quoted[name]):
            if p != q:
                failures.append(f"{name}: {json.dumps(q)}\n   plain: {json.dumps(p)}")
        if len(plain[name]) != len(quoted[name]):
            failures.append(f"{name}: {len(quoted[name])} rows, the plain dump {len(plain[name])}")
    for f in failures[:40]:
        print("FAIL " + f)
    if failures:
        print(f"{len(failures)} differences")
        return 1
    print("ok   " + ", ".join(f"{len(plain[n])} {n}" for n in QUERIES) + ": the same facts")
    return 0


if __name__ == "__main__":
    sys.exit(main())
