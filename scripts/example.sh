#!/usr/bin/env bash
# The main job on the bundled example (manifests/api-gateway, the article's tenant secrets):
# install parity, print the in-cluster layout, generate the Docker setup, check it, bring it up.
# Needs a Docker engine for the last two steps: scripts/testbed.sh provides one when absent.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
PYTHON=.venv/bin/python bash scripts/testbed.sh
export PATH="$PWD/.venv/bin:$PATH"
set -x
parity layout manifests/api-gateway
parity k8s-to-docker manifests/api-gateway -o parity-out/api-gateway --force
parity diff manifests/api-gateway --compose parity-out/api-gateway/compose.yaml
parity up manifests/api-gateway
parity status
