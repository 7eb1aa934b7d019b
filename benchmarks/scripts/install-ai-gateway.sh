#!/usr/bin/env bash
# Builds Envoy AI Gateway's external processor (envoyproxy/ai-gateway, cmd/extproc) at a release tag
# into .aimesh/peers/ai-gateway-TAG/extproc (never committed) and prints its path:
#   install-ai-gateway.sh GIT_DIR [TAG]     (TAG defaults to v1.1.0)
# GIT_DIR is a git snapshot of the repository (the search tool's fetch puts one under
# /work/.mirror/envoyproxy+ai-gateway/; a clone works too): the Go module proxy does not serve that
# module, but its dependencies come from it. Beside the binary, COMMIT records what was built.
# The first build takes about 3 minutes on 2 cores.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
git_dir="${1:?usage: install-ai-gateway.sh GIT_DIR [TAG]}"
tag="${2:-v1.1.0}"
out="$root/.aimesh/peers/ai-gateway-$tag"
if [ -x "$out/extproc" ] && [ -s "$out/COMMIT" ]; then
  echo "$out/extproc"
  exit 0
fi
commit="$(git --git-dir="$git_dir" rev-parse "$tag^{commit}")"
rm -rf "$out/src"
mkdir -p "$out/src"
git --git-dir="$git_dir" archive "$commit" | tar -x -C "$out/src"
echo "install-ai-gateway: go build ./cmd/extproc at $tag ($commit) into $out" >&2
export GOMODCACHE="${GOMODCACHE:-$root/.aimesh/go/mod}" GOCACHE="${GOCACHE:-$root/.aimesh/go/build}"
# A plain build reports version "dev", which the benchmark's extproc config names.
(cd "$out/src" && GOFLAGS=-mod=mod go build -o "$out/extproc" ./cmd/extproc) >&2
echo "envoyproxy/ai-gateway $tag $commit" > "$out/COMMIT"
echo "$out/extproc"
