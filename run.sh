#!/bin/bash
# The main job: a swarm on this machine. The origin (Debian's nginx with our module,
# configured from conf/nginx-origin.conf: peer hints, distributor, tracker, analytics,
# signalling front), the signalling daemon, a live HLS stream and N viewers (C++ client
# library, real WebRTC data channels on 127.0.0.1, each with a virtual player playing in
# real time), with a live table of HTTP bytes, P2P bytes, peer efficiency and stalls per
# viewer and in total, and a summary at the end.
#
#   ./run.sh [--clients N] [--duration SECONDS] [--malicious K] [--no-p2p]
#            [--port PORT] [--prefix DIR] [--origin-only]
#
# --duration: seconds of measurement after a 10 s warm-up (default: until Ctrl-C).
# --malicious K: add K viewers that corrupt every segment they upload.
# --no-p2p: the same viewers over HTTP only (the baseline).
# --origin-only: the origin half alone (ffmpeg live stream + hints report), no viewers.
# Installs what is missing first (scripts/setup.sh), builds with Bazel
# (BAZEL_OUTPUT_BASE selects an output base), then runs everything on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")"
root=$PWD

duration=0
port=8080
prefix=${TMPDIR:-/tmp}/p2p-demo-$(id -u)  # per user: another user's run leaves files behind
clients=10
malicious=0
no_p2p=
origin_only=
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) duration=$2; shift 2 ;;
    --port) port=$2; shift 2 ;;
    --prefix) prefix=$2; shift 2 ;;
    --clients) clients=$2; shift 2 ;;
    --malicious) malicious=$2; shift 2 ;;
    --no-p2p) no_p2p=--no-p2p; shift ;;
    --origin-only) origin_only=1; shift ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

scripts/setup.sh
bazel=(bazel)
[ -n "${BAZEL_OUTPUT_BASE:-}" ] && bazel=(bazel "--output_base=$BAZEL_OUTPUT_BASE")
targets=(//module:ngx_http_p2p_module.so)
[ -z "$origin_only" ] && targets+=(//signalling:p2p-signalling //tests/swarm:swarm-peer)
echo "run: building ${targets[*]}"
"${bazel[@]}" build "${targets[@]}" 2>&1 | grep -vE "^(INFO|Loading|Analyzing)" || true
bin="$("${bazel[@]}" info bazel-bin 2>/dev/null)"
module="$bin/module/ngx_http_p2p_module.so"
[ -f "$module" ] || { echo "run: build failed" >&2; exit 1; }

if [ -z "$origin_only" ]; then
  for f in "$bin/signalling/p2p-signalling" "$bin/tests/swarm/swarm-peer"; do
    [ -x "$f" ] || { echo "run: build failed ($f missing)" >&2; exit 1; }
  done
  mkdir -p "$prefix"
  measure=$duration
  [ "$measure" -gt 0 ] || measure=86400
  echo
  echo "Origin with peer hints: http://127.0.0.1:$port/live/master.m3u8 (ffplay, mpv, VLC, hls.js)"
  echo "nginx config:           $prefix/nginx.conf   (from conf/nginx-origin.conf)"
  echo "Analytics:              http://127.0.0.1:$port/p2p/analytics/status and /metrics"
  echo "$clients viewers$([ "$malicious" -gt 0 ] && echo " + $malicious malicious"), table every 5 s; Ctrl-C stops with a summary"
  exec python3 tests/swarm/swarm.py --nginx-module "$module" \
    --signalling "$bin/signalling/p2p-signalling" --peer "$bin/tests/swarm/swarm-peer" \
    --clients "$clients" --malicious "$malicious" --duration "$measure" --warmup 10 \
    --port "$port" --prefix "$prefix" --workers 2 $no_p2p
fi

# --origin-only: the origin half, with a live ffmpeg stream.
mkdir -p "$prefix/logs" "$prefix/html/live" "$prefix/tmp"
rm -f "$prefix/html/live/"*
# The operator's example config, pointed at this prefix and port (the P2P endpoints
# are there too; without a signalling daemon only its WebSocket front is idle).
sed -e "s|/usr/lib/nginx/modules/ngx_http_p2p_module.so|$module|" \
    -e "s|/srv/p2p-demo|$prefix|g" \
    -e "s|listen 8080;|listen 127.0.0.1:$port;|" \
    -e "s|worker_processes auto;|worker_processes 2;|" \
    conf/nginx-origin.conf > "$prefix/nginx.conf"
if [ "$(id -u)" -eq 0 ]; then sed -i "1i user root root;" "$prefix/nginx.conf"; fi
sed -i "s|^http {|http {\n    client_body_temp_path $prefix/tmp/body;\n    proxy_temp_path $prefix/tmp/proxy;\n    fastcgi_temp_path $prefix/tmp/fastcgi;\n    uwsgi_temp_path $prefix/tmp/uwsgi;\n    scgi_temp_path $prefix/tmp/scgi;|" "$prefix/nginx.conf"

pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -f "$prefix/nginx.pid" ] && kill -QUIT "$(cat "$prefix/nginx.pid")" 2>/dev/null || true
}
trap cleanup EXIT INT TERM

nginx -p "$prefix" -c "$prefix/nginx.conf" -t -q
nginx -p "$prefix" -c "$prefix/nginx.conf"

# A live stream: test pattern and tone, 2 s segments, a sliding window of 6.
ffmpeg -nostdin -loglevel error -re \
  -f lavfi -i "testsrc2=size=640x360:rate=25" -f lavfi -i "sine=frequency=440:sample_rate=48000" \
  -c:v libx264 -preset veryfast -tune zerolatency -g 50 -b:v 800k -c:a aac -b:a 96k \
  -f hls -hls_time 2 -hls_list_size 6 -hls_flags delete_segments+temp_file+program_date_time \
  "$prefix/html/live/index.m3u8" &
pids+=($!)

url="http://127.0.0.1:$port/live/index.m3u8"
echo
echo "Origin with peer hints: $url"
echo "Play it with:            ffplay $url    (or mpv, VLC, hls.js)"
echo "nginx config:            $prefix/nginx.conf   (from conf/nginx-origin.conf)"
echo

start=$(date +%s)
printf "%8s %10s %9s %8s  %s\n" "time" "segments" "hashed" "bytes" "swarm"
while :; do
  sleep 2
  now=$(date +%s)
  if ! body=$(curl -sf "$url"); then
    printf "%7ss  waiting for the first segments\n" $((now - start))
  else
    segs=$(grep -c '^#EXTINF' <<<"$body" || true)
    hashed=$(grep -c '^#EXT-P2P-SHA256' <<<"$body" || true)
    swarm=$(sed -n 's/^#EXT-P2P-SWARM://p' <<<"$body")
    printf "%7ss %10s %9s %8s  %s\n" $((now - start)) "$segs" "$hashed" "${#body}" "$swarm"
  fi
  if [ "$duration" -gt 0 ] && [ $((now - start)) -ge "$duration" ]; then break; fi
done
# Before ffmpeg writes the first playlist, nginx logs a 404 for it: expected.
grep -E "\[(alert|emerg|crit|error)\]" "$prefix/logs/error.log" | grep -v 'index.m3u8" failed (2: No such file' && exit 1
echo "run: done, no errors in $prefix/logs/error.log"
