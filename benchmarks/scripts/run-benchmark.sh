#!/usr/bin/env bash
# Builds the benchmarks (and the modules they need; nothing is installed into ~/.m2), makes sure the
# pinned Envoy is there, and runs one benchmark's main class:
#   run-benchmark.sh HEAP MAIN_CLASS [ARGS...]     e.g. run-benchmark.sh 1g io.aimesh.bench.e2e.FilterOverheadBenchmark
# The heap is fixed and pre-touched, so no resizing happens inside a measurement.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
heap="$1"
main="$2"
shift 2

AIMESH_ENVOY="$("$root/benchmarks/scripts/install-envoy.sh")"
export AIMESH_ENVOY
# AIMESH_BENCH_LIB: a directory to run from, filled by the first run that finds it missing. Runs
# that share one are isolated from later edits and builds (a series of runs over hours).
lib="${AIMESH_BENCH_LIB:-}"
if [[ -z "$lib" || ! -d "$lib" ]]; then
  mvn -B -q -pl benchmarks -am package -Dmaven.test.skip=true
  if [[ -n "$lib" ]]; then
    mkdir -p "$lib.tmp"
    cp benchmarks/target/aimesh-benchmarks-0.1.0-SNAPSHOT.jar benchmarks/target/lib/*.jar "$lib.tmp/"
    mv "$lib.tmp" "$lib"
  fi
fi
classpath="${lib:+$lib/*}"
exec java "-Xms$heap" "-Xmx$heap" -XX:+AlwaysPreTouch \
  -cp "${classpath:-benchmarks/target/aimesh-benchmarks-0.1.0-SNAPSHOT.jar:benchmarks/target/lib/*}" \
  "$main" "$@"
