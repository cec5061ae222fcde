#!/usr/bin/env bash
# Builds dbautopsy (installing missing Debian packages first, as root) and runs the main job,
# `dbautopsy investigate`, on two bundled cases: the Django schema-drift incident and the
# league ETL incident. Fact stores and repair scripts go to build/demo/, never into the case
# folders. (--fail-on never: the findings are the point here, not a failure.)
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"
cd "$DBAUTOPSY_ROOT"
ensure_packages
build build/release -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDBAUTOPSY_TESTS=OFF
rm -rf build/demo
mkdir -p build/demo
for case in django_drift league_incident; do
  echo
  echo "\$ dbautopsy investigate fixtures/cases/$case"
  build/release/src/cli/dbautopsy investigate "fixtures/cases/$case" \
    --store "build/demo/$case.db" --repair "build/demo/$case.repair.sql" --fail-on never
done
echo
echo "Repair scripts (written, never run): build/demo/*.repair.sql"
