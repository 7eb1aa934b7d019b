#!/usr/bin/env bash
# Builds the benchmarks offline and runs the routing-quality benchmark, rewriting the results
# section of docs/benchmarks/routing-quality.md and its plot, routing-quality.svg. Extra arguments
# go to the benchmark (see RoutingOptions), e.g. --loads 0.5,0.8,0.9 --duration 20.
# The machine should be otherwise idle.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"

AIMESH_ENVOY="$("$root/benchmarks/scripts/install-envoy.sh")"
export AIMESH_ENVOY
mvn -B -o -q -pl benchmarks -am install -DskipTests
exec java -Xms2g -Xmx2g -XX:+AlwaysPreTouch \
  -cp "benchmarks/target/aimesh-benchmarks-0.1.0-SNAPSHOT.jar:benchmarks/target/lib/*" \
  io.aimesh.bench.routing.RoutingBenchmark --report docs/benchmarks/routing-quality.md "$@"
