#!/bin/sh
# Builds the signalling core fuzzer with clang-14 + libFuzzer + ASan/UBSan (Bazel uses g++).
# Usage: tests/fuzz/signalling/build.sh [OUT]   then, on a scratch copy of the seeds:
#   mkdir -p /tmp/signalling_corpus && cp tests/fuzz/signalling/corpus/* /tmp/signalling_corpus &&
#   OUT -max_total_time=60 -max_len=8192 /tmp/signalling_corpus
set -e
cd "$(dirname "$0")/../../.."
out=${1:-/tmp/signalling_core_fuzz}
clang++-14 -std=c++17 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -I. tests/fuzz/signalling/signalling_core_fuzz.cc \
  signalling/signalling_core.cc signalling/json_scan.cc signalling/binary_string.cc \
  tracker/ticket.cc common/base64url.cc common/hmac_sha256.cc -lcrypto -o "$out"
echo "$out"
