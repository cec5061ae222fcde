#!/usr/bin/env bash
# Data statistics (rows, distinct rows, most repeated rows) speed and memory against the
# reference tools, in one run.
#
# Generates (once, cached in bench/out/) a plain pg_dump whose COPY section is one large
# table, public.shipments: `--rows` rows (default 60,000,000, about 5 GB), of which the
# first five sixths are distinct and the last sixth is an ETL loop that re-inserts the same
# batch of 41 rows over and over (new id and created_at each time, as a looping insert
# would). So the table has rows*5/6 distinct rows (50,000,000 by default) once the
# surrogate columns -- id (bigserial: nextval default) and created_at (default now()) --
# are left out.
#
# How the dump is made (real PostgreSQL 15 output throughout, no hand-written data): a
# throwaway cluster creates the table and sets its sequence; `pg_dump` of that table (empty)
# gives the exact header, DDL, "COPY ... FROM stdin;" line, "\." terminator, setval and the
# primary key declared after the data; the rows between "COPY" and "\." are the output of
# `COPY (SELECT ... FROM generate_series(...)) TO STDOUT` from the same server, with every
# expression cast to its column's type -- which is exactly the COPY text format pg_dump
# writes for a table holding those rows (pg_dump itself runs COPY ... TO stdout). Checked
# at 60,000 rows against INSERTing the same SELECT and running pg_dump: the same lines,
# only the \restrict key and the heap order of 3 rows differ. Spliced this way, 5 GB take
# minutes instead of the much longer INSERT + pg_dump.
#
# Then, with the file in the page cache (or evicted before every run with --cold), it times
# side by side (bench/data_speed.py):
#   wc -l DUMP                                                   the floor
#   dbautopsy ingest --store S DUMP                              time and peak RSS
#   <COPY rows> | cut -f<data columns> | sort | uniq -c | wc -l  naive dedup (LC_ALL=C)
#   psql -f DUMP (fresh database) + SELECT count(*), count(DISTINCT (<data columns>))
# and prints the medians, the ratios, and dbautopsy's answer read back from its store
# (rows, distinct rows, exact or sketch, the most repeated rows) against PostgreSQL's exact
# count.
#
# Usage: bench/data_speed.sh [--rows N] [--runs N] [--naive-runs N] [--exact-cap N]
#                            [--cold] [--skip-naive] [--dbautopsy PATH] [--port N]
#   --rows N        rows of the COPY section (default 60000000; 2000000 is a quick check)
#   --runs N        runs of wc -l and dbautopsy, alternating (default 5)
#   --naive-runs N  runs of the sort and PostgreSQL references (default 1: minutes each)
#   --exact-cap N   passed to dbautopsy ingest (default: dbautopsy's own, 2,000,000), e.g.
#                   to make a small run exercise the sketch
#   --skip-naive    only wc -l and dbautopsy (the answer is checked against the counts the
#                   dump was built with)
#   --port N        the throwaway PostgreSQL cluster's port (default $DATA_SPEED_PORT, else
#                   55481; Unix socket only)
#
# It exits non-zero when something fails to run (generation, a command, reading the answer
# back), not when a goal is missed: the goals are printed, met or NOT met.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
# The peers and floors measured here (Debian packages, installed when missing, as root).
. "$root/scripts/lib/common.sh"
ensure_packages bench
rows=60000000
runs=5
naive_runs=1
exact_cap=
extra=()
dbautopsy="$root/build/release/src/cli/dbautopsy"
port=${DATA_SPEED_PORT:-55481}
usage="usage: $0 [--rows N] [--runs N] [--naive-runs N] [--exact-cap N] [--cold] [--skip-naive] [--dbautopsy PATH] [--port N]"
while [ $# -gt 0 ]; do
  case $1 in
    --rows) rows=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --naive-runs) naive_runs=$2; shift 2 ;;
    --exact-cap) exact_cap=$2; shift 2 ;;
    --cold) extra+=(--cold); shift ;;
    --skip-naive) extra+=(--skip-naive); shift ;;
    --dbautopsy) dbautopsy=$2; shift 2 ;;
    --port) port=$2; shift 2 ;;
    *) echo "$usage" >&2; exit 2 ;;
  esac
