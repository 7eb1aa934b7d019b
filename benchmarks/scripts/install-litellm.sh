#!/usr/bin/env bash
# Prints the path of a litellm executable (LiteLLM's proxy), installing the pinned version from PyPI
# (with its proxy extras) into .aimesh/litellm-VERSION first when it is not there, unless
# $AIMESH_LITELLM names one. The one place the peer benchmarks' LiteLLM version is named.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
version="1.108.7"
if [ -n "${AIMESH_LITELLM:-}" ]; then
  echo "$AIMESH_LITELLM"
  exit 0
fi
venv="$root/.aimesh/litellm-$version"
if [ ! -x "$venv/bin/litellm" ]; then
  echo "install-litellm: pip install litellm[proxy]==$version into $venv (a few minutes)" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet "litellm[proxy]==$version" redis >&2
fi
echo "$venv/bin/litellm"
