#!/bin/bash
# Cost of the access checks: wrk against the same static segment served by one nginx
# worker twice, once without checks and once behind p2p_token (a valid token in the
# query, HMAC verified on every request), in alternating rounds. Prints both req/s
# (median of the rounds) and their ratio; the goal is a ratio >= 0.9.
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

rate() {
  wrk -t1 -c"$connections" -d"${duration}s" "$1" | awk '/^Requests\/sec:/ {print $2}'
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
log_start=$(stat -c %s "$prefix/logs/error.log")
plain_rates=() token_rates=()
for ((i = 0; i < rounds; i++)); do
  plain_rates+=("$(rate "$plain_url")")
  token_rates+=("$(rate "$token_url")")
done
plain=$(printf '%s\n' "${plain_rates[@]}" | median)
checked=$(printf '%s\n' "${token_rates[@]}" | median)
echo "segment ${segment_bytes} bytes, 1 worker, wrk -t1 -c${connections}, ${rounds} x ${duration}s rounds"
echo "without token check: ${plain} req/s   (rounds: ${plain_rates[*]})"
echo "with token check:    ${checked} req/s   (rounds: ${token_rates[*]})"
awk -v a="$checked" -v b="$plain" 'BEGIN { r = a / b; printf "ratio: %.3f (goal >= 0.9): %s\n", r, (r >= 0.9 ? "met" : "NOT met") }'
if tail -c +"$((log_start + 1))" "$prefix/logs/error.log" | grep -q "p2p access denied"; then
  echo "error: requests were denied during the run" >&2
  exit 1
fi
