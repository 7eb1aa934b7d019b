#!/usr/bin/env bash
# One proxy-wasm plugin on the request path, in Envoy's wasm filter and in the ai-filter, in one run;
# rewrites the end-to-end results of docs/benchmarks/plugins.md. Extra arguments go to the benchmark,
# e.g. --seconds 6. Needs go (the plugin is built from source). The machine should be otherwise idle.
set -euo pipefail
exec "$(dirname "${BASH_SOURCE[0]}")/run-benchmark.sh" 1g io.aimesh.bench.wasm.PluginPathBenchmark \
  --report docs/benchmarks/plugins.md "$@"
