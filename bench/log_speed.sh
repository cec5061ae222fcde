#!/usr/bin/env bash
# PostgreSQL log reading speed and memory against reference tools, in one run.
#
# Builds (in a temporary folder, removed at the end) two logs of at least --gb GiB each from
# real entries:
#   a stderr log: the entries of fixtures/logs/pg_stderr (a real PostgreSQL 15 run: errors of
#     every kind, DETAIL/HINT/CONTEXT, multi-line statements) and of corpus pgBadger logs
#     (pgbench statements with durations, temporary files, autovacuum reports), all written
#     with one log_line_prefix and times that move forward;
#   a csvlog: the records of fixtures/logs/formats/formats.csv (a real PostgreSQL 15 csvlog:
#     errors of every kind, multi-line statements, non-ASCII text) and of the corpus
#     elastic-beats csvlogs (PostgreSQL 11 and 13, given the 26-field layout's two empty last
#     fields), each as the server wrote it, with times that move forward.
# Then measures on each file:
#   wc -l                                 the floor: reading the lines
#   dbautopsy ingest (into a fresh store)   time and peak RSS (/usr/bin/time -v)
#   dbautopsy investigate                 the whole job (ingest, rules, report) on a folder
#                                         holding the log
#   pgbadger -j 1 and -j 2                what DBAs run on these logs (Debian's pgbadger;
#                                         -f csv for the csvlog)
#   lnav -n -c ';SELECT count(*) FROM all_logs'   headless lnav
# and prints the wall and CPU (user + system) times, the ratios and the peak RSS. Each tool
# runs once, with the file in the page cache. On a shared machine the CPU times are the
# figures to compare; wall times then include the waits for a core.
#
# --reference PATH: another dbautopsy (e.g. a build of the previous commit) also ingests each
# file, and the bench checks that both stores hold the same facts: per template and severity
# the count, first and last time, the summed sizes of message, detail and statement, the
# formats, and the entities (kind, name, value, count) other than the ids and counts of
# PostgreSQL's routine LOG entries, which a store since schema 8 keeps for counts of rows only.
#
# --logs DIR: build the logs in DIR (postgresql.log, postgresql.csv) and keep them; a later run
# with the same DIR reuses the logs found there instead of building them again (to profile, or
# to compare two builds on the same files).
#
# Usage: bench/log_speed.sh [--gb N] [--dbautopsy PATH] [--reference PATH] [--skip-pgbadger]
#                           [--skip-lnav] [--only stderr|csv] [--logs DIR]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
# The peers and floors measured here (Debian packages, installed when missing, as root).
. "$root/scripts/lib/common.sh"
ensure_packages bench
gb=2
dbautopsy="$root/build/release/src/cli/dbautopsy"
reference=
only=
skip_pgbadger=0
skip_lnav=0
logs=
while [ $# -gt 0 ]; do
  case $1 in
    --gb) gb=$2; shift 2 ;;
    --dbautopsy) dbautopsy=$2; shift 2 ;;
    --reference) reference=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    --skip-pgbadger) skip_pgbadger=1; shift ;;
    --skip-lnav) skip_lnav=1; shift ;;
    --logs) logs=$2; shift 2 ;;
    *) echo "usage: $0 [--gb N] [--dbautopsy PATH] [--reference PATH] [--skip-pgbadger]" \
            "[--skip-lnav] [--only stderr|csv] [--logs DIR]" >&2; exit 2 ;;
  esac
done
[ -x "$dbautopsy" ] || { echo "build dbautopsy first, or pass --dbautopsy" >&2; exit 2; }
corpus=$(/usr/bin/python3 "$root/tests/lib/locate.py")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
log="$work/postgresql.log"
csvlog="$work/postgresql.csv"
if [ -n "$logs" ]; then
  mkdir -p "$logs"
  logs=$(cd "$logs" && pwd)
  log="$logs/postgresql.log"
  csvlog="$logs/postgresql.csv"
