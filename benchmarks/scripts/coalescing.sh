#!/usr/bin/env bash
# Builds the benchmarks and runs the embeddings coalescing benchmark, rewriting the results
# section of docs/benchmarks/coalescing.md. Extra arguments go to the benchmark (--clients N,
# --seconds N). The machine should be otherwise idle.
set -euo pipefail
exec "$(dirname "${BASH_SOURCE[0]}")/run-benchmark.sh" 1g io.aimesh.bench.coalesce.CoalescingBenchmark \
  --report docs/benchmarks/coalescing.md "$@"
