#!/usr/bin/env bash
# Rebuilds the committed seed corpus (tests/fuzz/corpus/<target>/) from the fixtures: a few
# small real files per target, and for the targets that take several files in one input
# (fuzz.hpp, split_parts: parts joined by "\n@@@") those files joined. Larger seeds (the
# fixtures' big dumps, the shared corpus) are not copied: scripts/fuzz.sh reads them where
# they are.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=tests/fuzz/corpus
rm -rf "$out"
# put TARGET FILE...: each file (under 64 KiB) as a seed named after its path: a relative
# symbolic link to the fixture, not a copy of it.
put() {
  local t=$1
  shift
  mkdir -p "$out/$t"
  for f in "$@"; do
    if [ -f "$f" ] && [ "$(stat -c %s "$f")" -le 65536 ]; then
      ln -s "$(realpath --relative-to="$out/$t" "$f")" "$out/$t/$(echo "$f" | tr '/' '_')"
    fi
  done
}
# join TARGET NAME FILE...: one seed of the files joined by "\n@@@".
join() {
  local t=$1 name=$2 first=1
  shift 2
  mkdir -p "$out/$t"
  for f in "$@"; do
    if [ $first = 0 ]; then printf '\n@@@'; fi
    cat "$f"
    first=0
  done >"$out/$t/$name"
}
# dir_seed NAME FOLDER: a directory archive as one input: toc.dat, then "\n@@@NAME\n" and
# the content of each other file.
dir_seed() {
  local name=$1 d=$2
  mkdir -p "$out/archive_directory"
  {
    cat "$d/toc.dat"
    for f in "$d"/*; do
      [ "$(basename "$f")" = toc.dat ] && continue
      printf '\n@@@%s\n' "$(basename "$f")"
      cat "$f"
    done
  } >"$out/archive_directory/$name"
}

put archive_custom fixtures/pgdump/large_objects.custom.dump fixtures/pgdump/large_objects.piped.dump
put archive_tar fixtures/pgdump/large_objects.tar
dir_seed kitchen_sink fixtures/pgdump/kitchen_sink.dir
dir_seed large_objects fixtures/pgdump/large_objects.dir
for t in pgdump_sql table_stats script_lexer; do
  put $t fixtures/pgdump/kitchen_sink.schema.sql fixtures/django_inputs/malformed/sqlmigrate_output.sql \
    fixtures/django_inputs/sqlmigrate_flat/teams.0001_initial.sql
done
put compressed fixtures/io/lines.txt.gz fixtures/io/lines.txt.bz2 fixtures/io/lines.txt.xz \
  fixtures/io/lines.txt.zst fixtures/io/two-frames.txt.zst fixtures/io/two-members.txt.gz \
  fixtures/pgdump/kitchen_sink.full.sql.gz fixtures/pgdump/kitchen_sink.full.sql.bz2 \
  fixtures/pgdump/kitchen_sink.full.sql.xz fixtures/pgdump/kitchen_sink.full.sql.zst
# copy_decode: rows of the COPY blocks of a real dump, each behind a settings byte of 0
# (tab-delimited, \N for NULL, as pg_dump writes them).
mkdir -p "$out/copy_decode"
awk '/^COPY .* FROM stdin;$/ {copy = 1; next} /^\\\.$/ {copy = 0} copy && n < 40 {n++; print}' \
  fixtures/pgdump/kitchen_sink.full.sql | {
  i=0
  while IFS= read -r row; do
    i=$((i + 1))
    printf '\0%s' "$row" >"$out/copy_decode/row_$i"
  done
}
put records_csv fixtures/django_inputs/records/*.csv fixtures/django_inputs/records/*.copy.txt \
  fixtures/django_inputs/malformed/*.csv
put records_json fixtures/django_inputs/records/*.json fixtures/django_inputs/malformed/*.json
put records_psql fixtures/django_inputs/records/*psql* fixtures/django_inputs/malformed/*psql*
put showmigrations fixtures/django_inputs/showmigrations/* fixtures/django_inputs/malformed/showmigrations*
put sqlmigrate fixtures/django_inputs/sqlmigrate_flat/*
put python_migration $(find fixtures/cases/django_clean/migrations fixtures/cases/django_ops_clean -name '*.py' | sort | head -20)
put pg_stderr fixtures/logs/pg_stderr/postgresql.log
join pg_stderr with_prefix fixtures/logs/pg_stderr/log_line_prefix.txt fixtures/logs/pg_stderr/postgresql.log
put pg_csvlog fixtures/logs/formats/formats.csv
put pg_jsonlog fixtures/logs/pg_stderr/postgresql.json fixtures/logs/formats/formats.json
put app_python_log fixtures/logs/app/*.log
put app_jsonl_log fixtures/logs/app/app.jsonl
join user_log_format custom fixtures/logs/app/custom.format.json fixtures/logs/app/custom.log
put rule_header $(ls rules/*/*.sql | head -20)
# Bundles of case files: small real files zipped and tarred (Python's zipfile and tarfile),
# plain, gzip-compressed, nested, with a symbolic link and a `..` name.
mkdir -p "$out/bundle"
/usr/bin/python3 - "$out/bundle" <<'PY'
import io, sys, tarfile, zipfile
out = sys.argv[1]
files = ["fixtures/django_inputs/records/django_migrations.csv",
         "fixtures/cases/django_clean/migrations/teams/0001_initial.py"]
def tar(mode, name):
    with tarfile.open(f"{out}/{name}", mode) as t:
        for f in files:
            t.add(f, "case/" + f.split("/")[-1])
        link = tarfile.TarInfo("case/link.csv")
        link.type = tarfile.SYMTYPE
        link.linkname = "/etc/passwd"
        t.addfile(link)
        evil = tarfile.TarInfo("../evil.sql")
        t.addfile(evil)
tar("w", "case.tar")
tar("w:gz", "case.tar.gz")
buf = io.BytesIO()
with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
    for f in files:
        z.write(f, "case/" + f.split("/")[-1])
open(f"{out}/case.zip", "wb").write(buf.getvalue())
with zipfile.ZipFile(f"{out}/nested.zip", "w") as z:
    z.writestr("inner.zip", buf.getvalue())
    z.writestr("a\\b.sql", "CREATE TABLE t (id int);\n")
PY
du -sh "$out"
