#!/bin/sh
# p2p-signalling vs npm bittorrent-tracker server, side by side on loopback.
#   bazel build //signalling:p2p-signalling && tests/signalling/setup.sh
#   SIGNALLING_BIN=bazel-bin/signalling/p2p-signalling tests/bench/signalling_bench.sh [--seconds 4] [--workers 1] [--rounds 3] [--idle 10000]
# 10,000 idle WebSockets need ~20,000 descriptors on this host (both ends are local).
set -eu
here=$(dirname "$(readlink -f "$0")")
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
if [ ! -d "$here/../signalling/node_modules/ws" ]; then
  echo "run tests/signalling/setup.sh first (npm ci --ignore-scripts)" >&2
  exit 1
fi
exec node "$here/signalling_bench.mjs" "$@"
