#!/usr/bin/env bash
# The main job on the bundled example (manifests/api-gateway): install parity, print the in-cluster
# layout the kubelet would give the api-gateway container.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$PWD/.venv/bin:$PATH"
set -x
parity layout manifests/api-gateway
