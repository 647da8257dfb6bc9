#!/bin/sh
# Runs one Node test file of this folder against the Bazel-built daemon.
# node_modules comes from `tests/signalling/setup.sh` (npm ci --ignore-scripts), kept out of git.
set -eu
script=$(readlink -f "$0")
here=$(dirname "$script")
if [ ! -d "$here/node_modules/ws" ] || [ ! -d "$here/node_modules/bittorrent-tracker" ]; then
  echo "tests/signalling: node_modules missing; run tests/signalling/setup.sh first" >&2
  exit 1
fi
SIGNALLING_BIN="${TEST_SRCDIR}/${TEST_WORKSPACE}/signalling/p2p-signalling"
export SIGNALLING_BIN
test_file="$1"
shift
exec node "$@" "$here/$test_file"
