#!/bin/bash
# Tracker `peers` throughput next to nginx `return 200`, in one nginx, in one run.
#
#   [CHURN=1] tests/bench/tracker_peers_bench.sh [MODULE_SO] [SECONDS] [ROUNDS]
#
# Fills 10,000 peers into 100 swarms through `init`, then hammers `peers` (numwant 20,
# a different peer's ticket per request) with wrk and a Lua script, and prints
# req/s of both in alternating rounds, the median of the per-round ratios (goal >= 0.5)
# and the shared-memory bytes per peer of the
# tracker zone (goal <= 256). Loopback only; every phase is bounded in time.
set -euo pipefail

here=$(cd "$(dirname "$0")/../.." && pwd)
module=${1:-$here/bazel-bin/module/ngx_http_p2p_module.so}
seconds=${2:-5}  # per load and round
rounds=${3:-5}
churn=$([ "${CHURN:-0}" = 1 ] && echo true || echo false)
peers_total=10000
swarms=100
threads=1
connections=50

[ -f "$module" ] || { echo "module not found: $module (bazel build //module:ngx_http_p2p_module.so)" >&2; exit 1; }
command -v wrk >/dev/null || { echo "wrk is not installed" >&2; exit 1; }

prefix=$(mktemp -d /tmp/tracker-bench.XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$prefix/logs" "$prefix/conf" "$prefix/tmp"
cleanup() {
  if [ -f "$prefix/logs/nginx.pid" ]; then
    kill -QUIT "$(cat "$prefix/logs/nginx.pid")" 2>/dev/null || true
    sleep 0.5
  fi
  rm -rf "$prefix"
}
trap cleanup EXIT

user_line=""
[ "$(id -u)" = 0 ] && user_line="user root root;"
cat >"$prefix/conf/nginx.conf" <<EOF
load_module $module;
$user_line
worker_processes 1;
pid $prefix/logs/nginx.pid;
error_log $prefix/logs/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $prefix/tmp/body;
    proxy_temp_path $prefix/tmp/proxy;
    fastcgi_temp_path $prefix/tmp/fastcgi;
    uwsgi_temp_path $prefix/tmp/uwsgi;
    scgi_temp_path $prefix/tmp/scgi;
    keepalive_requests 1000000;
    p2p_tracker_zone swarms 2m;
    server {
        listen 127.0.0.1:$port;
        location = /ok { return 200 "ok\n"; }
        location /p2p/tracker/ {
            p2p_tracker swarms;
            p2p_tracker_secret bench-secret-0123456789abcdef;
            p2p_tracker_announce_interval 300s;
            p2p_tracker_peer_ttl 900s;
            p2p_tracker_max_peers_per_swarm 1000;
        }
    }
}
EOF
nginx -p "$prefix" -c "$prefix/conf/nginx.conf"
for _ in $(seq 50); do
  (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  sleep 0.1
done

# Fill: 10,000 init calls over one keep-alive connection; keep every ticket.
python3 - "$port" "$peers_total" "$swarms" "$prefix/tickets.lua" <<'EOF'
import http.client, json, sys, time
port, total, swarms, out = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
tickets = []
start = time.time()
for i in range(total):
    body = json.dumps({"swarm": "swarm%03d" % (i % swarms), "customer": "bench",
                       "network": ("wifi", "ethernet", "cellular", "unknown")[i % 4],
                       "upload_kbps": (i * 37) % 20000})
    conn.request("POST", "/p2p/tracker/init", body, {"Content-Type": "application/json"})
    resp = conn.getresponse()
    data = resp.read()
    if resp.status != 200:
        sys.exit("init %d failed: %d %s" % (i, resp.status, data[:200]))
    tickets.append(json.loads(data)["ticket"])
    if time.time() - start > 120:
        sys.exit("fill took longer than 120 s")
with open(out, "w") as f:
    f.write("tickets = {\n")
    for t in tickets:
        f.write('  "%s",\n' % t)
    f.write("}\n")
print("filled %d peers in %d swarms in %.1f s" % (total, swarms, time.time() - start))
EOF

cat >"$prefix/peers.lua" <<EOF
dofile("$prefix/tickets.lua")
-- Requests are formatted once, so wrk spends its CPU on sending, as it does for
-- the plain return 200 run (both share this machine's cores with nginx).
-- (in init: wrk.format needs the thread's host for the Host header).
-- CHURN=1: every request changes its peer's upload capacity (a ranking field), so no
-- worker can reuse its copy of the swarm: the worst case, every call walks the zone.
local churn = $churn
local requests = {}
init = function(args)
  local passes = churn and 2 or 1
  for pass = 1, passes do
    for i, t in ipairs(tickets) do
      local extra = churn and (',"upload_kbps":' .. (pass == 1 and 1000 or 3000)) or ''
      requests[#requests + 1] = wrk.format("POST", "/p2p/tracker/peers",
                                           {["Content-Type"] = "application/json"},
                                           '{"ticket":"' .. t .. '","numwant":20' .. extra .. '}')
    end
  end
end
local n = 0
request = function()
  n = n % #requests + 1
  return requests[n]
end
done = function(summary, latency, requests)
  local bad = summary.errors.status + summary.errors.connect + summary.errors.read
            + summary.errors.write + summary.errors.timeout
  io.write(string.format("non-2xx or socket errors: %d\n", bad))
  if bad > 0 then io.write("BENCH INVALID: requests failed\n") end
end
EOF

rps() { awk '/^Requests\/sec:/ {print $2}'; }
# The worker's CPU seconds (user + system) so far: req/s moves with the machine's load,
# CPU per request much less.
worker=$(pgrep -P "$(cat "$prefix/logs/nginx.pid")" | head -n 1)
worker_cpu() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($14 + $15) / hz}' "/proc/$worker/stat"; }
# Rounds alternate the two loads, so a change in the machine's load hits both about
# equally; the verdict is on the median of the per-round ratios.
results=()
for round in $(seq "$rounds"); do
  cpu0=$(worker_cpu)
  base_out=$(wrk -t$threads -c$connections -d"${seconds}s" "http://127.0.0.1:$port/ok")
  cpu1=$(worker_cpu)
  peers_out=$(wrk -t$threads -c$connections -d"${seconds}s" -s "$prefix/peers.lua" \
    "http://127.0.0.1:$port/p2p/tracker/peers")
  cpu2=$(worker_cpu)
  if echo "$peers_out" | grep -q "BENCH INVALID"; then
    echo "$peers_out" >&2
    echo "peers requests failed: the figures are not valid" >&2
    exit 1
  fi
  base=$(echo "$base_out" | rps)
  peers=$(echo "$peers_out" | rps)
  results+=("$base $peers $cpu0 $cpu1 $cpu2")
  echo "round $round: return 200 $base req/s, peers $peers req/s"
done
stats=$(curl -s "http://127.0.0.1:$port/p2p/tracker/stats")
echo "== results (wrk -t$threads -c$connections, $rounds rounds of ${seconds}s per load; peers: numwant 20, 100 peers per swarm, churn $churn)"
echo "tracker stats: $stats"
python3 - "$stats" "$seconds" "${results[@]}" <<'EOF'
import json, statistics, sys
stats, seconds = json.loads(sys.argv[1]), float(sys.argv[2])
rounds = [[float(v) for v in r.split()] for r in sys.argv[3:]]
ratios, base_us, peers_us = [], [], []
for base, peers, cpu0, cpu1, cpu2 in rounds:
    ratios.append(peers / base if base else 0.0)
    base_us.append((cpu1 - cpu0) * 1e6 / (base * seconds) if base else 0.0)
    peers_us.append((cpu2 - cpu1) * 1e6 / (peers * seconds) if peers else 0.0)
base = statistics.median(r[0] for r in rounds)
peers = statistics.median(r[1] for r in rounds)
ratio = statistics.median(ratios)
print("return 200: %10.0f req/s (median)" % base)
print("peers:      %10.0f req/s (median)" % peers)
print("per-round ratios: %s" % " ".join("%.2f" % r for r in ratios))
print("ratio:      %10.2f   median of the rounds (goal >= 0.5) %s"
      % (ratio, "ok" if ratio >= 0.5 else "BELOW GOAL"))
b, p = statistics.median(base_us), statistics.median(peers_us)
print("nginx worker CPU per request (median): return 200 %.1f us, peers %.1f us, ratio %.2f"
      " (wrk shares the cores)" % (b, p, b / p if p else 0.0))
bpp = stats["bytes_per_peer"]
print("shm bytes per peer: %.1f (zone %d bytes / capacity %d peers; goal <= 256) %s"
      % (bpp, stats["zone_bytes"], stats["peer_capacity"], "ok" if bpp <= 256 else "ABOVE GOAL"))
print("peers stored: %d in %d swarms" % (stats["peers"], stats["swarms"]))
EOF
if grep -E "\[(alert|crit|emerg)\]|exited on signal" "$prefix/logs/error.log"; then
  echo "nginx logged alerts" >&2
  exit 1
fi
