# Shared by scripts/demo.sh and scripts/test.sh: install what is missing (Debian packages
# only, idempotently) and build. Source this file.

DBAUTOPSY_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

# What building and running dbautopsy needs (scripts/demo.sh installs only these).
DBAUTOPSY_PACKAGES=(
  g++ cmake ninja-build pkg-config
  libboost-iostreams-dev libboost-program-options-dev libre2-dev libsqlite3-dev libfmt-dev
  libpg-query-dev nlohmann-json3-dev libxxhash-dev libzstd-dev liblz4-dev libssl-dev
  zlib1g-dev libbz2-dev liblzma-dev libisal-dev libarchive-dev
)
# What the tests need besides (scripts/test.sh): Catch2; the PostgreSQL 15 server (and
# PostGIS, which corpus dumps use) for the differential and repair tests; the compression
# tools for fixtures; Django / psycopg2 for the fixture generators; jsonschema for the SARIF
# schema test; GNU parallel for the sharded batch test; Chromium, in which the HTML report
# test loads every case's report.html; clang and its libFuzzer runtime for the fuzz targets
# (scripts/fuzz.sh); tzdata for Python's zoneinfo (pg_log_ist).
DBAUTOPSY_TEST_PACKAGES=(
  catch2 parallel
  postgresql-15 postgresql-client-15 postgresql-15-postgis-3
  gzip bzip2 xz-utils zstd zip 7zip
  clang libclang-rt-14-dev
  python3 python3-django python3-psycopg2 python3-jsonschema
  chromium
  tzdata
)

# What the benchmarks (bench/) run beside dbautopsy: the floors and peers they measure it
# against (igzip from isal, lbzip2, pgBadger, lnav) and the plot of bench/ingest_scaling.sh.
DBAUTOPSY_BENCH_PACKAGES=(
  isal lbzip2 zstd xz-utils pgbadger lnav python3 python3-matplotlib sqlite3 time
)

# ensure_packages [test|bench]: the packages to build and run, and with `test` those of the
# tests, with `bench` those of the benchmarks.
ensure_packages() {
  local missing=()
  local p
  local wanted=("${DBAUTOPSY_PACKAGES[@]}")
  if [ "${1:-}" = test ]; then
    wanted+=("${DBAUTOPSY_TEST_PACKAGES[@]}")
  elif [ "${1:-}" = bench ]; then
    wanted+=("${DBAUTOPSY_BENCH_PACKAGES[@]}")
  fi
  for p in "${wanted[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
      missing+=("$p")
    fi
  done
  if [ ${#missing[@]} -eq 0 ]; then
    return 0
  fi
  echo "Installing missing Debian packages: ${missing[*]}"
  if [ "$(id -u)" != 0 ]; then
    echo "error: run as root (or install them with: sudo apt-get install ${missing[*]})" >&2
    return 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# build DIR [cmake options...]: configure (once) and build into DIR.
build() {
  local dir=$1
  shift
  cmake -S "$DBAUTOPSY_ROOT" -B "$dir" -G Ninja "$@" >/dev/null
  ninja -C "$dir"
}
