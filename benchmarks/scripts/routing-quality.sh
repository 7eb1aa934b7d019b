#!/usr/bin/env bash
# Builds the benchmarks and runs the routing-quality benchmark, rewriting the results
# section of docs/benchmarks/routing-quality.md and its plot, routing-quality.svg. Extra arguments
# go to the benchmark (see RoutingOptions), e.g. --loads 0.5,0.8,0.9 --duration 20.
# The machine should be otherwise idle.
set -euo pipefail
exec "$(dirname "${BASH_SOURCE[0]}")/run-benchmark.sh" 2g io.aimesh.bench.routing.RoutingBenchmark \
  --report docs/benchmarks/routing-quality.md "$@"
