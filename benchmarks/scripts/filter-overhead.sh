#!/usr/bin/env bash
# Builds the benchmarks offline and runs the end-to-end filter overhead benchmark, rewriting the
# results section of docs/benchmarks/filter-overhead.md. Extra arguments go to the benchmark
# (see FilterOverheadBenchmark's javadoc), e.g. --rates 200,500,1000,2000 or
#   --filter-jvm-args "-Xms1g -Xmx1g -XX:StartFlightRecording=filename=filter.jfr,settings=profile"
# The machine should be otherwise idle: the benchmark measures microseconds on shared cores.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"

AIMESH_ENVOY="$("$root/benchmarks/scripts/install-envoy.sh")"
export AIMESH_ENVOY
mvn -B -o -q -pl benchmarks -am install -DskipTests
exec java -Xms1g -Xmx1g -XX:+AlwaysPreTouch \
  -cp "benchmarks/target/aimesh-benchmarks-0.1.0-SNAPSHOT.jar:benchmarks/target/lib/*" \
  io.aimesh.bench.e2e.FilterOverheadBenchmark --report docs/benchmarks/filter-overhead.md "$@"
