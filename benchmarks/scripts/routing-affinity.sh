#!/usr/bin/env bash
# Runs the routing benchmark on each workload and seed, one report per pair under
# target/routing-affinity/, then summarises the spread over the seeds and the goals per seed
# (routing-seeds.py) into target/routing-affinity/summary.md. The machine should be otherwise idle.
#
#   benchmarks/scripts/routing-affinity.sh [--seeds 1,2,3] [--workloads plain,chat,...] [benchmark args]
#
# Defaults: seeds 1,2,3; every workload; the five modes; loads 0.5,0.8,0.9,1.0; 120 s points.
# Later arguments go to the benchmark and override these (see RoutingOptions).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
seeds=1,2,3
workloads=plain,chat,system-prompts,rag,lora
args=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --seeds) seeds="$2"; shift 2 ;;
    --workloads) workloads="$2"; shift 2 ;;
    *) args+=("$1"); shift ;;
  esac
done
out=target/routing-affinity
mkdir -p "$out"
# Built once and copied, so that an edit or build during the hours of runs changes none of them.
AIMESH_ENVOY="$(benchmarks/scripts/install-envoy.sh)"
export AIMESH_ENVOY
mvn -B -q -pl benchmarks -am package -Dmaven.test.skip=true
rm -rf "$out/lib" && mkdir -p "$out/lib"
cp benchmarks/target/aimesh-benchmarks-0.1.0-SNAPSHOT.jar benchmarks/target/lib/*.jar "$out/lib/"
reports=()
# Seed by seed, so that a run cut short still has every workload.
for seed in ${seeds//,/ }; do
  for workload in ${workloads//,/ }; do
    report="$out/$workload-seed$seed.md"
    java -Xms2g -Xmx2g -XX:+AlwaysPreTouch -cp "$out/lib/*" io.aimesh.bench.routing.RoutingBenchmark --report "$report" \
      --workload "$workload" --seed "$seed" --modes round-robin,least-request,picker,picker-no-affinity,oracle \
      --loads 0.5,0.8,0.9,1.0 --duration 120 --calibration 20 "${args[@]}" | tee "$out/$workload-seed$seed.log"
    reports+=("$report")
  done
done
python3 benchmarks/scripts/routing-seeds.py "${reports[@]}" | tee "$out/summary.md"
