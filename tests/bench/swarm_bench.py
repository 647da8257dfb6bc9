#!/usr/bin/env python3
"""Swarm benchmark: peer efficiency, stalls and start-up time for 3, 5, 10 and 20 viewers
of one live stream, each next to the same viewers with P2P off (HTTP only), plus data
channel open time and throughput between two peers on loopback.

Every run is tests/swarm/swarm.py (nginx from conf/nginx-origin.conf, signalling daemon,
live publisher, swarm-peer processes with real WebRTC); the data-channel figures come
from //tests/bench:datachannel_bench_ours (the webrtc helper's benchmark, our stack
alone: median open time of RUNS connections, one-way MB/s in 64 KiB messages, the wire
protocol's chunk size).

  tests/bench/swarm_bench.py            # CLIENTS="3 5 10 20" WARMUP=20 DURATION=40
  BAZEL_OUTPUT_BASE=... picks the Bazel output base.
"""

import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.realpath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "swarm"))
import swarm  # noqa: E402

CLIENTS = [int(n) for n in os.environ.get("CLIENTS", "3 5 10 20").split()]
WARMUP = int(os.environ.get("WARMUP", "20"))
DURATION = int(os.environ.get("DURATION", "40"))
RUNS = os.environ.get("RUNS", "10")
MEGABYTES = os.environ.get("MEGABYTES", "32")


def bazel(*args):
    cmd = ["bazel"]
    if os.environ.get("BAZEL_OUTPUT_BASE"):
        cmd.append("--output_base=" + os.environ["BAZEL_OUTPUT_BASE"])
    return subprocess.run(cmd + list(args), cwd=ROOT, check=True, stdout=subprocess.PIPE,
                          stderr=subprocess.DEVNULL, timeout=1800).stdout.decode().strip()


def main():
    targets = ["//module:ngx_http_p2p_module.so", "//signalling:p2p-signalling",
               "//tests/swarm:swarm-peer", "//tests/bench:datachannel_bench_ours"]
    bazel("build", "-c", "opt", "--jobs=2", *targets)
    bin_dir = bazel("info", "-c", "opt", "bazel-bin")
    paths = {
        "module": os.path.join(bin_dir, "module/ngx_http_p2p_module.so"),
        "signalling": os.path.join(bin_dir, "signalling/p2p-signalling"),
        "peer": os.path.join(bin_dir, "tests/swarm/swarm-peer"),
        "datachannel": os.path.join(bin_dir, "tests/bench/datachannel_bench_ours"),
    }

    dc = json.loads(subprocess.run(
        [paths["datachannel"], "--runs=" + RUNS, "--megabytes=" + MEGABYTES,
         "--message-size=65536"], check=True, stdout=subprocess.PIPE,
        timeout=600).stdout.decode().strip().splitlines()[-1])

    rows = []
    for n in CLIENTS:
        figures = {}
        for mode in ("p2p", "http"):
            argv = ["--nginx-module", paths["module"], "--signalling", paths["signalling"],
                    "--peer", paths["peer"], "--clients", str(n), "--warmup", str(WARMUP),
                    "--duration", str(DURATION), "--table-every", "0"]
            if mode == "http":
                argv.append("--no-p2p")
            figures[mode] = swarm.run(argv)
        rows.append((n, figures))

    print("\nswarm: %d s measured after %d s warm-up, one live stream (2 s segments, "
          "~1 Mbit/s), viewers arriving 0.3 s apart" % (DURATION, WARMUP))
    print("%7s | %10s %6s %13s %10s | %10s %6s %13s %10s" % (
        "clients", "P2P: peer%", "stalls", "start avg/max", "origin MB",
        "HTTP: peer%", "stalls", "start avg/max", "origin MB"))
    for n, f in rows:
        cells = []
        for mode in ("p2p", "http"):
            r = f[mode]
            cells.append("%9.1f%% %6d %6.0f/%-6d %10.1f" % (
                100 * r["peer_efficiency"], r["stalls"], r["startup_ms_avg"],
                r["startup_ms_max"], r["http_bytes"] / 1e6))
        print("%7d | %s | %s" % (n, cells[0], cells[1]))
    print("\ndata channel on loopback (two peers, one process): open %.1f ms median "
          "(min %.1f, max %.1f, %d runs); throughput %.1f MB/s one way in %d-byte messages "
          "(%.1f MB per CPU second)" % (
              dc["open_ms_median"], dc["open_ms_min"], dc["open_ms_max"], dc["runs"],
              dc["mb_per_s"], dc["message_size"], dc["mb_per_cpu_s"]))


if __name__ == "__main__":
    main()
