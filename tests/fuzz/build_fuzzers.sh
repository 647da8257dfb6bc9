#!/bin/sh
# Builds the libFuzzer targets with clang-14 + ASan/UBSan (not part of the Bazel
# build, which uses g++). Usage: tests/fuzz/build_fuzzers.sh [OUT_DIR]
# Run one, e.g. for 60 s on a scratch copy of its seeds:
#   mkdir -p /tmp/c && cp module/hints/testdata/*.m3u8 /tmp/c &&
#   OUT_DIR/hints_hls_fuzz -max_total_time=60 -dict=tests/fuzz/hints_manifest.dict /tmp/c
set -e
cd "$(dirname "$0")/../.."
out=${1:-/tmp/fuzzers}
mkdir -p "$out"
FUZZ_FLAGS="-std=c++17 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -I."

# Manifest rewriter of the hints filter (seeds: module/hints/testdata/*.m3u8, *.mpd).
HINTS_SRCS="module/hints/dash_mpd.cc module/hints/hls_playlist.cc module/hints/manifest_rewriter.cc
  module/hints/xml_tokenizer.cc module/hints/manifest_invariants.cc
  common/base64url.cc common/hmac_sha256.cc"
clang++-14 $FUZZ_FLAGS tests/fuzz/hints_hls_fuzz.cc $HINTS_SRCS -lcrypto -o "$out/hints_hls_fuzz"
clang++-14 $FUZZ_FLAGS tests/fuzz/hints_dash_fuzz.cc $HINTS_SRCS -lcrypto -o "$out/hints_dash_fuzz"
# The hint format end to end: module/hints output read back by the client's parsers.
HINTS_CLIENT_SRCS="client/dash_mpd.cc client/hls_playlist.cc client/manifest.cc client/url.cc
  client/xml_tree.cc client/wire_protocol.cc"
clang++-14 $FUZZ_FLAGS tests/fuzz/hints_contract_fuzz.cc $HINTS_SRCS $HINTS_CLIENT_SRCS -lcrypto \
  -o "$out/hints_contract_fuzz"


# Segment path resolution of the hints glue (path traversal must be impossible).
clang++-14 $FUZZ_FLAGS tests/fuzz/segment_path_fuzz.cc module/hasher/segment_path.cc \
  -o "$out/segment_path_fuzz"

echo "fuzzers in $out"
