#!/usr/bin/env python3
"""The swarm test (issue 7): 10 viewers on one live stream, real WebRTC on loopback.

Run 1: 10 clients, 60 s measured after a warm-up, default client settings:
  total peer efficiency >= 80 %, no stall in any client, no corrupted byte reaching
  any player (checked against the hint and against the publisher's own hashes).
Run 2: the same plus one malicious client that corrupts every segment it uploads:
  the same goals hold, the bad bytes were detected (integrity failures in the clients),
  and the analytics `control` counters show them in /p2p/analytics/status; each client
  drops the bad peer after its first bad segment (at most 4 failures, the peer fetches
  it may have running at that moment).

The figures are printed whatever happens; a goal not met fails the test.

  swarm_test.py SIGNALLING_BIN PEER_BIN     (the module: $P2P_NGINX_MODULE, run_py.sh)
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import swarm  # noqa: E402

CLIENTS = int(os.environ.get("SWARM_CLIENTS", "10"))
DURATION = int(os.environ.get("SWARM_DURATION", "60"))
WARMUP = int(os.environ.get("SWARM_WARMUP", "20"))
MIN_EFFICIENCY = 0.80
MAX_FAILURES_PER_BAD_PEER = 4


def scenario(module, signalling, peer, malicious):
    argv = ["--nginx-module", module, "--signalling", signalling, "--peer", peer,
            "--clients", str(CLIENTS), "--duration", str(DURATION), "--warmup", str(WARMUP),
            "--malicious", str(malicious), "--table-every", "10"]
    return swarm.run(argv)


def check(result, malicious):
    failures = []
    name = "with %d malicious" % malicious if malicious else "honest swarm"
    if result["peer_efficiency"] < MIN_EFFICIENCY:
        failures.append("%s: peer efficiency %.1f%% < %.0f%%" % (
            name, 100 * result["peer_efficiency"], 100 * MIN_EFFICIENCY))
    stalled = [c["client"] for c in result["per_client"]
               if not c["malicious"] and c["stalls_total"] > 0]
    if stalled:
        failures.append("%s: stalls in %s" % (name, ", ".join(stalled)))
    if result["player_integrity_failures"] or result["segments_with_wrong_bytes"]:
        failures.append("%s: corrupted segments reached players (hint check %d, publisher "
                        "check %d)" % (name, result["player_integrity_failures"],
                                       result["segments_with_wrong_bytes"]))
    if result["segments_unknown"]:
        failures.append("%s: %d segments the publisher never published" % (
            name, result["segments_unknown"]))
    expected_segments = CLIENTS * DURATION // swarm.SEGMENT_SECONDS
    if result["segments_played"] < expected_segments:
        failures.append("%s: players got %d segments, expected at least %d" % (
            name, result["segments_played"], expected_segments))
    if result["nginx_errors"]:
        failures.append("%s: nginx error log: %s" % (name, result["nginx_errors"][:3]))
    if malicious:
        sent = sum(c["corrupted_frames_sent"] for c in result["per_client"] if c["malicious"])
        if sent == 0:
            failures.append("%s: the malicious client never uploaded anything (the run "
                            "proves nothing)" % name)
        if result["integrity_failures_detected"] == 0:
            failures.append("%s: no client detected the corrupted data" % name)
        # Dropped after the first bad segment: at most the fetches already running from
        # that peer fail too (the scheduler runs up to 4 peer fetches at once).
        repeat = [c["client"] for c in result["per_client"]
                  if not c["malicious"] and c["integrity_failures"] > MAX_FAILURES_PER_BAD_PEER]
        if repeat:
            failures.append("%s: the bad peer was not dropped by %s" % (name, ", ".join(repeat)))
        if result["control_checksum_failures"] == 0:
            failures.append("%s: control analytics show no checksum failure" % name)
    else:
        if result["control_checksum_failures"] or result["integrity_failures_detected"]:
            failures.append("%s: integrity failures without a malicious peer" % name)
    return failures


def main():
    module = os.environ["P2P_NGINX_MODULE"]
    signalling, peer = sys.argv[1:3]
    failures = []
    for malicious in (0, 1):
        result = scenario(module, signalling, peer, malicious)
        brief = {k: v for k, v in result.items() if k not in ("per_client", "analytics_status")}
        print("RESULT %s" % json.dumps(brief, sort_keys=True), flush=True)
        failures += check(result, malicious)
    if failures:
        print("\nFAILED:\n  " + "\n  ".join(failures))
        sys.exit(1)
    print("\nPASSED: both runs met every goal")


if __name__ == "__main__":
    main()