fi
prefix='%m [%p]: [%l-1] user=%u,db=%d,app=%a,client=%h,e=%e '

if [ "$only" != csv ] && [ -s "$log" ] && [ -n "$logs" ]; then
  echo "reusing $log"
elif [ "$only" != csv ]; then
echo "building a ${gb} GiB stderr log from real entries..."
/usr/bin/python3 - "$root/fixtures/logs/pg_stderr/postgresql.log" "$corpus/pg_logs" "$log.part" "$gb" <<'PY'
import bz2, gzip, re, sys
from datetime import datetime, timedelta

fixture, corpus, out, gb = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
# An entry: its header fields and its body (SEVERITY:  message and the lines after it).
head = re.compile(r"^(?:\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)? \S+) \[(\d+)\]: \[\d+-\d+\] "
                  r"user=([^,]*),db=([^,]*),(?:app=(.*?),client=([^,]*?)|host=([^,]*),app=(.*?))"
                  r"(?:,e=(\w{5}))? ((?:LOG|ERROR|WARNING|FATAL|DETAIL|HINT|CONTEXT|STATEMENT|"
                  r"QUERY|LOCATION):  .*)$")
entries = []
def take(lines):
    cur = None
    for line in lines:
        m = head.match(line)
        if m:
            pid, user, db = m.group(1), m.group(2), m.group(3)
            app = m.group(4) if m.group(4) is not None else m.group(7)
            client = m.group(5) if m.group(5) is not None else m.group(6)
            state = m.group(8) or ("00000" if m.group(9).startswith("LOG") else "XX000")
            body = m.group(9)
            if body.split(":")[0] in ("LOG", "ERROR", "WARNING", "FATAL"):
                cur = [pid, user, db, app or "", client or "", state, [body]]
                entries.append(cur)
            elif cur is not None:
                cur[6].append(("\x00", state, body))
        elif line.startswith("\t") and cur is not None:
            cur[6].append(line)
def read(path):
    op = gzip.open if path.endswith(".gz") else bz2.open if path.endswith(".bz2") else open
    with op(path, "rt", encoding="utf-8", errors="replace") as f:
        return f.read().splitlines()
take(read(fixture))
take(read(corpus + "/pgbadger/light.postgres.log.bz2"))
take(read(corpus + "/pgbadger/tempfile_only.log.gz"))
take(read(corpus + "/pgbadger/pg_vacuums.log.gz"))
target = int(gb * (1 << 30))
t = datetime(2025, 12, 29, 16, 41, 0)
written = 0
line_no = {}
with open(out, "w", encoding="utf-8") as f:
    while written < target:
        chunk = []
        for pid, user, db, app, client, state, body in entries:
            t += timedelta(milliseconds=7)
            stamp = t.strftime("%Y-%m-%d %H:%M:%S.") + f"{t.microsecond // 1000:03d} CET"
            n = line_no.get(pid, 0)
            for part in body:
                if isinstance(part, tuple):
                    n += 1
                    chunk.append(f"{stamp} [{pid}]: [{n}-1] user={user},db={db},app={app},"
                                 f"client={client},e={part[1]} {part[2]}\n")
                elif part.startswith("\t"):
                    chunk.append(part + "\n")
                else:
                    n += 1
                    chunk.append(f"{stamp} [{pid}]: [{n}-1] user={user},db={db},app={app},"
                                 f"client={client},e={state} {part}\n")
            line_no[pid] = n
        s = "".join(chunk)
        f.write(s)
        written += len(s.encode("utf-8"))
print(f"{written / (1 << 30):.2f} GiB, {len(entries)} distinct entries repeated")
PY
mv "$log.part" "$log"
fi
if [ "$only" != stderr ] && [ -s "$csvlog" ] && [ -n "$logs" ]; then
  echo "reusing $csvlog"
