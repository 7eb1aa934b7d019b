#!/usr/bin/env bash
# Spend budgets under excess demand, aimesh beside LiteLLM's proxy (docs/benchmarks/spend-vs-litellm.md).
# Installs the pinned LiteLLM (install-litellm.sh: PyPI, with its proxy extras) unless
# $AIMESH_LITELLM names a litellm executable, builds the benchmarks and runs them, rewriting the
# results section of the page. Extra arguments go to the benchmark, e.g. --rounds 1 --seconds 3.
# Needs redis-server on the PATH (or $AIMESH_REDIS). The machine should be otherwise idle.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
litellm="$("$root/benchmarks/scripts/install-litellm.sh")"
report="$root/docs/benchmarks/spend-vs-litellm.md"
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --report) report="$2"; shift 2 ;;
    *) args+=("$1"); shift ;;
  esac
done
exec "$root/benchmarks/scripts/run-benchmark.sh" 1g io.aimesh.bench.spend.SpendVersusLiteLlmBenchmark \
  --litellm "$litellm" --report "$report" "${args[@]}"
