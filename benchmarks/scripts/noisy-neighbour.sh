#!/usr/bin/env bash
# Builds the benchmarks and runs the noisy-neighbour benchmark, rewriting the results
# section of docs/benchmarks/noisy-neighbour.md. Extra arguments go to the benchmark, e.g.
# --quiet-requests 400 --flood-clients 32. The machine should be otherwise idle.
set -euo pipefail
exec "$(dirname "${BASH_SOURCE[0]}")/run-benchmark.sh" 1g io.aimesh.bench.isolation.NoisyNeighbourBenchmark \
  --report docs/benchmarks/noisy-neighbour.md "$@"