elif [ "$only" != stderr ]; then
echo "building a ${gb} GiB csvlog from real entries..."
/usr/bin/python3 - "$root/fixtures/logs/formats/formats.csv" "$corpus/pg_logs" "$csvlog.part" "$gb" \
  <<'PY'
import csv, io, sys
from datetime import datetime, timedelta

fixture, corpus, out, gb = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
# Each record as PostgreSQL wrote it (its raw text, quoted fields and embedded newlines kept):
# the time, the first field, is rewritten; other fields stay. Layouts of 23 or 24 fields
# (PostgreSQL 11, 13) get the empty leader_pid and query_id of the 26-field layout.
records = []
def take(path):
    text = open(path, encoding="utf-8", newline="").read()
    lines = text.splitlines(keepends=True)
    reader = csv.reader(io.StringIO(text, newline=""))
    prev = 0
    for fields in reader:
        raw = "".join(lines[prev:reader.line_num])
        prev = reader.line_num
        if len(fields) < 22:
            continue
        raw = raw.rstrip("\r\n")
        raw += "," * (26 - len(fields)) if len(fields) < 26 else ""
        stamp = fields[0]
        records.append(raw[len(stamp):] + "\n")
take(fixture)
for name in ("postgresql-11-autovacuum.csv.log", "postgresql-11-multi-line.csv.log",
             "postgresql-11-parse-bind.csv.log", "postgresql-13-error-code.csv.log",
             "postgresql-13.csv.log"):
    take(corpus + "/elastic-beats/" + name)
target = int(gb * (1 << 30))
t = datetime(2025, 12, 29, 16, 41, 0)
written = 0
with open(out, "w", encoding="utf-8", newline="") as f:
    while written < target:
        chunk = []
        for rest in records:
            t += timedelta(milliseconds=7)
            chunk.append(t.strftime("%Y-%m-%d %H:%M:%S.") + f"{t.microsecond // 1000:03d} CET" + rest)
        s = "".join(chunk)
        f.write(s)
        written += len(s.encode("utf-8"))
print(f"{written / (1 << 30):.2f} GiB, {len(records)} distinct entries repeated")
PY
mv "$csvlog.part" "$csvlog"
fi

timed() {  # LABEL CMD...: wall seconds and peak RSS (KiB) from GNU time
  local label=$1
  shift
  /usr/bin/time -v -o "$work/time.txt" "$@" > "$work/out.txt" 2> "$work/err.txt" || {
    echo "$label failed:" >&2
    tail -5 "$work/err.txt" >&2
  }
  local wall rss cpu
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n = split($2, p, ":"); s = 0;
    for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s}' "$work/time.txt")
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/time.txt")
  cpu=$(awk -F': ' '/User time|System time/ {s += $2} END {print s}' "$work/time.txt")
  echo "$label $wall $rss $cpu"
}

# The facts two stores hold, in an order that does not depend on ids.
facts() {
  sqlite3 "$1" "
    SELECT 'event', template_hash, min(template), severity, count(*), min(ts), max(ts),
           sum(length(message)), sum(length(detail)), sum(length(statement)),
           sum(length(context)), count(DISTINCT sqlstate), count(statement),
           group_concat(DISTINCT format)
      FROM log_event GROUP BY template_hash, severity ORDER BY 2, 4;
    SELECT 'entity', x.kind, x.name, x.value, count(*)
      FROM log_entity x JOIN log_event e ON e.id = x.event_id
     WHERE NOT (e.format LIKE 'pg-%' AND e.severity = 'LOG' AND (x.kind = 'id' OR
                (x.kind = 'count' AND lower(x.name) NOT IN ('rows', 'row', 'records', 'record'))))
       AND NOT (x.kind = 'sqlstate_class' AND x.value = '00')  -- not stored since version 14
     GROUP BY 2, 3, 4 ORDER BY 2, 3, 4;"
}

