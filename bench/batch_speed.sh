#!/usr/bin/env bash
# `dbautopsy batch` throughput: 200 case folders made from the fixture cases (copies of all
# of fixtures/cases, round robin, each under a name of its own), analysed with --jobs 1 and
# then --jobs 2, each into a fresh output folder. Prints, per run: wall time, cases per
# second, and the peak RSS of the case processes (each case's investigate, from wait4's
# rusage as batch records it in OUT/timings.json): the largest and the median. Also checks
# that the two runs give byte-identical index.json files.
#
# Usage: bench/batch_speed.sh [--cases N] [--dbautopsy PATH]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
# The peers and floors measured here (Debian packages, installed when missing, as root).
. "$root/scripts/lib/common.sh"
ensure_packages bench
n=200
dbautopsy="$root/build/release/src/cli/dbautopsy"
while [ $# -gt 0 ]; do
  case $1 in
    --cases) n=$2; shift 2 ;;
    --dbautopsy) dbautopsy=$2; shift 2 ;;
    *) echo "usage: $0 [--cases N] [--dbautopsy PATH]" >&2; exit 2 ;;
  esac
done
[ -x "$dbautopsy" ] || { echo "build dbautopsy first, or pass --dbautopsy" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/cases"
fixtures=()
for d in "$root"/fixtures/cases/*/; do
  fixtures+=("$(basename "$d")")
done
for ((i = 0; i < n; i++)); do
  f=${fixtures[$((i % ${#fixtures[@]}))]}
  cp -r "$root/fixtures/cases/$f" "$work/cases/$(printf '%03d' "$i")-$f"
  rm -rf "$work/cases/$(printf '%03d' "$i")-$f/.dbautopsy"
done
echo "$n cases from ${#fixtures[@]} fixture cases, $(du -sh "$work/cases" | cut -f1) of inputs;" \
  "$(nproc) CPUs"
for jobs in 1 2; do
  start=$(date +%s.%N)
  status=0
  "$dbautopsy" batch "$work/cases" --out "$work/out$jobs" --jobs "$jobs" --quiet || status=$?
  end=$(date +%s.%N)
  [ "$status" -le 2 ] || { echo "batch failed: exit $status" >&2; exit 1; }
  /usr/bin/python3 - "$work/out$jobs" "$start" "$end" "$jobs" <<'PY'
import json, statistics, sys
out, start, end, jobs = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
t = json.load(open(f"{out}/timings.json"))
ix = json.load(open(f"{out}/index.json"))
cases = t["cases"]
wall = end - start
rss = [c["max_rss_kib"] / 1024 for c in cases]
secs = [c["seconds"] for c in cases]
print(f"--jobs {jobs}: {len(cases)} cases in {wall:.1f} s = {len(cases) / wall:.2f} cases/s; "
      f"per case {statistics.median(secs):.2f} s median, {max(secs):.2f} s max; "
      f"peak RSS per job {statistics.median(rss):.0f} MiB median, {max(rss):.0f} MiB max; "
      f"statuses {ix['totals']['status']}")
PY
done
if cmp -s "$work/out1/index.json" "$work/out2/index.json"; then
  echo "index.json of --jobs 1 and --jobs 2: identical"
else
  echo "index.json of --jobs 1 and --jobs 2 differ" >&2
  exit 1
fi