done
[ "$rows" -ge 300 ] 2>/dev/null || { echo "--rows: at least 300" >&2; exit 2; }
[ -x "$dbautopsy" ] || { echo "build dbautopsy first (scripts/demo.sh), or pass --dbautopsy" >&2; exit 2; }
[ -n "$exact_cap" ] && extra+=(--exact-cap "$exact_cap")

distinct=$((rows * 5 / 6))
out="$here/out"
mkdir -p "$out"
dump="$out/shipments-$rows.sql"

. "$root/fixtures/generate/lib/pg_cluster.sh"

# The cluster serves the generation and the PostgreSQL reference; it is stopped on exit.
work=$(mktemp -d)
chmod 755 "$work"
trap 'pg_cluster_stop "$work" || true; rm -rf "$work"' EXIT
pg_cluster_start "$work" "$port"

if [ ! -s "$dump" ]; then
  echo "generating $rows rows ($distinct distinct) in a PostgreSQL 15 cluster..."
  pg_psql "$work" "$port" -d postgres -c "CREATE DATABASE shop"
  pg_psql "$work" "$port" -d shop >/dev/null <<SQL
CREATE TABLE public.shipments (
  id bigserial PRIMARY KEY,
  customer_id integer NOT NULL,
  order_ref text NOT NULL,
  status text NOT NULL,
  quantity integer NOT NULL,
  price numeric(10,2),
  note text,
  created_at timestamptz NOT NULL DEFAULT now()
);
SELECT pg_catalog.setval('public.shipments_id_seq', $rows, true);
SQL
  "$(pg_bin pg_dump)" -h "$work/sock" -p "$port" -U postgres -d shop -f "$work/empty.sql"
  # The empty table's COPY block is its "COPY ... FROM stdin;" line and "\." right after.
  copy_at=$(grep -n '^COPY public\.shipments (' "$work/empty.sql" | cut -d: -f1)
  [ -n "$copy_at" ] && [ "$(sed -n "$((copy_at + 1))p" "$work/empty.sql")" = '\.' ] ||
    { echo "unexpected pg_dump output: no empty COPY block for public.shipments" >&2; exit 1; }
  # Row i: for i <= distinct, record i; then the looping batch, records distinct-40..distinct
  # again and again. id and created_at are new on every row, as the sequence and now() give.
  {
    head -n "$copy_at" "$work/empty.sql"
    pg_psql "$work" "$port" -d shop <<SQL
COPY (
  SELECT i::bigint AS id,
         ((r * 7919) % 1000003)::integer AS customer_id,
         ('ORD-' || lpad(r::text, 9, '0'))::text AS order_ref,
         ((ARRAY['pending','paid','shipped','delivered','returned'])[1 + r % 5])::text AS status,
         (1 + r % 9)::integer AS quantity,
         (CASE WHEN r % 17 <> 0 THEN ((r * 37) % 100000) / 100.0 END)::numeric(10,2) AS price,
         (CASE WHEN r % 7 = 0 THEN E'leave at door\\tcall first'
               WHEN r % 11 = 0 THEN 'gift wrap, "fragile" \\ handle with care' END)::text AS note,
         (timestamptz '2025-01-01 00:00:00+00' + i * interval '3 ms'
           + (r % 1000) * interval '1 microsecond')::timestamptz AS created_at
  FROM (SELECT i, CASE WHEN i <= $distinct THEN i ELSE $distinct - 40 + (i - $distinct - 1) % 41 END AS r
        FROM generate_series(1, $rows::bigint) AS i) AS g
) TO STDOUT;
SQL
    tail -n "+$((copy_at + 1))" "$work/empty.sql"
  } >"$dump.tmp"
  mv "$dump.tmp" "$dump"
  pg_psql "$work" "$port" -d postgres -c "DROP DATABASE shop"
fi

copy_line=$(grep -n -m 1 '^COPY public\.shipments (' "$dump" | cut -d: -f1)
/usr/bin/python3 "$here/data_speed.py" --dbautopsy "$dbautopsy" --dump "$dump" \
  --table public.shipments --copy-line "$copy_line" --rows "$rows" --fields 2-7 \
  --data-columns "customer_id, order_ref, status, quantity, price, note" \
  --runs "$runs" --naive-runs "$naive_runs" \
  --psql "$(pg_bin psql)" --pg-host "$work/sock" --pg-port "$port" "${extra[@]}" |
  tee "$out/data_speed-$rows.txt"
