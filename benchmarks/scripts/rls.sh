#!/usr/bin/env bash
# Builds envoyproxy/ratelimit from the Go module proxy (no binary is committed) into
# .aimesh/bin/ratelimit, then runs the rate limit service benchmark (RlsBenchmark) against it and
# the ai-filter on one Redis (redis-server must be installed), rewriting the results section of
# docs/benchmarks/rls.md. Extra arguments go to the benchmark (--seconds N, --concurrency N).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
version="v1.4.1-0.20260122083618-3fb702589d36"
bin="$root/.aimesh/bin/ratelimit"
if [ ! -x "$bin" ]; then
  work="$(mktemp -d)"
  export GOPATH="$work/gopath" GOFLAGS=-mod=mod
  (cd "$work" && go mod download -json "github.com/envoyproxy/ratelimit@$version" >/dev/null)
  src="$GOPATH/pkg/mod/github.com/envoyproxy/ratelimit@$version"
  cp -r "$src" "$work/src" && chmod -R u+w "$work/src"
  mkdir -p "$(dirname "$bin")"
  (cd "$work/src" && go build -o "$bin" ./src/service_cmd)
fi
exec "$root/benchmarks/scripts/run-benchmark.sh" 1g io.aimesh.bench.rls.RlsBenchmark --ratelimit "$bin" \
  --report docs/benchmarks/rls.md "$@"