measure() {  # NAME FILE PGBADGER-FORMAT-ARGS...
  local name=$1 file=$2
  shift 2
  local size mib results="$work/results-$name.txt"
  size=$(stat -c %s "$file")
  mib=$((size / 1048576))
  cat "$file" > /dev/null  # into the page cache
  : > "$results"
  echo "== $name: $mib MiB"
  timed "wc-l" wc -l "$file" | tee -a "$results"
  echo "  lines: $(cut -d' ' -f1 "$work/out.txt")"
  rm -f "$work/facts.db"*
  timed "dbautopsy" "$dbautopsy" ingest --store "$work/facts.db" "$file" | tee -a "$results"
  echo "  log_event rows: $(sqlite3 "$work/facts.db" 'SELECT count(*) FROM log_event'),"\
       "log_entity rows: $(sqlite3 "$work/facts.db" 'SELECT count(*) FROM log_entity'),"\
       "store $(($(stat -c %s "$work/facts.db") / 1048576)) MiB"
  if [ -n "$reference" ]; then
    rm -f "$work/ref.db"*
    timed "reference" "$reference" ingest --store "$work/ref.db" "$file" > /dev/null
    facts "$work/facts.db" > "$work/facts-new.txt"
    facts "$work/ref.db" > "$work/facts-ref.txt"
    if cmp -s "$work/facts-new.txt" "$work/facts-ref.txt"; then
      echo "  same facts as the reference ($(wc -l < "$work/facts-new.txt") template and entity rows)"
    else
      echo "  FACTS DIFFER from the reference:" >&2
      diff "$work/facts-ref.txt" "$work/facts-new.txt" | head -20 >&2
      status=1
    fi
    rm -f "$work/ref.db"*
  fi
  rm -f "$work/facts.db"*
  # The whole job on a folder holding the log (a link to it): ingest, the rules, the report.
  rm -rf "$work/case" && mkdir "$work/case" && ln -s "$file" "$work/case/$(basename "$file")"
  timed "investigate" "$dbautopsy" investigate -q "$work/case" --follow-links \
    --store "$work/inv.db" --fail-on never -o /dev/null | tee -a "$results"
  rm -rf "$work/case" "$work/inv.db"*
  if [ $skip_pgbadger = 0 ]; then
    for j in 1 2; do
      timed "pgbadger-j$j" pgbadger -j $j "$@" -o "$work/report.html" "$file" | tee -a "$results"
    done
  fi
  if [ $skip_lnav = 0 ]; then
    timed "lnav" env HOME="$work" lnav -n -c ';SELECT count(*) FROM all_logs' "$file" |
      tee -a "$results"
    echo "  lnav says: $(head -c 200 "$work/out.txt" | tr '\n' ' ')"
  fi
  /usr/bin/python3 - "$results" "$mib" "$name" <<'PY'
import sys
rows = {}
for line in open(sys.argv[1]):
    label, wall, rss, cpu = line.split()
    rows[label] = (float(wall), int(rss), float(cpu))
mib = int(sys.argv[2])
d = rows["dbautopsy"]
print(f"\n{mib} MiB {sys.argv[3]}, warm page cache")
print(f"{'tool':<14}{'wall s':>9}{'CPU s':>9}{'MiB/CPU s':>11}{'peak RSS MiB':>14}"
      f"{'wall / dbautopsy':>18}{'CPU / dbautopsy':>17}")
for label, (wall, rss, cpu) in rows.items():
    print(f"{label:<14}{wall:>9.1f}{cpu:>9.1f}{mib / max(cpu, 0.01):>11.0f}{rss / 1024:>14.0f}"
          f"{wall / max(d[0], 0.01):>18.2f}{cpu / max(d[2], 0.01):>17.2f}")
PY
  [ -n "$logs" ] || rm -f "$file"
}

status=0
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
[ "$only" = csv ] || measure "stderr log" "$log" --prefix "$prefix"
[ "$only" = stderr ] || measure "csvlog" "$csvlog" -f csv
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
exit $status
