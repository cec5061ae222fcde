#!/usr/bin/env bash
# scripts/fuzz.sh [SECONDS] [TARGET...]
#
# Builds the fuzz targets of tests/fuzz with clang, libFuzzer, AddressSanitizer and
# UndefinedBehaviorSanitizer (build/fuzz), then runs each target (all of them, or the ones
# named) for SECONDS (default 60) one after the other. Each starts from its committed seeds
# (tests/fuzz/corpus/<target>/), the fixtures and the shared corpus of real files, and its
# dictionary (tests/fuzz/dict/); the inputs it finds that add coverage are kept in
# build/fuzz/runs/corpus/<target>/ (or $DBAUTOPSY_FUZZ_WORK) for the next run, crashes in
# build/fuzz/runs/crashes/<target>/. Exits non-zero when any target crashed, leaked, timed
# out (10 s for one input, or $DBAUTOPSY_FUZZ_TIMEOUT: a long campaign run at low priority
# beside other work needs more) or went past 2048 MB. The last line sums up:
#   N targets, M execs, K crashes
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"
cd "$DBAUTOPSY_ROOT"

seconds=${1:-60}
shift || true
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [ "$seconds" -eq 0 ]; then
  echo "usage: scripts/fuzz.sh [SECONDS] [TARGET...] (SECONDS: a whole number above 0)" >&2
  exit 2
fi

dir=build/fuzz
launcher=()
if command -v ccache >/dev/null; then
  launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
if [ -z "${DBAUTOPSY_FUZZ_NO_BUILD:-}" ]; then
echo "== fuzz build (clang, libFuzzer, ASan + UBSan) in $dir"
cmake -S . -B "$dir" -G Ninja -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only" \
  -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only" \
  -DDBAUTOPSY_FUZZ=ON -DDBAUTOPSY_TESTS=OFF -DDBAUTOPSY_WERROR=OFF "${launcher[@]}" >/dev/null
ninja -C "$dir" -j "${DBAUTOPSY_BUILD_JOBS:-$(nproc)}"
fi

if [ $# -gt 0 ]; then
  targets=("$@")
else
  mapfile -t targets <"$dir/fuzz_targets.txt"
fi

# The shared corpus of real third-party files, when there is one.
corpus_root=${DBAUTOPSY_CORPUS:-$(/usr/bin/python3 tests/lib/locate.py 2>/dev/null || true)}
work=${DBAUTOPSY_FUZZ_WORK:-$dir/runs}
mkdir -p "$work"
work=$(cd "$work" && pwd)

# seeds TARGET: the files (of the fixtures and the shared corpus) that seed TARGET beside its
# committed seeds, as paths from the repository root or the corpus root ($C/...).
seeds() {
  local C=$corpus_root
  small() { find "$@" -type f -size -2M 2>/dev/null; }
  case $1 in
    archive_custom) ls fixtures/pgdump/*.dump; small "$C"/pg_dump -name '*.dump' -o -name '*.pgdump' ;;
    archive_tar) ls fixtures/pgdump/*.tar; small "$C"/pg_dump -name '*.tar' ;;
    archive_directory | bundle) ;;  # the committed seeds only
    pgdump_sql | table_stats | script_lexer)
      ls fixtures/pgdump/*.sql fixtures/dumpall/*.sql fixtures/django_inputs/malformed/*.sql
      small "$C"/pg_dump "$C"/django_migrations/django_migrations_table_exports -name '*.sql' ;;
    compressed) ls fixtures/io/* fixtures/pgdump/*.gz fixtures/pgdump/*.bz2 fixtures/pgdump/*.xz \
      fixtures/pgdump/*.zst fixtures/django_inputs/records/*.gz; small "$C"/pg_logs -name '*.gz' ;;
    records_csv) ls fixtures/django_inputs/records/*.csv fixtures/django_inputs/records/*.txt \
      fixtures/django_inputs/malformed/*.csv ;;
    records_json) ls fixtures/django_inputs/records/*.json fixtures/django_inputs/malformed/*.json
      small "$C"/django_migrations -name '*.json' ;;
    records_psql) ls fixtures/django_inputs/records/*psql* fixtures/django_inputs/malformed/*psql* ;;
    showmigrations) ls fixtures/django_inputs/showmigrations/* fixtures/django_inputs/malformed/showmigrations* ;;
    sqlmigrate) ls fixtures/django_inputs/sqlmigrate_flat/*; small fixtures/django_inputs/malformed/sqlmigrate ;;
    python_migration) small fixtures "$C"/django_migrations -name '*.py' -size -64k ;;
    pg_stderr | pg_csvlog | pg_jsonlog) ls fixtures/logs/pg_stderr/* fixtures/logs/formats/* \
      fixtures/logs/prefixes/prefix-*
      small "$C"/pg_logs ! -name '*.gz' ;;
    app_python_log | app_jsonl_log) small fixtures/logs/app "$C"/etl_logs ;;
    rule_header) ls rules/*/*.sql ;;
  esac 2>/dev/null || true
}

