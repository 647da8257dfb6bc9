#!/bin/bash
# Cost of the access checks: wrk against the same static segment served by one nginx
# worker twice, once without checks and once behind p2p_token (a valid token in the
# query, HMAC verified on every request), in alternating rounds. Prints both req/s
# (median of the rounds) and their ratio; the goal is a ratio >= 0.9.
#
# A third measurement cycles through 1000 distinct tokens (the uncached worst case).
#
# Usage: tests/bench/access_bench.sh [MODULE_SO [P2P_TOKEN_TOOL]]
#   defaults: the Bazel outputs (bazel build //module:ngx_http_p2p_module.so //tools/p2p-token)
# Environment: DURATION (seconds per round, 5), ROUNDS (5), CONNECTIONS (50),
#   SEGMENT_BYTES (size of the segment, 16384).
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
module=$(realpath "${1:-$root/bazel-bin/module/ngx_http_p2p_module.so}")
tool=$(realpath "${2:-$root/bazel-bin/tools/p2p-token/p2p-token}")
duration=${DURATION:-5}
rounds=${ROUNDS:-5}
connections=${CONNECTIONS:-50}
segment_bytes=${SEGMENT_BYTES:-16384}
for f in "$module" "$tool"; do
  [ -f "$f" ] || { echo "missing $f (bazel build it first)" >&2; exit 2; }
done
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 2; }

prefix=$(mktemp -d /tmp/access-bench.XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
secret="bench-secret-0123456789abcdef"
mkdir -p "$prefix/logs" "$prefix/html/plain/film" "$prefix/html/token/film" "$prefix/conf"
head -c "$segment_bytes" /dev/urandom > "$prefix/html/plain/film/seg-1.ts"
cp "$prefix/html/plain/film/seg-1.ts" "$prefix/html/token/film/seg-1.ts"
user=""
[ "$(id -u)" = 0 ] && user="user root root;"
cat > "$prefix/conf/nginx.conf" <<CONF
load_module $module;
$user
worker_processes 1;
pid $prefix/logs/nginx.pid;
error_log $prefix/logs/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    sendfile on;
    client_body_temp_path $prefix/tmp;
    server {
        listen 127.0.0.1:$port reuseport;
        root $prefix/html;
        p2p_token_key bench "$secret";
        location /plain/ { }
        location /token/ { p2p_token \$arg_token \$cookie_p2p_token; }
    }
}
CONF
nginx -p "$prefix" -c "$prefix/conf/nginx.conf"
cleanup() {
  if [ -f "$prefix/logs/nginx.pid" ]; then kill -QUIT "$(cat "$prefix/logs/nginx.pid")" 2>/dev/null || true; fi
  sleep 0.3
  rm -rf "$prefix"
}
trap cleanup EXIT

token=$("$tool" mint --key-id bench --secret "$secret" --scope "/token/film/*" --ttl 3600)
plain_url="http://127.0.0.1:$port/plain/film/seg-1.ts?token=$token"
token_url="http://127.0.0.1:$port/token/film/seg-1.ts?token=$token"
for url in "$plain_url" "$token_url"; do
  code=$(curl -s -o /dev/null -w '%{http_code}' "$url")
  [ "$code" = 200 ] || { echo "warm-up $url -> $code" >&2; exit 1; }
done
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/token/film/seg-1.ts")
[ "$code" = 403 ] || { echo "the token location let a request without token through" >&2; exit 1; }

# Worst case, for the record: 1000 distinct tokens in turn, more than the per-worker
# cache of verified tokens holds (128), so nearly every request runs the HMAC.
for ((i = 0; i < 1000; i++)); do
  "$tool" mint --key-id bench --secret "$secret" --scope "/token/film/*" --ttl 3600 --sid "viewer-$i"
done > "$prefix/tokens.txt"
# The Lua request() costs wrk time too, so its control runs the same script against the
# location without checks.
for location in token plain; do
  cat > "$prefix/distinct-$location.lua" <<LUA
