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
NODE_PATH="$modules" exec node "$script" "$@"
