#!/bin/bash
# Bazel entry point: run_blocks.sh MODULE_SO CASES.t...
set -euo pipefail
module="$1"; shift
exec /usr/bin/python3 tests/harness/run_blocks.py --module "$module" "$@"
