#!/bin/bash
# Bazel entry point: run_py.sh MODULE_SO SCRIPT.py [ARGS...]
set -euo pipefail
module="$1"; script="$2"; shift 2
export P2P_NGINX_MODULE="$PWD/$module"
export PYTHONPATH="$PWD/tests/harness${PYTHONPATH:+:$PYTHONPATH}"
exec /usr/bin/python3 "$script" "$@"
