#!/bin/sh
# Builds the access core fuzzer with clang-14 + libFuzzer + ASan/UBSan (Bazel uses g++).
# Usage: tests/fuzz/access/build.sh [OUT]   then, on a scratch copy of the seeds:
#   mkdir -p /tmp/access_corpus && cp tests/fuzz/access/corpus/* /tmp/access_corpus &&
#   OUT -max_total_time=60 -max_len=4096 /tmp/access_corpus
set -e
cd "$(dirname "$0")/../../.."
out=${1:-/tmp/access_token_fuzz}
clang++-14 -std=c++17 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -I. tests/fuzz/access/access_token_fuzz.cc \
  module/access/access_token.cc module/access/origin_allowlist.cc module/access/country_rule.cc \
  module/access/keyed_hmac.cc \
  common/base64url.cc common/hmac_sha256.cc -lcrypto -o "$out"
echo "$out"
