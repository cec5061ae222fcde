#!/usr/bin/env bash
# Ingest time and peak RSS against dump size (about 0.1, 1 and 5 GB), plotted into
# docs/ingest-scaling.png (bench/ingest_scaling.py, python3-matplotlib).
#
# The dumps are bench/data_speed.sh's (real PostgreSQL 15 output: a pg_dump whose COPY
# section is one table, public.shipments, of 1.2, 12 and 60 million rows); it makes the
# missing ones first (--skip-naive: no reference timing).
#
# Usage: bench/ingest_scaling.sh [--runs N] [--rows "1200000 12000000 60000000"]
#                                [--dbautopsy PATH] [--port N] [--png PATH]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
# The peers and floors measured here (Debian packages, installed when missing, as root).
. "$root/scripts/lib/common.sh"
ensure_packages bench
runs=3
sizes="1200000 12000000 60000000"
port=${INGEST_SCALING_PORT:-55452}
png="$root/docs/ingest-scaling.png"
dbautopsy="$root/build/release/src/cli/dbautopsy"
while [ $# -gt 0 ]; do
  case $1 in
    --runs) runs=$2; shift 2 ;;
    --rows) sizes=$2; shift 2 ;;
    --dbautopsy) dbautopsy=$2; shift 2 ;;
    --port) port=$2; shift 2 ;;
    --png) png=$2; shift 2 ;;
    *) echo "usage: $0 [--runs N] [--rows LIST] [--dbautopsy PATH] [--port N] [--png PATH]" >&2
       exit 2 ;;
  esac
done
[ -x "$dbautopsy" ] || { echo "build dbautopsy first (scripts/demo.sh), or pass --dbautopsy" >&2; exit 2; }
dumps=()
for rows in $sizes; do
  dump="$here/out/shipments-$rows.sql"
  if [ ! -s "$dump" ]; then
    "$here/data_speed.sh" --rows "$rows" --runs 1 --skip-naive --dbautopsy "$dbautopsy" \
      --port "$port"
  fi
  dumps+=("$dump")
done
/usr/bin/python3 "$here/ingest_scaling.py" --dbautopsy "$dbautopsy" --runs "$runs" --png "$png" \
  "${dumps[@]}" | tee "$here/out/ingest_scaling.txt"
