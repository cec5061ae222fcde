#!/usr/bin/env bash
# Regenerates tests/django/parity/{sqlmigrate,django_migrations.csv,schema.sql}: the real
# output of Django 3.2's `manage.py sqlmigrate` for every migration of ./project, and the
# schema `migrate` leaves, on a real PostgreSQL 15 (Debian's python3-django and
# python3-psycopg2, run with /usr/bin/python3).
#
#   tests/django/parity/generate.sh
#
# Each migration's sqlmigrate output is taken on a database where every migration before
# it has been applied, as `migrate` would see it: Django reads constraint names back from
# the database (introspection) when it alters or removes a field, and an empty database
# would hide those statements. The migrations are applied in `showmigrations --plan` order.
#
# Environment: DJANGO_PARITY_PORT (default 55466; 55460-55469) for the throwaway cluster,
# which lives in a mktemp -d directory and is stopped (by pid) on exit.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
PROJECT=$HERE/project
PY=/usr/bin/python3
PORT=${DJANGO_PARITY_PORT:-55466}
case $PORT in 5546[0-9]) ;; *) echo "generate.sh: DJANGO_PARITY_PORT must be one of 55460-55469" >&2; exit 2 ;; esac

# shellcheck source=../../../fixtures/generate/lib/pg_cluster.sh
. "$ROOT/fixtures/generate/lib/pg_cluster.sh"

"$PY" -c 'import django, psycopg2; assert django.VERSION[:2] == (3, 2), django.VERSION' || {
  echo "generate.sh: needs Django 3.2 and psycopg2 for $PY (apt-get install python3-django python3-psycopg2)" >&2
  exit 2
}

# A fixed hash seed: Django iterates sets (unique_together) in hash order.
export PYTHONHASHSEED=0 PYTHONDONTWRITEBYTECODE=1 PGTZ=UTC TZ=UTC LC_ALL=C.UTF-8 LANG=C.UTF-8
WORK=$(mktemp -d)
cleanup() {
  pg_cluster_stop "$WORK" || true
  rm -rf "$WORK"
}
trap cleanup EXIT

pg_cluster_start "$WORK" "$PORT"
pg_psql "$WORK" "$PORT" -d postgres -c "CREATE DATABASE parity"

dj() {
  (cd "$PROJECT" && PARITY_DB_NAME=parity PARITY_DB_HOST=$WORK/sock PARITY_DB_PORT=$PORT \
    "$PY" manage.py "$@")
}

rm -rf "$HERE/sqlmigrate"
plan=$(dj showmigrations --plan | sed -n 's/^\[ \]  *\([A-Za-z0-9_]*\)\.\([A-Za-z0-9_]*\)$/\1 \2/p')
[ -n "$plan" ] || { echo "generate.sh: empty migration plan" >&2; exit 1; }
while read -r app name; do
  mkdir -p "$HERE/sqlmigrate/$app"
  dj sqlmigrate "$app" "$name" >"$HERE/sqlmigrate/$app/$name.sql"
  dj migrate "$app" "$name" >/dev/null
done <<<"$plan"

{
  echo "id,app,name"
  pg_psql "$WORK" "$PORT" -d parity -A -t -F , -c "SELECT id, app, name FROM django_migrations ORDER BY id"
} >"$HERE/django_migrations.csv"
"$(pg_bin pg_dump)" -h "$WORK/sock" -p "$PORT" -U postgres --schema-only --no-owner \
  --restrict-key=dbautopsyParityRestrictKey00000000000000000000000000000000000000 \
  --no-privileges parity | grep -v '^-- Dumped' >"$HERE/schema.sql"
echo "generate.sh: $(wc -l <<<"$plan") migrations -> $HERE/sqlmigrate, schema.sql"
