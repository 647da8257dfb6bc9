#!/bin/sh
# Builds the client library's libFuzzer targets with clang-14 + ASan/UBSan (not part of
# the Bazel build, which uses g++). Usage: tests/fuzz/build_client_fuzzers.sh [OUT_DIR]
# Run one, e.g.: OUT_DIR/client_manifest_fuzz -max_total_time=60 -dict=tests/fuzz/hints_manifest.dict
set -e
cd "$(dirname "$0")/../.."
out=${1:-/tmp/fuzzers}
mkdir -p "$out"
FUZZ_FLAGS="-std=c++17 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -I."
clang++-14 $FUZZ_FLAGS tests/fuzz/client_manifest_fuzz.cc client/hls_playlist.cc client/dash_mpd.cc \
  client/manifest.cc client/url.cc client/xml_tree.cc client/wire_protocol.cc \
  -o "$out/client_manifest_fuzz"
clang++-14 $FUZZ_FLAGS tests/fuzz/client_wire_fuzz.cc client/peer_swarm.cc client/loopback_transport.cc \
  client/wire_protocol.cc client/segment_store.cc common/hmac_sha256.cc -lcrypto \
  -o "$out/client_wire_fuzz"
echo "fuzzers in $out"
