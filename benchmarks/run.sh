#!/usr/bin/env bash
# parity's benchmarks (not part of the test suite): install into .venv, generate the corpora into
# benchmarks/out/, print medians and ratios and write benchmarks/out/results.json.
# Arguments go to benchmarks/bench.py: --sizes 1000,10000 --repeat 5 --out DIR --check
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python benchmarks/bench.py "$@"
