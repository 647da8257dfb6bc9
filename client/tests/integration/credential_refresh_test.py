"""A session longer than its credential: nginx mints session credentials that live 12 s
(p2p_session_ttl, no clock skew allowed) into the master playlist and demands them at
the distributor, tracker, analytics and signalling locations (p2p_session_require).
Two p2p-player viewers play a 40 s VoD with the tracker asked every 5 s: they must
renew the credential by fetching the master playlist again before it expires, so no
endpoint ever refuses them and the second viewer keeps getting bytes from the first.

Usage (Bazel): credential_refresh_test.py P2P_PLAYER SIGNALLING_DAEMON
"""
import os
import secrets
import sys

from nginx_harness import NginxServer, free_port

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import session_env  # noqa: E402

STREAM_SECONDS = 40
TTL_SECONDS = 12
SECRET = secrets.token_urlsafe(24)
SESSION_SECRET = secrets.token_urlsafe(24)

HTTP_CONFIG = session_env.SESSION_HTTP + """
p2p_session_key k1 "%(session_secret)s";
p2p_session_ttl %(ttl)ds;
p2p_token_skew 0s;
"""

REQUIRE = "p2p_session_require $http_x_p2p_credential;"

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
location = /p2p/config {
    %(require)s
    p2p_distributor on;
    p2p_distributor_set tracker_url /p2p/tracker/;
    p2p_distributor_set signalling_url /p2p/signal/;
    p2p_distributor_set analytics_url /p2p/analytics/;
    p2p_distributor_set usage_interval 2;
}
location /p2p/tracker/ {
    %(require)s
    p2p_tracker swarms;
    p2p_tracker_announce_interval 5s;
}
location /p2p/analytics/ {
    %(require)s
    p2p_analytics stats;
}
""" % {"require": REQUIRE} + session_env.SIGNAL_LOCATION % {"extra": REQUIRE}


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
            sig = session_env.start_signalling(server, daemon, sig_port, SECRET)
            session_env.make_vod(server.html, STREAM_SECONDS)
            viewers = session_env.start_viewers(
                player, "http://127.0.0.1:%d/vod/master.m3u8" % server.port)
            session_env.wait_viewers(viewers, STREAM_SECONDS + 40)
            for v in viewers:
                logs = v.logs()
                renewed = [l for l in logs if "session credential renewed" in l]
                refused = [l for l in logs if "answered 40" in l]
                print("%s: %d renewals, refusals: %s" % (v.name_, len(renewed), refused[:3]))
                if not session_env.check_played_to_end(v, STREAM_SECONDS, failures):
                    continue
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
            session_env.stop(viewers, sig)
    return session_env.report(failures)


if __name__ == "__main__":
    sys.exit(main())
