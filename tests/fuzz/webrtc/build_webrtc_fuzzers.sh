#!/bin/sh
# Builds the WebRTC SDP parser fuzzer with clang-14 + libFuzzer/ASan/UBSan (not part of
# the Bazel build, which uses g++). Usage: tests/fuzz/webrtc/build_webrtc_fuzzers.sh [OUT_DIR]
# Run on a scratch copy of the seeds:
#   mkdir -p /tmp/c && cp tests/fuzz/webrtc/sdp_corpus/* /tmp/c && OUT_DIR/sdp_fuzz -max_total_time=60 /tmp/c
set -e
cd "$(dirname "$0")/../../.."
out=${1:-/tmp/webrtc_fuzzers}
mkdir -p "$out"
clang++-14 -std=c++17 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -I. \
  tests/fuzz/webrtc/sdp_fuzz.cc client/webrtc/sdp.cc -o "$out/sdp_fuzz"
echo "fuzzers in $out"
