#!/usr/bin/env bash
# Builds the benchmarks and runs the rollout-detection simulation, rewriting the results section of
# docs/benchmarks/rollout-detection.md. Extra arguments go to the benchmark, e.g. --rates 5,20 --runs 5.
# A simulation on simulated time: it takes seconds and needs no idle machine.
set -euo pipefail
exec "$(dirname "${BASH_SOURCE[0]}")/run-benchmark.sh" 512m io.aimesh.bench.rollout.RolloutDetectionBenchmark \
  --report docs/benchmarks/rollout-detection.md "$@"
