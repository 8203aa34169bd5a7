#!/usr/bin/env bash
# Runs every benchmark and writes the report:
#
#   bash bench/run.sh [--quick] --tfpython PATH [--only echo,http,...]
#
# Full mode writes bench/results/latest.md and its charts; --quick runs each
# benchmark for a few seconds (whole run < 3 min, for CI) and writes
# bench/results/quick.md instead. Builds the C load generator (plain and TLS)
# and the C echo server into build/bench/ first; a build failure only fails the benchmarks
# that need it. The orchestrator (run.py) runs on /usr/bin/python3.11,
# pinned to CPU 1 with the load generators; servers and workloads go on CPU 0.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
build="$root/build/bench"
py=/usr/bin/python3.11

quick=0
for arg in "$@"; do
  [ "$arg" = "--quick" ] && quick=1
done

missing=()
for tool in "$py" gcc taskset wrk hyperfine openssl /usr/bin/time; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "bench: missing ${missing[*]} (make bench installs them: packaging/install-deps.sh --bench)" >&2
  exit 1
fi
if [ "$(nproc)" -lt 2 ]; then
  echo "bench: needs 2 CPUs (server on CPU 0, load generator on CPU 1)" >&2
  exit 1
fi

mkdir -p "$build"
build_c() {  # name, extra link flags...
  local name="$1"; shift
  rm -f "$build/$name"
  if gcc -O2 -Wall -Wextra -o "$build/$name" "$here/$name.c" "$@" >"$build/$name.build.log" 2>&1; then
    echo "bench: built build/bench/$name"
  else
    echo "bench: could not build $name (its benchmarks will fail): see build/bench/$name.build.log" >&2
  fi
}
build_c loadgen -lssl -lcrypto
build_c echo_uring -luring
build_c echo_tls_epoll -lssl -lcrypto

# Every workload has its own deadline; this one only guards the whole run.
if [ "$quick" = 1 ]; then budget=600; else budget=2400; fi
cd "$root"
exec timeout --kill-after=30 "$budget" taskset -c 1 "$py" "$here/run.py" --build-dir "$build" "$@"
