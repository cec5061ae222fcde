#!/usr/bin/env python3
"""Every form pg_dump writes one database in gives the same facts.

fixtures/pgdump/kitchen_sink.* are dumps of one database by one real pg_dump 15
(fixtures/generate/kitchen_sink.sh). Each is ingested and compared with the plain dump
(kitchen_sink.full.sql):

  - kitchen_sink.quoteall.sql, --quote-all-identifiers (pgAdmin's "Quote all identifiers"),
    which quotes every name in every default, index, constraint and view it writes
    ("now"(), '"public"."s"'::"regclass"): every column (type, nullability, default,
    generated expression), index (columns, INCLUDE, predicate, definition), constraint
    (columns, reference, definition) and relation (kind, definition) must be the same: a
    faked migration must not be told from a real one by how the dump quoted its names;
  - kitchen_sink.inserts.sql, --inserts --rows-per-insert=3: the same, and the same tables
    with the same row counts in table_stats. An empty table has no INSERT (a COPY dump
    writes an empty COPY); it counts by the comment pg_dump writes above its TOC entry, with
    0 rows;
  - the custom, tar and directory archives: the same facts and row counts.

Usage: check_dump_forms.py --dbautopsy PATH --fixtures DIR
"""
import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

SCHEMA = {
    "columns": "SELECT schema_name, table_name, name, type, not_null, default_expr, "
               "generated_expr FROM db_column ORDER BY 1, 2, 3",
    "indexes": "SELECT schema_name, table_name, name, is_unique, columns, include_columns, "
               "predicate, definition FROM db_index ORDER BY 1, 2, 3",
    "constraints": "SELECT schema_name, table_name, name, kind, columns, ref_schema, ref_table, "
                   "definition FROM db_constraint ORDER BY 1, 2, 3",
    "relations": "SELECT schema_name, name, kind, definition FROM db_relation ORDER BY 1, 2",
    "sequences": "SELECT schema_name, name, owned_by_table, owned_by_column, last_value "
                 "FROM db_sequence ORDER BY 1, 2",
}
DATA = {
    "table rows": "SELECT schema_name, table_name, sum(rows) AS rows FROM table_stats "
                  "GROUP BY 1, 2 ORDER BY 1, 2",
}
# form -> (file, what it must agree on)
FORMS = {
    "--quote-all-identifiers": ("kitchen_sink.quoteall.sql", SCHEMA),
    "--inserts": ("kitchen_sink.inserts.sql", SCHEMA | DATA),
    "custom archive": ("kitchen_sink.custom.dump", SCHEMA | DATA),
    "tar archive": ("kitchen_sink.tar", SCHEMA | DATA),
    "directory archive": ("kitchen_sink.dir", SCHEMA | DATA),
}


def facts(exe, dump, store, queries):
    subprocess.run([exe, "ingest", "--store", str(store), str(dump)], check=True,
                   stdout=subprocess.DEVNULL)
    out = {}
    for name, sql in queries.items():
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
    raw = (pg / "kitchen_sink.quoteall.sql").read_text(encoding="utf-8")
    if '"now"()' not in raw or '::"regclass"' not in raw:
        failures.append("kitchen_sink.quoteall.sql does not quote every name")
    with tempfile.TemporaryDirectory() as tmp:
        plain = facts(a.dbautopsy, pg / "kitchen_sink.full.sql", Path(tmp) / "plain.db",
                      SCHEMA | DATA)
        if not any(r["rows"] == 0 for r in plain["table rows"]):
            failures.append("the plain dump has no empty table: the --inserts check needs one")
        for name in plain:
            if not plain[name]:
                failures.append(f"no {name} in the plain dump")
        for n, (form, (file, queries)) in enumerate(FORMS.items()):
            other = facts(a.dbautopsy, pg / file, Path(tmp) / f"{n}.db", queries)
            for name in queries:
                for p, q in zip(plain[name], other[name]):
                    if p != q:
                        failures.append(f"{form}: {name}: {json.dumps(q)}\n"
                                        f"   plain: {json.dumps(p)}")
                if len(plain[name]) != len(other[name]):
                    failures.append(f"{form}: {name}: {len(other[name])} rows, the plain dump "
                                    f"{len(plain[name])}")
            if not any(f.startswith(form + ":") for f in failures):
                print(f"ok   {form} ({file}): the same " + ", ".join(queries))
    for f in failures[:40]:
        print("FAIL " + f)
    if failures:
        print(f"{len(failures)} differences")
        return 1
    print("ok   " + ", ".join(f"{len(plain[n])} {n}" for n in plain) + ": the same facts")
    return 0


if __name__ == "__main__":
    sys.exit(main())