tokens = {}
for line in io.lines("$prefix/tokens.txt") do tokens[#tokens + 1] = line end
i = 0
request = function()
  i = i % #tokens + 1
  return wrk.format("GET", "/$location/film/seg-1.ts?token=" .. tokens[i])
end
LUA
done

worker=$(pgrep -P "$(cat "$prefix/logs/nginx.pid")" | head -1)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$worker/stat"; }
tick_us=$((1000000 / $(getconf CLK_TCK)))

# Prints "req/s worker-CPU-microseconds-per-request" for one wrk round. On a shared
# machine req/s swings with the neighbours' load; the worker's CPU time per request
# hardly does, so both are reported.
rate() {
  local before after out
  before=$(cpu_ticks)
  out=$(wrk -t1 -c"$connections" -d"${duration}s" "$@")
  after=$(cpu_ticks)
  awk -v ticks=$((after - before)) -v tick_us="$tick_us" '
    /^Requests\/sec:/ { rps = $2 }
    / requests in / { n = $1 }
    END { printf "%s %.2f\n", rps, (n > 0 ? ticks * tick_us / n : 0) }' <<<"$out"
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
log_start=$(stat -c %s "$prefix/logs/error.log")
plain_rates=() token_rates=() distinct_rates=() control_rates=()
for ((i = 0; i < rounds; i++)); do
  plain_rates+=("$(rate "$plain_url")")
  token_rates+=("$(rate "$token_url")")
  control_rates+=("$(rate -s "$prefix/distinct-plain.lua" "http://127.0.0.1:$port")")
  distinct_rates+=("$(rate -s "$prefix/distinct-token.lua" "http://127.0.0.1:$port")")
done
field() { printf '%s\n' "$@" | awk -v f="$field_index" '{print $f}'; }
field_index=1
plain=$(field "${plain_rates[@]}" | median)
checked=$(field "${token_rates[@]}" | median)
distinct=$(field "${distinct_rates[@]}" | median)
control=$(field "${control_rates[@]}" | median)
field_index=2
plain_cpu=$(field "${plain_rates[@]}" | median)
checked_cpu=$(field "${token_rates[@]}" | median)
distinct_cpu=$(field "${distinct_rates[@]}" | median)
control_cpu=$(field "${control_rates[@]}" | median)
echo "segment ${segment_bytes} bytes, 1 worker, wrk -t1 -c${connections}, ${rounds} x ${duration}s rounds"
echo "without token check: ${plain} req/s, worker CPU ${plain_cpu} us/request   (rounds: $(field_index=1 field "${plain_rates[@]}" | tr '\n' ' '))"
echo "with token check:    ${checked} req/s, worker CPU ${checked_cpu} us/request   (rounds: $(field_index=1 field "${token_rates[@]}" | tr '\n' ' '))"
# Rounds run back to back in pairs; the median of the per-pair ratios is the figure,
# since the load of a shared machine drifts more between pairs than within one.
ratio=$(for ((i = 0; i < rounds; i++)); do
  awk -v a="${token_rates[$i]%% *}" -v b="${plain_rates[$i]%% *}" 'BEGIN { printf "%.4f\n", a / b }'
done | median)
awk -v a="$checked" -v b="$plain" 'BEGIN { printf "ratio of the medians: %.3f\n", a / b }'
awk -v r="$ratio" 'BEGIN { printf "ratio (median of paired rounds): %.3f (goal >= 0.9): %s\n", r, (r >= 0.9 ? "met" : "NOT met") }'
awk -v a="$plain_cpu" -v b="$checked_cpu" 'BEGIN { printf "ratio of worker CPU per request (plain / checked, load-independent): %.3f\n", (b > 0 ? a / b : 0) }'
echo "worst case, 1000 distinct tokens (HMAC on nearly every request):"
echo "  without check, same wrk script: ${control} req/s, worker CPU ${control_cpu} us/request"
echo "  with token check:               ${distinct} req/s, worker CPU ${distinct_cpu} us/request"
awk -v a="$distinct" -v b="$control" -v c="$control_cpu" -v d="$distinct_cpu" 'BEGIN { printf "  ratio: %.3f, CPU ratio %.3f (for the record, no goal)\n", a / b, (d > 0 ? c / d : 0) }'
if tail -c +"$((log_start + 1))" "$prefix/logs/error.log" | grep -q "p2p access denied"; then
  echo "error: requests were denied during the run" >&2
  exit 1
fi
