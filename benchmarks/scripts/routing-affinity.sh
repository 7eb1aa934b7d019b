#!/usr/bin/env bash
# Runs the routing benchmark on each workload and seed, one report per pair under
# target/routing-affinity/, then summarises the spread over the seeds and the goals per seed
# (routing-seeds.py) into target/routing-affinity/summary.md. The machine should be otherwise idle.
#
#   benchmarks/scripts/routing-affinity.sh [--seeds 1,2,3] [--workloads plain,chat,...] [benchmark args]
#
# Defaults: seeds 1,2,3; every workload; the five modes; loads 0.5,0.8,0.9,1.0; 120 s points.
# Other arguments go to the benchmark and override these (see RoutingOptions); the seed, workload
# and report are this script's to set. A run that fails is reported and the others go on.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
seeds=1,2,3
workloads=plain,chat,system-prompts,rag,lora
args=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --seeds|--workloads)
      [[ $# -ge 2 ]] || { echo "$1 needs a value" >&2; exit 2; }
      if [[ "$1" == --seeds ]]; then seeds="$2"; else workloads="$2"; fi
      shift 2 ;;
    --seed|--workload|--report) echo "$1: set by this script (use --seeds, --workloads)" >&2; exit 2 ;;
    *) args+=("$1"); shift ;;
  esac
done
IFS=, read -ra seed_list <<< "$seeds"
IFS=, read -ra workload_list <<< "$workloads"
out=target/routing-affinity
mkdir -p "$out"
# Built once into a directory every run shares, so that an edit or build during the hours of runs
# changes none of them.
export AIMESH_BENCH_LIB="$PWD/$out/lib"
rm -rf "$AIMESH_BENCH_LIB"
reports=()
failed=0
# Seed by seed, so that a run cut short still has every workload.
for seed in "${seed_list[@]}"; do
  for workload in "${workload_list[@]}"; do
    report="$out/$workload-seed$seed.md"
    if benchmarks/scripts/run-benchmark.sh 2g io.aimesh.bench.routing.RoutingBenchmark --report "$report" \
        --workload "$workload" --seed "$seed" --modes round-robin,least-request,picker,picker-no-affinity,oracle \
        --loads 0.5,0.8,0.9,1.0 --duration 120 --calibration 20 ${args[@]+"${args[@]}"} > "$out/$workload-seed$seed.log" 2>&1; then
      reports+=("$report")
      grep '^load' "$out/$workload-seed$seed.log"
    else
      echo "$workload, seed $seed: failed; see $out/$workload-seed$seed.log" >&2
      failed=1
    fi
  done
done
if [[ ${#reports[@]} -gt 0 ]]; then
  python3 benchmarks/scripts/routing-seeds.py "${reports[@]}" | tee "$out/summary.md"
fi
exit "$failed"
