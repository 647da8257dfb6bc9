#!/bin/sh
# Runs a Node script with the npm packages of tests/interop (installed there by
# `npm ci`; node_modules is not in git).
# Usage: run_node.sh SCRIPT.js ARGS...  (SCRIPT relative to the runfiles root)
set -eu
script="$(readlink -f "$1")"
shift
# Bazel's launcher is a symlink to this file in the source tree, next to node_modules.
modules="$(dirname "$(readlink -f "$0")")/node_modules"
if [ ! -d "$modules/node-datachannel" ]; then
  echo "missing $modules: run 'npm ci' in tests/interop first" >&2
  exit 1
fi
# Node 20 has a WebSocket client only behind a flag (Node 22 has it by default).
flags=""
if ! node -e 'typeof WebSocket === "function" || process.exit(1)' 2>/dev/null &&
  node --experimental-websocket -e 0 2>/dev/null; then
  flags="--experimental-websocket"
fi
NODE_PATH="$modules" exec node $flags "$script" "$@"