dict_of() {
  case $1 in
    archive_* | compressed | bundle) echo tests/fuzz/dict/archive.dict ;;
    pgdump_sql | table_stats | script_lexer | sqlmigrate | rule_header) echo tests/fuzz/dict/sql.dict ;;
    python_migration) echo tests/fuzz/dict/python.dict ;;
    pg_* | app_* | user_log_format) echo tests/fuzz/dict/log.dict ;;
    records_* | showmigrations | copy_decode) echo tests/fuzz/dict/records.dict ;;
  esac
}

total_execs=0
total_crashes=0
failed=0
for t in "${targets[@]}"; do
  bin=$dir/tests/fuzz/fuzz_$t
  if [ ! -x "$bin" ]; then
    echo "error: no fuzz target $t (the targets are tests/fuzz/targets/*.cpp)" >&2
    exit 2
  fi
  mkdir -p "$work/corpus/$t" "$work/crashes/$t" "$work/seeds/$t" "$work/logs"
  while read -r f; do
    [ -f "$f" ] && cp -f "$f" "$work/seeds/$t/$(echo "$f" | tr '/' '_')"
  done < <(seeds "$t")
  # Inputs longer than this are cut (seeds too): long enough for several log entries or
  # statements, short enough for many runs a second.
  max_len=32768
  case $t in archive_* | compressed | bundle) max_len=131072 ;; esac
  args=(-max_total_time="$seconds" -rss_limit_mb=2048 -timeout="${DBAUTOPSY_FUZZ_TIMEOUT:-10}" -max_len=$max_len
        -print_final_stats=1 -artifact_prefix="$work/crashes/$t/")
  d=$(dict_of "$t")
  if [ -n "$d" ]; then
    args+=(-dict="$PWD/$d")
  fi
  log=$work/logs/$t.log
  touch "$log.start"
  set +e
  (cd "$work/crashes/$t" && "$OLDPWD/$bin" "${args[@]}" "$work/corpus/$t" \
    "$OLDPWD/tests/fuzz/corpus/$t" "$work/seeds/$t") >"$log" 2>&1
  rc=$?
  set -e
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1 || true)
  cov=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$log" | tail -1 || true)
  crashes=$(find "$work/crashes/$t" -maxdepth 1 -type f \
    \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) -newer "$log.start" 2>/dev/null | wc -l)
  if [ "$rc" -ne 0 ] && [ "$crashes" -eq 0 ]; then
    crashes=1
  fi
  total_execs=$((total_execs + ${execs:-0}))
  total_crashes=$((total_crashes + crashes))
  if [ "$rc" -ne 0 ]; then
    failed=1
    echo "$t: FAILED (exit $rc), ${execs:-0} execs, ${cov:-no coverage}; see $log"
    grep -m3 -E 'ERROR: |runtime error|SUMMARY' "$log" || true
  else
    echo "$t: ${execs:-0} execs, ${cov:-no coverage}, $(ls "$work/corpus/$t" | wc -l) corpus entries kept"
  fi
done
echo "${#targets[@]} targets, $total_execs execs, $total_crashes crashes"
exit $failed
