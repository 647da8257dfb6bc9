#!/bin/sh
# Builds the tracker request-parser fuzzer with libFuzzer + ASan/UBSan (not part of
# the Bazel build, which uses g++). Run: ./tracker_requests_fuzz tests/fuzz/tracker_requests_corpus
set -e
cd "$(dirname "$0")/../.."
out=${1:-/tmp/tracker_requests_fuzz}
clang++-14 -std=c++17 -O1 -g -fsanitize=fuzzer,address,undefined -I. \
  tests/fuzz/tracker_requests_fuzz.cc \
  tracker/tracker_api.cc tracker/peers_request_parser.cc tracker/json_request.cc tracker/json_limits.cc \
  tracker/peer_ranking.cc tracker/swarm_registry.cc tracker/swarm_snapshots.cc tracker/ticket.cc tracker/ticket_signer.cc \
  tracker/distributor.cc tracker/analytics_store.cc \
  common/base64url.cc common/hmac_sha256.cc \
  -ljansson -lssl -lcrypto -o "$out"
echo "$out"
