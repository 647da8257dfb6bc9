#!/bin/sh
# Runs a Node test script of this folder with the npm packages of this folder
# (installed by `npm ci` in tests/interop; node_modules is not in git).
# Usage: run_node.sh SCRIPT.js ARGS...  (paths relative to the runfiles root)
set -eu
script="$1"
shift
# Runfiles are symlinks into the source tree; node resolves require() from the
# real path of the script, which finds tests/interop/node_modules.
real_script="$(readlink -f "tests/interop/$script")"
modules="$(dirname "$real_script")/node_modules"
if [ ! -d "$modules/node-datachannel" ]; then
  echo "missing $modules: run 'npm ci' in tests/interop first" >&2
  exit 1
fi
exec node "$real_script" "$@"
