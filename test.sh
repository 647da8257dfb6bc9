#!/bin/bash
# Runs every test: unit (cmocka), integration (real nginx, signalling daemon, WebRTC
# peers, headless Chromium). Installs what is missing first (scripts/setup.sh).
# Ends with a line "N passed, N failed" counting Bazel test targets.
set -uo pipefail
cd "$(dirname "$0")"
scripts/setup.sh || { echo "0 passed, 1 failed"; exit 1; }
log=$(mktemp)
bazel test //... --keep_going --test_output=errors --test_summary=short "$@" 2>&1 | tee "$log" | grep -v "linux-sandbox"
status=${PIPESTATUS[0]}
passed=$(grep -cE '^//[^ ]+ +(\(cached\) )?PASSED' "$log")
failed=$(grep -cE '^//[^ ]+ +(\(cached\) )?(FAILED|TIMEOUT|NO STATUS|FAILED TO BUILD|INCOMPLETE)' "$log")
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi  # build broke before tests
rm -f "$log"
echo "$passed passed, $failed failed"
exit "$status"
