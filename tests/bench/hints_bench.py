#!/usr/bin/env python3
"""Cost of the hints filter, measured side by side in one run.

1. Throughput: wrk against the same live playlist (6 segments, hashes cached) served by
   one nginx worker plain and with p2p_hints, in alternating rounds. Prints both req/s
   (median of the rounds) and the ratio; goal >= 0.85.
2. Hashing: MB/s of the module hashing fresh 20 MB segments (a manifest request
   after the segments' mtimes change, so every hash is recomputed in the thread pool)
   next to `openssl speed -elapsed -evp sha256` on 256 KB blocks (the size the module
   reads), alternating, medians of 5.
   Prints both and the ratio; goal >= 0.9.

Usage: tests/bench/hints_bench.py [MODULE_SO]   (default: bazel-bin of this tree)
Environment: ROUNDS (5), DURATION (4 s per wrk round), CONNECTIONS (50).
"""

import os
import re
import statistics
import subprocess
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "harness"))
import nginx_harness as h  # noqa: E402


def module_path():
    if len(sys.argv) > 1:
        return os.path.abspath(sys.argv[1])
    out = subprocess.run(["bazel", "info", "bazel-bin"], cwd=ROOT, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, text=True).stdout.strip()
    return os.path.join(out, "module", "ngx_http_p2p_module.so")


def cpu_ticks(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime, clock ticks


def wrk(url, seconds, connections, worker):
    """(req/s, worker CPU microseconds per request): the second hardly moves with load."""
    before = cpu_ticks(worker)
    out = subprocess.run(["wrk", "-t1", "-c%d" % connections, "-d%ds" % seconds, url],
                         stdout=subprocess.PIPE, text=True, timeout=seconds + 30).stdout
    ticks = cpu_ticks(worker) - before
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    n = re.search(r"(\d+) requests in", out)
    if not m or not n or "Non-2xx" in out or "Socket errors" in out:
        raise SystemExit("wrk failed:\n" + out)
    return float(m.group(1)), ticks * 1e6 / os.sysconf("SC_CLK_TCK") / int(n.group(1))


def openssl_speed():
    # -elapsed: wall-clock time, as the module's figure (the default divides by CPU time).
    out = subprocess.run(["openssl", "speed", "-elapsed", "-seconds", "2", "-bytes", "262144",
                          "-evp", "sha256"],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True).stdout
    m = re.search(r"^sha256\s+([\d.]+)k", out, re.M)
    return float(m.group(1)) * 1000 / 1e6  # kB/s (1000 bytes) -> MB/s


def main():
    rounds = int(os.environ.get("ROUNDS", "5"))
    duration = int(os.environ.get("DURATION", "4"))
    connections = int(os.environ.get("CONNECTIONS", "50"))
    playlist = ["#EXTM3U", "#EXT-X-VERSION:3", "#EXT-X-TARGETDURATION:2",
                "#EXT-X-MEDIA-SEQUENCE:120"]
    for i in range(120, 126):
        playlist += ["#EXT-X-PROGRAM-DATE-TIME:2026-11-22T01:%02d:00.000Z" % (i - 100),
                     "#EXTINF:2.000000,", "index%d.ts" % i]
    server = h.NginxServer(module=module_path(), workers=1, log_level="warn",
                           main_config="thread_pool p2p_hash threads=2;", http_config="""
        p2p_hints_cache_zone hints:8m;""", config="""
        location /plain/ { alias $TEST_NGINX_HTML_DIR/live/; }
        location /hints/ { alias $TEST_NGINX_HTML_DIR/live/; p2p_hints on;
                           p2p_hints_thread_pool p2p_hash; p2p_hints_customer_id bench;
                           p2p_hints_tracker /p2p/tracker; }
        location /big/ { root $TEST_NGINX_HTML_DIR; p2p_hints on;
                         p2p_hints_thread_pool p2p_hash; }""")
    server.write_file("html/live/index.m3u8", "\n".join(playlist) + "\n")
    old = time.time() - 60
    for i in range(120, 126):
        p = server.write_file("html/live/index%d.ts" % i, h.deterministic_bytes(400000, i))
        os.utime(p, (old, old))
    seg_count, seg_bytes = 5, 20_000_000
    big = ["#EXTM3U", "#EXT-X-TARGETDURATION:10"]
    for i in range(seg_count):
        big += ["#EXTINF:10.0,", "s%d.ts" % i]
        server.write_file("html/big/s%d.ts" % i, h.deterministic_bytes(seg_bytes, i))
    server.write_file("html/big/index.m3u8", "\n".join(big) + "\n")

    with server:
        base = "http://127.0.0.1:%d" % server.port
        warm = server.get("/hints/index.m3u8")
        assert warm.text.count("#EXT-P2P-SHA256:") == 6, warm.text
        worker = server.worker_pids()[0]
        plain, hinted = [], []
        for _ in range(rounds):
            plain.append(wrk(base + "/plain/index.m3u8", duration, connections, worker))
            hinted.append(wrk(base + "/hints/index.m3u8", duration, connections, worker))
        p = statistics.median(x[0] for x in plain)
        q = statistics.median(x[0] for x in hinted)
        pc = statistics.median(x[1] for x in plain)
        qc = statistics.median(x[1] for x in hinted)
        print("playlist req/s  plain nginx: %10.0f   with p2p_hints: %10.0f   ratio: %.3f "
              "(goal >= 0.85)" % (p, q, q / p))
        print("worker CPU/req  plain nginx: %8.1f us   with p2p_hints: %8.1f us   ratio: %.3f "
              "(plain/hints; load-independent)" % (pc, qc, pc / qc))

        subprocess.run(["sh", "-c", "cat %s/big/*.ts >/dev/null" % server.html])
        rates, ossl_rates = [], []
        for r in range(5):
            ossl_rates.append(openssl_speed())
            t = time.time() - 120 - r
            for i in range(seg_count):
                os.utime(os.path.join(server.html, "big", "s%d.ts" % i), (t, t))
            start = time.perf_counter()
            resp = server.get("/big/index.m3u8")
            elapsed = time.perf_counter() - start
            assert resp.text.count("#EXT-P2P-SHA256:") == seg_count, resp.text
            rates.append(seg_count * seg_bytes / elapsed / 1e6)
        module_rate = statistics.median(rates)
        ossl = statistics.median(ossl_rates)
        print("sha256 MB/s     openssl speed: %8.0f   module (5 x 20 MB): %8.0f   ratio: %.3f "
              "(goal >= 0.9)" % (ossl, module_rate, module_rate / ossl))


if __name__ == "__main__":
    main()
