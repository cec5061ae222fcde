#!/usr/bin/env bash
# Dump ingestion against its physical floors, in one run (bench/floors.py).
#
# Generates (once, cached in bench/out/) a plain pg_dump from a real PostgreSQL 15
# cluster -- one table of realistic event rows, most of the file COPY data; 5,150,000 rows
# make about 640 MB -- and its copies made by the codecs' own tools (gzip -1, zstd -3,
# xz -1, lbzip2 -9), then prints, best of --runs alternating runs with the page cache warm:
#   dbautopsy ingest big.sql        vs  openssl dgst -sha256 big.sql   goal <= 1.15x
#   dbautopsy ingest big.sql.gz     vs  igzip -dc big.sql.gz           goal <= 1.2x
#   dbautopsy ingest big.sql.zst    vs  zstd -dc                       goal <= 1.1x
#   dbautopsy ingest big.sql.xz     vs  xz -dc                         goal <= 1.1x
#   dbautopsy ingest big.sql.bz2    vs  lbzip2 -dc                     goal <= 1.1x
#   dbautopsy investigate big.sql   vs  dbautopsy ingest big.sql       goal <= 1.1x
#   awk | sort | uniq -c of the COPY rows vs investigate               goal >= 10x faster
# with wall and CPU seconds, each ratio against its goal (met / NOT met), dbautopsy's peak
# RSS, and whether every fast path's facts (table_stats, db_relation) equal the plain
# ingest's: a difference makes it exit 1. igzip is Debian's `isal`, lbzip2 its `lbzip2`.
#
# Usage: bench/ingest_speed.sh [--rows N] [--runs N] [--codecs "gzip zstd xz bzip2"]
#                              [--dbautopsy PATH] [--port N]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
# The peers and floors measured here (Debian packages, installed when missing, as root).
. "$root/scripts/lib/common.sh"
ensure_packages bench
rows=5150000
runs=3
codecs="gzip zstd xz bzip2"
port=${INGEST_SPEED_PORT:-55451}
dbautopsy="$root/build/release/src/cli/dbautopsy"
while [ $# -gt 0 ]; do
  case $1 in
    --rows) rows=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --codecs) codecs=$2; shift 2 ;;
    --dbautopsy) dbautopsy=$2; shift 2 ;;
    --port) port=$2; shift 2 ;;
    *) echo "usage: $0 [--rows N] [--runs N] [--codecs LIST] [--dbautopsy PATH] [--port N]" >&2
       exit 2 ;;
  esac
done
out="$here/out"
mkdir -p "$out"
dump="$out/events-$rows.sql"

. "$root/fixtures/generate/lib/pg_cluster.sh"

if [ ! -s "$dump" ]; then
  work=$(mktemp -d)
  chmod 755 "$work"
  trap 'pg_cluster_stop "$work" || true; rm -rf "$work"' EXIT
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
  "$(pg_bin pg_dump)" -h "$work/sock" -p "$port" -U postgres -d postgres -f "$dump.tmp"
  mv "$dump.tmp" "$dump"
  pg_cluster_stop "$work"
fi
[ -x "$dbautopsy" ] || { echo "build dbautopsy first (scripts/demo.sh), or pass --dbautopsy" >&2; exit 2; }

copies=()
for codec in $codecs; do
  case $codec in
    gzip) ext=gz; make=(gzip -1 -c) ;;
    zstd) ext=zst; make=(zstd -3 -q -c) ;;
    xz) ext=xz; make=(xz -1 -T2 -c) ;;
    bzip2) ext=bz2; make=(lbzip2 -9 -c) ;;
    *) echo "--codecs: gzip, zstd, xz or bzip2, not $codec" >&2; exit 2 ;;
  esac
  if [ ! -s "$dump.$ext" ]; then
    echo "compressing with ${make[*]}..."
    "${make[@]}" "$dump" >"$dump.$ext.tmp"
    mv "$dump.$ext.tmp" "$dump.$ext"
  fi
  copies+=("--$codec" "$dump.$ext")
done

/usr/bin/python3 "$here/floors.py" --dbautopsy "$dbautopsy" --runs "$runs" --plain "$dump" \
  "${copies[@]}" | tee "$out/ingest_speed-$rows.txt"
