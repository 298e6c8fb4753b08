#!/usr/bin/env bash
# Install parity and its test tools into ./.venv (creating it, and Debian's python3-venv, if needed).
# Sourced or run by the other scripts; prints nothing on success unless something was installed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [ ! -x .venv/bin/python ]; then
    if ! python3 -m venv --help >/dev/null 2>&1 || ! python3 -c 'import ensurepip' >/dev/null 2>&1; then
        echo "setup: installing python3-venv (apt)" >&2
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >/dev/null && apt-get install -y -qq python3-venv python3-pip >/dev/null
    fi
    python3 -m venv .venv
fi
stamp=.venv/.parity-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    echo "setup: installing parity and its dependencies into .venv (pip)" >&2
    .venv/bin/python -m pip install -q --upgrade pip >/dev/null
    .venv/bin/python -m pip install -q -e '.[test]'
    touch "$stamp"
fi
