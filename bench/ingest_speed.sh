#!/usr/bin/env bash
# Ingest speed and memory against reference tools, in one run.
#
# Generates (once, cached in bench/out/) a large plain pg_dump from a real PostgreSQL 15
# cluster -- a table of realistic event rows, most of the file COPY data -- and its gzip
# copy, then times, alternating and repeated:
#   wc -l big.sql                vs  dbautopsy ingest big.sql
#   zcat big.sql.gz | wc -l      vs  dbautopsy ingest big.sql.gz
#   sha256sum big.sql            (dbautopsy hashes every artifact; this is that floor)
# with the file in the page cache (warm) and evicted from it (cold), and prints the median
# times, the ratios and dbautopsy's peak RSS.
#
# Usage: bench/ingest_speed.sh [--rows N] [--runs N] [--dbautopsy PATH]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
rows=9000000
runs=5
dbautopsy="$root/build/release/src/cli/dbautopsy"
while [ $# -gt 0 ]; do
  case $1 in
    --rows) rows=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --dbautopsy) dbautopsy=$2; shift 2 ;;
    *) echo "usage: $0 [--rows N] [--runs N] [--dbautopsy PATH]" >&2; exit 2 ;;
  esac
done
out="$here/out"
mkdir -p "$out"
dump="$out/events-$rows.sql"

. "$root/fixtures/generate/lib/pg_cluster.sh"

if [ ! -s "$dump.gz" ]; then
  work=$(mktemp -d)
  chmod 755 "$work"
  trap 'pg_cluster_stop "$work" || true; rm -rf "$work"' EXIT
  port=55451
  echo "generating $rows rows in a PostgreSQL 15 cluster..."
  pg_cluster_start "$work" "$port"
  pg_psql "$work" "$port" -d postgres <<SQL
CREATE TABLE public.events (
  id bigserial PRIMARY KEY,
  occurred_at timestamptz NOT NULL,
  user_id integer NOT NULL,
  kind text NOT NULL,
  path text,
  user_agent text,
  amount numeric(10,2),
  note text
);
INSERT INTO public.events (occurred_at, user_id, kind, path, user_agent, amount, note)
SELECT timestamptz '2025-01-01' + g * interval '1 second',
       (g::bigint * 7919) % 100000,
       (ARRAY['view','click','purchase','signup','logout'])[1 + g % 5],
       '/products/' || (g % 5000) || '/reviews?page=' || (g % 7),
       'Mozilla/5.0 (X11; Linux x86_64) build ' || (g % 97),
       CASE WHEN g % 5 = 2 THEN ((g % 10000) / 100.0) END,
       CASE WHEN g % 11 = 0 THEN E'tab\there, quote '' and backslash \\\\ end' END
FROM generate_series(1, $rows) AS g;
SQL
  "$(pg_bin pg_dump)" -h "$work/sock" -p "$port" -U postgres -d postgres -f "$dump"
  pg_cluster_stop "$work"
  echo "compressing..."
  gzip -6 -c "$dump" > "$dump.gz.tmp"
  mv "$dump.gz.tmp" "$dump.gz"
fi
[ -s "$dump" ] || gzip -dc "$dump.gz" > "$dump"
[ -x "$dbautopsy" ] || { echo "build dbautopsy first (scripts/demo.sh), or pass --dbautopsy" >&2; exit 2; }

/usr/bin/python3 "$here/measure.py" --dbautopsy "$dbautopsy" --runs "$runs" --plain "$dump" \
  --gzip "$dump.gz" | tee "$out/ingest_speed.txt"
