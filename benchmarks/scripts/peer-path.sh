#!/usr/bin/env bash
# The request path beside the peers, in one run (docs/benchmarks/peers.md): aimesh, Envoy AI Gateway
# and LiteLLM's proxy on the same Envoy binary, model-sim and load generator.
#   peer-path.sh AI_GATEWAY_GIT_DIR [benchmark options]
# AI_GATEWAY_GIT_DIR: a git snapshot of envoyproxy/ai-gateway (the search tool's fetch puts one under
# /work/.mirror/envoyproxy+ai-gateway/); install-ai-gateway.sh builds its extproc at the pinned tag.
# LiteLLM comes from install-litellm.sh. Extra options go to PeerPathBenchmark (OverheadOptions'
# usage), e.g. --rates 100,400 --body-bytes 1024 --duration 8. The machine should be otherwise idle.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
git_dir="${1:?usage: peer-path.sh AI_GATEWAY_GIT_DIR [options]}"
shift
extproc="$("$root/benchmarks/scripts/install-ai-gateway.sh" "$git_dir")"
litellm="$("$root/benchmarks/scripts/install-litellm.sh")"
exec "$root/benchmarks/scripts/run-benchmark.sh" 1g io.aimesh.bench.e2e.PeerPathBenchmark \
  --paths direct,proxy,envoy,extproc,filter,aigw,litellm --aigw-extproc "$extproc" --litellm "$litellm" \
  --rates 100,500,1000 --body-bytes 1024,16384,225280 --duration 12 --rounds 3 \
  --report "$root/docs/benchmarks/peers.md" "$@"
