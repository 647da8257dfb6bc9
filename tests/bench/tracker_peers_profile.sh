#!/bin/bash
# Instructions per `peers` call of the tracker core, without nginx, under callgrind
# (instruction counts do not move with the machine's load, unlike req/s).
#
#   tests/bench/tracker_peers_profile.sh [CALLS]
#
# Builds tests/bench/tracker_peers_driver.cc (g++ -O2, as the -c opt module), runs it
# under callgrind once with no `peers` call (the 10,000-peer fill alone) and once with
# CALLS calls, and prints the difference per call. The profile of the second run is
# left in $out/callgrind.peers for callgrind_annotate.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
calls=${1:-10000}
out=$(mktemp -d /tmp/tracker-profile.XXXXXX)
cd "$here"
g++ -std=c++17 -O2 -g -DNDEBUG -I. tests/bench/tracker_peers_driver.cc \
  tracker/tracker_api.cc tracker/peers_request_parser.cc tracker/json_request.cc \
  tracker/json_limits.cc tracker/peer_ranking.cc tracker/swarm_registry.cc tracker/swarm_snapshots.cc tracker/ticket.cc \
  tracker/ticket_signer.cc common/base64url.cc common/hmac_sha256.cc \
  -ljansson -lssl -lcrypto -o "$out/driver"
instructions() {
  valgrind --tool=callgrind --callgrind-out-file="$2" "$out/driver" "$1" ${3:-} 2>&1 |
    awk '/Collected :/ {print $NF}'
}
fill=$(instructions 0 "$out/callgrind.fill")
total=$(instructions "$calls" "$out/callgrind.peers")
walked=$(instructions "$calls" "$out/callgrind.walk" walk)
echo "callgrind: $(( (total - fill) / calls )) instructions per peers call with the worker's swarm copies ($calls calls; profile: $out/callgrind.peers)"
echo "callgrind: $(( (walked - fill) / calls )) instructions per peers call walking the swarm every time (profile: $out/callgrind.walk)"
/usr/bin/time -f "driver CPU: %U s user for fill + 100000 calls (copies)" "$out/driver" 100000
/usr/bin/time -f "driver CPU: %U s user for fill + 100000 calls (walk)" "$out/driver" 100000 walk
