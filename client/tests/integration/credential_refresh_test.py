"""A session longer than its credential: nginx mints session credentials that live 12 s
(p2p_session_ttl, no clock skew allowed) into the master playlist and demands them at the distributor,
tracker, analytics and signalling locations (p2p_session_require). Two p2p-player
viewers play a 40 s VoD with the tracker asked every 5 s: they must renew the
credential by fetching the master playlist again before it expires, so no endpoint
ever refuses them and the second viewer keeps getting bytes from the first.

Usage (Bazel): credential_refresh_test.py P2P_PLAYER SIGNALLING_DAEMON
"""
import json
import os
import secrets
import signal
import subprocess
import sys
import time

from nginx_harness import NginxServer, free_port

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from session_failover_test import Viewer, make_vod, wait_port  # noqa: E402

STREAM_SECONDS = 40
TTL_SECONDS = 12
SECRET = secrets.token_urlsafe(24)
SESSION_SECRET = secrets.token_urlsafe(24)

HTTP_CONFIG = """
p2p_hints_cache_zone hints:1m;
p2p_tracker_zone swarms 1m;
p2p_analytics_zone stats 256k;
p2p_tracker_secret "%(secret)s";
p2p_session_key k1 "%(session_secret)s";
p2p_session_ttl %(ttl)ds;
p2p_token_skew 0s;
map $http_upgrade $signal_connection { default upgrade; '' close; }
upstream signalling { server 127.0.0.1:%(sig)d; }
"""

CONFIG = """
location /vod/ {
    root $TEST_NGINX_HTML_DIR;
    p2p_hints on;
    p2p_hints_customer_id demo;
    p2p_hints_content_id renew;
    p2p_hints_distributor /p2p/config;
    p2p_hints_tracker /p2p/tracker/;
    p2p_hints_signalling /p2p/signal/;
    p2p_hints_analytics /p2p/analytics/;
    p2p_hints_credential $p2p_session_credential;
}
location /p2p/signal/ {
    p2p_session_require $http_x_p2p_credential;
    proxy_pass http://signalling/;
    proxy_http_version 1.1;
    proxy_set_header Upgrade $http_upgrade;
    proxy_set_header Connection $signal_connection;
    proxy_read_timeout 120s;
    proxy_buffering off;
}
location = /p2p/config {
    p2p_session_require $http_x_p2p_credential;
    p2p_distributor on;
    p2p_distributor_set tracker_url /p2p/tracker/;
    p2p_distributor_set signalling_url /p2p/signal/;
    p2p_distributor_set analytics_url /p2p/analytics/;
    p2p_distributor_set usage_interval 2;
}
location /p2p/tracker/ {
    p2p_session_require $http_x_p2p_credential;
    p2p_tracker swarms;
    p2p_tracker_announce_interval 5s;
}
location /p2p/analytics/ {
    p2p_session_require $http_x_p2p_credential;
    p2p_analytics stats;
}
"""


def main():
    player, daemon = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    sig_port = free_port()
    failures = []
    viewers = []
    sig = None
    http_config = HTTP_CONFIG % {"secret": SECRET, "session_secret": SESSION_SECRET,
                                 "ttl": TTL_SECONDS, "sig": sig_port}
    with NginxServer(http_config=http_config, config=CONFIG) as server:
        try:
            secret_file = os.path.join(server.prefix, "ticket.secret")
            with open(secret_file, "w") as f:
                f.write(SECRET)
            sig_log = open(os.path.join(server.prefix, "logs", "signalling.log"), "wb")
            sig = subprocess.Popen([daemon, "--listen", "127.0.0.1", "--port", str(sig_port),
                                    "--ticket-secret-file", secret_file],
                                   stdout=sig_log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
            wait_port(sig_port, 10)
            make_vod(server.html)
            url = "http://127.0.0.1:%d/vod/master.m3u8" % server.port
            cmd = [player, url, "--ice-address", "127.0.0.1", "--max-buffer", "12"]
            viewers.append(Viewer("first", cmd))
            time.sleep(4)
            viewers.append(Viewer("second", cmd))
            deadline = time.time() + STREAM_SECONDS + 40
            for v in viewers:
                v.proc.wait(timeout=max(1, deadline - time.time()))
                v.join(timeout=5)
            for v in viewers:
                end = v.last("end")
                logs = v.logs()
                print("%s at the end: %s" % (v.name_, json.dumps(end)))
                renewed = [l for l in logs if "session credential renewed" in l]
                refused = [l for l in logs if "answered 40" in l]
                print("%s: %d renewals, refusals: %s" % (v.name_, len(renewed), refused[:3]))
                if v.proc.returncode != 0 or not end:
                    failures.append("%s did not play to the end (exit %s)" %
                                    (v.name_, v.proc.returncode))
                    continue
                if end["stalls"] != 0:
                    failures.append("%s stalled %d times" % (v.name_, end["stalls"]))
                # 40 s and more of playing with a 12 s credential: renewed at least twice.
                if len(renewed) < 2:
                    failures.append("%s renewed its credential %d times" % (v.name_, len(renewed)))
                if refused:
                    failures.append("%s was refused: %s" % (v.name_, refused[:3]))
                if not any("joined swarm" in line for line in logs):
                    failures.append("%s never joined the swarm" % v.name_)
            second = viewers[1].last("end") or {}
            if second.get("bytes_p2p", 0) <= 0:
                failures.append("second viewer got no bytes from peers")
        finally:
            for v in viewers:
                if v.proc.poll() is None:
                    os.killpg(v.proc.pid, signal.SIGTERM)
                    v.proc.wait(timeout=10)
            if sig and sig.poll() is None:
                os.killpg(sig.pid, signal.SIGTERM)
                sig.wait(timeout=10)
    for f in failures:
        print("FAIL " + f)
    print("%d passed, %d failed" % (0 if failures else 1, len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
