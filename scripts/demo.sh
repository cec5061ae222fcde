#!/usr/bin/env bash
# Builds dbautopsy (installing missing Debian packages first, as root) and runs the main job
# on a bundled case. The fact store goes to build/demo/, never into the case folder.
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"
cd "$DBAUTOPSY_ROOT"
ensure_packages
build build/release -DCMAKE_BUILD_TYPE=RelWithDebInfo
rm -rf build/demo
mkdir -p build/demo
set -x
build/release/src/cli/dbautopsy ingest --store build/demo/facts.db fixtures/pgdump/kitchen_sink.full.sql.gz
