#!/bin/sh
# p2p-signalling vs npm bittorrent-tracker server, side by side on loopback.
#   bazel build -c opt //signalling:p2p-signalling && tests/signalling/setup.sh
#   SIGNALLING_BIN=bazel-bin/signalling/p2p-signalling tests/bench/signalling_bench.sh [--seconds 4] [--workers 1] [--rounds 3] [--idle 10000]
# The load generator is C++ (signalling_bench_load.cc, built here with g++ against
# Debian's libwebsockets and libev); NODE_GENERATOR=1 uses the Node (ws) one instead.
# 10,000 idle WebSockets need ~20,000 descriptors on this host (both ends are local).
set -eu
here=$(dirname "$(readlink -f "$0")")
root="$here/../.."
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
if [ ! -d "$here/../signalling/node_modules/ws" ]; then
  echo "run tests/signalling/setup.sh first (npm ci --ignore-scripts)" >&2
  exit 1
fi
if [ "${NODE_GENERATOR:-0}" = 1 ]; then
  exec node "$here/signalling_bench.mjs" "$@"
fi
generator="${TMPDIR:-/tmp}/signalling_bench_load"
g++ -std=c++17 -O2 -I"$root" "$here/signalling_bench_load.cc" "$root/signalling/json_scan.cc" \
  "$root/signalling/binary_string.cc" -o "$generator" -lwebsockets -lev
exec node "$here/signalling_bench.mjs" --load-binary "$generator" "$@"
