"""The whole session against real endpoints, then losing them: nginx with our module
(hints, distributor, tracker, analytics), the signalling daemon behind it, and two
p2p-player viewers with WebRTC on loopback playing one VoD.

1. Both viewers go through the session (distributor -> tracker init -> signalling ->
   peers) and the second one gets bytes from the first (verified against the hints).
2. Mid-session the signalling daemon is killed and nginx is reloaded with the
   distributor, tracker and analytics answering 503: playback goes on over HTTP, both
   viewers reach the end with no stall, and the client logs show the fall-back.

Usage (Bazel): session_failover_test.py P2P_PLAYER SIGNALLING_DAEMON
"""
import json
import os
import secrets
import signal
import sys
import time

from nginx_harness import NginxServer, free_port

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import session_env  # noqa: E402

STREAM_SECONDS = 40
SECRET = secrets.token_urlsafe(24)

HTTP_CONFIG = session_env.SESSION_HTTP

VOD = """
location /vod/ {
    root $TEST_NGINX_HTML_DIR;
    p2p_hints on;
    p2p_hints_customer_id demo;
    p2p_hints_content_id failover;
    p2p_hints_distributor /p2p/config;
    p2p_hints_tracker /p2p/tracker/;
    p2p_hints_signalling /p2p/signal/;
    p2p_hints_analytics /p2p/analytics/;
}
""" + session_env.SIGNAL_LOCATION % {"extra": ""}

ENDPOINTS_UP = VOD + """
location = /p2p/config {
    p2p_distributor on;
    p2p_distributor_set tracker_url /p2p/tracker/;
    p2p_distributor_set signalling_url /p2p/signal/;
    p2p_distributor_set analytics_url /p2p/analytics/;
    p2p_distributor_set usage_interval 2;
}
location /p2p/tracker/ { p2p_tracker swarms; p2p_tracker_announce_interval 5s; }
location /p2p/analytics/ { p2p_analytics stats; }
"""

ENDPOINTS_DOWN = VOD + """
location /p2p/ { return 503; }
"""


def main():
    player, daemon = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    sig_port = free_port()
    failures = []
    viewers = []
    sig = None
    http_config = HTTP_CONFIG % {"secret": SECRET, "sig": sig_port}
    with NginxServer(http_config=http_config, config=ENDPOINTS_UP) as server:
        # Killing the daemon is the point: nginx logs the refused upstream connections.
        server.expect_error("connect() failed (111: Connection refused) while connecting to upstream")
        try:
            sig = session_env.start_signalling(server, daemon, sig_port, SECRET)
            session_env.make_vod(server.html, STREAM_SECONDS)
            viewers = session_env.start_viewers(
                player, "http://127.0.0.1:%d/vod/master.m3u8" % server.port)

            # Phase 1: the session runs and peers help.
            time.sleep(10)
            for v in viewers:
                progress = v.last("progress") or {}
                print("%s before failure: %s" % (v.name_, json.dumps(progress)))
                if not any("joined swarm" in line for line in v.logs()):
                    failures.append("%s never joined the swarm: %s" % (v.name_, v.logs()[-5:]))
            for v in viewers:
                print("%s log so far: %s" % (v.name_, v.logs()))
            second = viewers[1].last("progress") or {}
            if second.get("bytes_p2p", 0) <= 0:
                failures.append("second viewer got no bytes from peers")

            # Phase 2: signalling dies, the HTTP endpoints fail.
            os.killpg(sig.pid, signal.SIGTERM)
            sig.wait(timeout=10)
            server.set_config(ENDPOINTS_DOWN, http_config)
            server.reload()

            session_env.wait_viewers(viewers, STREAM_SECONDS + 30)
            for v in viewers:
                if not session_env.check_played_to_end(v, STREAM_SECONDS, failures):
                    continue
                fell_back = [l for l in v.logs() if "signalling lost" in l or "HTTP only" in l]
                print("%s fall-back log: %s" % (v.name_, fell_back[:3]))
                if not fell_back:
                    failures.append("%s logged no fall-back" % v.name_)
        finally:
            session_env.stop(viewers, sig)
    return session_env.report(failures)


if __name__ == "__main__":
    sys.exit(main())
