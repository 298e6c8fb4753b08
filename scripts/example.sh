#!/usr/bin/env bash
# The main job on the bundled example app (examples/gateway-app: a gateway with its tenants' secrets at
# /etc/secrets behind a Service, a web front end calling it by name, a Job, a CronJob): install parity,
# print the in-cluster layout, generate the Docker setup, check it, bring it up.
# Needs a Docker engine for the last two steps: scripts/testbed.sh provides one when absent.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
PYTHON=.venv/bin/python bash scripts/testbed.sh
export PATH="$PWD/.venv/bin:$PATH"
set -x
parity layout examples/gateway-app
parity k8s-to-docker examples/gateway-app -o parity-out/gateway-app --force
parity diff examples/gateway-app --compose parity-out/gateway-app/compose.yaml
parity up examples/gateway-app
parity status examples/gateway-app
