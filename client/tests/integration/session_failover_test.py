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
import socket
import subprocess
import sys
import threading
import time

from nginx_harness import NginxServer, free_port

FFMPEG = "/usr/bin/ffmpeg"
STREAM_SECONDS = 40
SECRET = secrets.token_urlsafe(24)

HTTP_CONFIG = """
p2p_hints_cache_zone hints:1m;
p2p_tracker_zone swarms 1m;
p2p_analytics_zone stats 256k;
p2p_tracker_secret "%(secret)s";
map $http_upgrade $signal_connection { default upgrade; '' close; }
upstream signalling { server 127.0.0.1:%(sig)d; }
"""

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
location /p2p/signal/ {
    proxy_pass http://signalling/;
    proxy_http_version 1.1;
    proxy_set_header Upgrade $http_upgrade;
    proxy_set_header Connection $signal_connection;
    proxy_read_timeout 120s;
    proxy_buffering off;
}
"""

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


def make_vod(html):
    directory = os.path.join(html, "vod")
    os.makedirs(directory, exist_ok=True)
    subprocess.run([FFMPEG, "-loglevel", "error", "-y",
                    "-f", "lavfi", "-i", "testsrc=duration=%d:size=320x180:rate=25" % STREAM_SECONDS,
                    "-c:v", "libx264", "-preset", "ultrafast", "-g", "50", "-b:v", "400k",
                    "-f", "hls", "-hls_time", "2", "-hls_playlist_type", "vod",
                    "-hls_segment_filename", "seg%03d.ts", "index.m3u8"],
                   cwd=directory, check=True, timeout=120)
    # Session data (tracker, signalling...) is carried by master playlists only.
    with open(os.path.join(directory, "master.m3u8"), "w") as f:
        f.write("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=500000,RESOLUTION=320x180\nindex.m3u8\n")
    old = time.time() - 60  # older than p2p_hints_hash_settle: every segment hashed
    for entry in os.listdir(directory):
        os.utime(os.path.join(directory, entry), (old, old))


class Viewer(threading.Thread):
    def __init__(self, name, cmd):
        super().__init__(daemon=True)
        self.name_ = name
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     start_new_session=True)
        self.events = []
        self.start()

    def run(self):
        for raw in self.proc.stdout:
            try:
                self.events.append(json.loads(raw.decode()))
            except ValueError:
                pass

    def last(self, kind):
        found = [e for e in self.events if e.get("event") == kind]
        return found[-1] if found else None

    def logs(self):
        return [e["line"] for e in self.events if e.get("event") == "log"]


def wait_port(port, seconds):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("port %d never opened" % port)


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

            deadline = time.time() + STREAM_SECONDS + 30
            for v in viewers:
                v.proc.wait(timeout=max(1, deadline - time.time()))
                v.join(timeout=5)
            for v in viewers:
                end = v.last("end")
                print("%s at the end: %s" % (v.name_, json.dumps(end)))
                if v.proc.returncode != 0 or not end:
                    failures.append("%s did not play to the end (exit %s)" %
                                    (v.name_, v.proc.returncode))
                    continue
                if end["stalls"] != 0:
                    failures.append("%s stalled %d times" % (v.name_, end["stalls"]))
                if end["played"] < STREAM_SECONDS - 3:
                    failures.append("%s played only %.1f s" % (v.name_, end["played"]))
                if end["integrity_failures"] != 0:
                    failures.append("%s saw integrity failures" % v.name_)
                fell_back = [l for l in v.logs() if "signalling lost" in l or "HTTP only" in l]
                print("%s fall-back log: %s" % (v.name_, fell_back[:3]))
                if not fell_back:
                    failures.append("%s logged no fall-back" % v.name_)
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
