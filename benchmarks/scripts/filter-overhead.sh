#!/usr/bin/env bash
# Builds the benchmarks and runs the end-to-end filter overhead benchmark, rewriting the
# results section of docs/benchmarks/filter-overhead.md. Extra arguments go to the benchmark
# (see FilterOverheadBenchmark's javadoc), e.g. --rates 200,500,1000,2000 or
#   --filter-jvm-args "-Xms1g -Xmx1g -XX:StartFlightRecording=filename=filter.jfr,settings=profile"
# The machine should be otherwise idle: the benchmark measures microseconds on shared cores.
set -euo pipefail
exec "$(dirname "${BASH_SOURCE[0]}")/run-benchmark.sh" 1g io.aimesh.bench.e2e.FilterOverheadBenchmark \
  --report docs/benchmarks/filter-overhead.md "$@"
