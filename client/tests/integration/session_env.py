"""What the whole-session tests share: a VoD with a master playlist, the signalling
daemon next to a test nginx, p2p-player viewers reading their JSON events, and the
end-of-playback checks."""
import json
import os
import signal
import socket
import subprocess
import threading
import time

FFMPEG = "/usr/bin/ffmpeg"

# The WebSocket front of the signalling daemon (an `upstream signalling` and the
# `$signal_connection` map must be in the http block). `extra` goes inside.
SIGNAL_LOCATION = """
location /p2p/signal/ {
    %(extra)s
    proxy_pass http://signalling/;
    proxy_http_version 1.1;
    proxy_set_header Upgrade $http_upgrade;
    proxy_set_header Connection $signal_connection;
    proxy_read_timeout 120s;
    proxy_buffering off;
}
"""

SIGNAL_HTTP = """
map $http_upgrade $signal_connection { default upgrade; '' close; }
upstream signalling { server 127.0.0.1:%(sig)d; }
"""

# The http{} directives every whole-session test starts from: the three zones, the
# tracker secret (%(secret)s) and the signalling upstream (%(sig)d).
SESSION_HTTP = """
p2p_hints_cache_zone hints:1m;
p2p_tracker_zone swarms 1m;
p2p_analytics_zone stats 256k;
p2p_tracker_secret "%(secret)s";
""" + SIGNAL_HTTP


def make_vod(html, seconds):
    directory = os.path.join(html, "vod")
    os.makedirs(directory, exist_ok=True)
    subprocess.run([FFMPEG, "-loglevel", "error", "-y",
                    "-f", "lavfi", "-i", "testsrc=duration=%d:size=320x180:rate=25" % seconds,
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


def start_signalling(server, daemon, port, secret):
    """The daemon on `port` with the ticket secret, its log in the nginx prefix."""
    secret_file = os.path.join(server.prefix, "ticket.secret")
    with open(secret_file, "w") as f:
        f.write(secret)
    log = open(os.path.join(server.prefix, "logs", "signalling.log"), "wb")
    proc = subprocess.Popen([daemon, "--listen", "127.0.0.1", "--port", str(port),
                             "--ticket-secret-file", secret_file],
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    wait_port(port, 10)
    return proc


def start_viewers(player, url, gap_seconds=4):
    """Two p2p-player viewers of `url`, the second `gap_seconds` after the first."""
    cmd = [player, url, "--ice-address", "127.0.0.1", "--max-buffer", "12"]
    first = Viewer("first", cmd)
    time.sleep(gap_seconds)
    return [first, Viewer("second", cmd)]


def wait_viewers(viewers, seconds):
    deadline = time.time() + seconds
    for v in viewers:
        v.proc.wait(timeout=max(1, deadline - time.time()))
        v.join(timeout=5)


def check_played_to_end(v, seconds, failures):
    """Appends to `failures` unless `v` played `seconds` (less 3) with no stall and no
    integrity failure. Returns its last `end` event (or None)."""
    end = v.last("end")
    print("%s at the end: %s" % (v.name_, json.dumps(end)))
    if v.proc.returncode != 0 or not end:
        failures.append("%s did not play to the end (exit %s)" % (v.name_, v.proc.returncode))
        return None
    if end["stalls"] != 0:
        failures.append("%s stalled %d times" % (v.name_, end["stalls"]))
    if end["played"] < seconds - 3:
        failures.append("%s played only %.1f s" % (v.name_, end["played"]))
    if end["integrity_failures"] != 0:
        failures.append("%s saw integrity failures" % v.name_)
    return end


def stop(viewers, sig):
    for v in viewers:
        if v.proc.poll() is None:
            os.killpg(v.proc.pid, signal.SIGTERM)
            v.proc.wait(timeout=10)
    if sig and sig.poll() is None:
        os.killpg(sig.pid, signal.SIGTERM)
        sig.wait(timeout=10)


def report(failures):
    for f in failures:
        print("FAIL " + f)
    print("%d passed, %d failed" % (0 if failures else 1, len(failures)))
    return 1 if failures else 0
