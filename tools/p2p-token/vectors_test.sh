#!/bin/sh
# Bazel runs tests through a shell; the check itself is Python (JSON vectors).
exec python3 tools/p2p-token/vectors_test.py "$@"
