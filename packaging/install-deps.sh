#!/usr/bin/env bash
# Installs every Debian package tfpython needs to build, test and benchmark.
# Idempotent: packages already present are left alone; apt is only touched
# when something is missing.
set -euo pipefail

build_deps=(
  build-essential cmake ninja-build pkg-config
  libpython3.11-dev python3.11 liburing-dev
  zlib1g-dev libexpat1-dev  # linked by name with Debian's libpython3.11.a
  python3-greenlet python-greenlet-dev libssl-dev libgtest-dev
)
test_deps=(
  python3-pytest python3-pytest-timeout python3-trustme
  libpython3.11-testsuite python3-gevent
)
# `make package`: CPack's DEB generator reads file types with file(1) and
# computes Depends with dpkg-shlibdeps.
package_deps=(
  file dpkg-dev
)
# Database drivers and a server the tests run against (tests/py/test_db_drivers.py
# starts PostgreSQL itself in a temporary directory).
db_test_deps=(
  postgresql python3-psycopg2 python3-psycopg python3-pymysql
)
bench_deps=(
  python3-uvloop wrk hyperfine python3-matplotlib util-linux procps time
  openssl  # the TLS benchmarks' certificate (openssl req); loadgen links libssl-dev
)
# The third-party matrix (tests/matrix/run.py, `make matrix`).
matrix_deps=(
  python3-tornado gunicorn python3-flask python3-django python3-twisted
  python3-cheroot python3-waitress python3-pytest-xdist python3-execnet
  python3-requests python3-redis redis-server python3-paramiko wrk
)

want=("${build_deps[@]}" "${test_deps[@]}" "${db_test_deps[@]}" "${package_deps[@]}")
if [ "${1:-}" = "--bench" ] || [ "${TFPYTHON_BENCH_DEPS:-0}" = 1 ]; then
  want+=("${bench_deps[@]}")
fi
if [ "${1:-}" = "--matrix" ] || [ "${TFPYTHON_MATRIX_DEPS:-0}" = 1 ]; then
  want+=("${matrix_deps[@]}")
fi

missing=()
for pkg in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$pkg")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#want[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
