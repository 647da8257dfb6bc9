#!/usr/bin/env python3
"""The swarm on one machine: origin, signalling, a live stream and N viewers.

Starts, all on 127.0.0.1:
  * Debian's nginx with our module, configured from conf/nginx-origin.conf (hints on the
    live location, session credential, distributor, tracker, analytics, and the
    proxy_pass + Upgrade front of the signalling daemon);
  * the signalling daemon (//signalling:p2p-signalling) with the tracker's ticket secret;
  * a live HLS stream: segments encoded once by ffmpeg, then published on a 2 s timer by
    a small publisher (writes each segment one period before listing it, rewrites a
    sliding-window playlist atomically); each published segment gets one MPEG-TS null
    packet carrying its sequence number, so every segment has its own bytes and hash
    (encoding live for 20 viewers would take a core of a 2-core machine);
  * N swarm-peer processes (//tests/swarm:swarm-peer): a virtual player each, through
    the client library with real WebRTC data channels on loopback.

Prints a table every few seconds and a summary; `--json FILE` writes the figures.
Everything started here is stopped on exit (finally + signal handlers); every wait is
bounded.

  swarm.py --nginx-module SO --signalling BIN --peer BIN [--clients N] [--duration S]
           [--warmup S] [--malicious K] [--no-p2p] [--port P] [--prefix DIR]
"""

import argparse
import hashlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

# The source tree (under `bazel test` this file is a symlink into it): conf/ lives there.
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.realpath(__file__))))
SEGMENT_SECONDS = 2
WINDOW = 6
TS_PACKET = 188


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout, what):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("%s did not listen on port %d" % (what, port))


def allow_core_dump():
    import resource
    resource.setrlimit(resource.RLIMIT_CORE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))


def null_ts_packet(sequence):
    """An MPEG-TS null packet (PID 0x1FFF; demuxers discard it) naming the sequence."""
    header = bytes([0x47, 0x1F, 0xFF, 0x10])
    body = ("p2p-swarm-segment %d " % sequence).encode()
    return header + body + b"\xff" * (TS_PACKET - len(header) - len(body))


def encode_base_segments(directory, count, bitrate_kbps, log):
    """Encodes `count` 2 s segments once (reused across runs in `directory`)."""
    stamp = os.path.join(directory, "done-%d-%d" % (count, bitrate_kbps))
    if os.path.exists(stamp):
        return sorted(os.path.join(directory, f) for f in os.listdir(directory)
                      if f.startswith("base") and f.endswith(".ts"))
    shutil.rmtree(directory, ignore_errors=True)
    os.makedirs(directory)
    if shutil.which("ffmpeg"):
        log("encoding %d s of test pattern (ffmpeg, once)" % (count * SEGMENT_SECONDS))
        cmd = ["ffmpeg", "-nostdin", "-loglevel", "error",
               "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25",
               "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
               "-t", str(count * SEGMENT_SECONDS),
               "-c:v", "libx264", "-preset", "ultrafast", "-g", "50", "-keyint_min", "50",
               "-sc_threshold", "0", "-b:v", "%dk" % bitrate_kbps,
               "-maxrate", "%dk" % bitrate_kbps, "-bufsize", "%dk" % (2 * bitrate_kbps),
               "-c:a", "aac", "-b:a", "64k",
               "-f", "hls", "-hls_time", str(SEGMENT_SECONDS), "-hls_list_size", "0",
               "-hls_segment_filename", os.path.join(directory, "base%03d.ts"),
               os.path.join(directory, "base.m3u8")]
        subprocess.run(cmd, check=True, timeout=300)
    else:
        log("no ffmpeg: synthetic segments")
        size = bitrate_kbps * 1000 // 8 * SEGMENT_SECONDS
        for i in range(count):
            data = bytearray()
            block = hashlib.sha256(b"seed %d" % i).digest()
            while len(data) < size:
                block = hashlib.sha256(block).digest()
                data += block * 64
            with open(os.path.join(directory, "base%03d.ts" % i), "wb") as f:
                f.write(bytes(data[:size]))
    open(stamp, "w").close()
    return sorted(os.path.join(directory, f) for f in os.listdir(directory)
                  if f.startswith("base") and f.endswith(".ts"))


class Publisher(threading.Thread):
    """A live packager stand-in: one new segment every SEGMENT_SECONDS."""

    def __init__(self, live_dir, base_segments):
        super().__init__(daemon=True)
        self.live_dir = live_dir
        self.base = [open(p, "rb").read() for p in base_segments]
        self.truth = {}  # sequence -> sha256 hex of the published bytes
        self.stop_event = threading.Event()
        self.sequence = 0
        self.error = None
        self.started_at = None

    def segment_bytes(self, sequence):
        return self.base[sequence % len(self.base)] + null_ts_packet(sequence)

    def write_atomic(self, name, data):
        tmp = os.path.join(self.live_dir, "." + name + ".tmp")
        with open(tmp, "wb") as f:
            f.write(data)
        os.rename(tmp, os.path.join(self.live_dir, name))

    def write_segment(self, sequence):
        data = self.segment_bytes(sequence)
        self.truth[sequence] = hashlib.sha256(data).hexdigest()
        self.write_atomic("seg%d.ts" % sequence, data)

    def write_playlist(self, last):
        first = max(0, last - WINDOW + 1)
        lines = ["#EXTM3U", "#EXT-X-VERSION:3", "#EXT-X-TARGETDURATION:%d" % SEGMENT_SECONDS,
                 "#EXT-X-MEDIA-SEQUENCE:%d" % first]
        for s in range(first, last + 1):
            lines += ["#EXTINF:%.3f," % SEGMENT_SECONDS, "seg%d.ts" % s]
        self.write_atomic("index.m3u8", ("\n".join(lines) + "\n").encode())
        for s in range(max(0, first - 10), first - 4):
            try:
                os.unlink(os.path.join(self.live_dir, "seg%d.ts" % s))
            except FileNotFoundError:
                pass

    def prime(self):
        """A window of segments already there when viewers arrive (hashes settled)."""
        self.write_atomic("master.m3u8", (
            "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1200000,RESOLUTION=640x360\nindex.m3u8\n"
        ).encode())
        for s in range(WINDOW + 1):
            self.write_segment(s)
        old = time.time() - 10
        for s in range(WINDOW + 1):
            os.utime(os.path.join(self.live_dir, "seg%d.ts" % s), (old, old))
        self.write_playlist(WINDOW - 1)
        self.sequence = WINDOW - 1

    def run(self):
        try:
            self.started_at = time.monotonic()
            tick = 0
            while not self.stop_event.is_set():
                tick += 1
                wait = self.started_at + tick * SEGMENT_SECONDS - time.monotonic()
                if wait > 0 and self.stop_event.wait(wait):
                    break
                # The segment listed now was written one period ago (complete, settled);
                # the next one is written now, as a packager finishing it would.
                self.sequence += 1
                self.write_segment(self.sequence + 1)
                self.write_playlist(self.sequence)
        except Exception as e:  # reported by the orchestrator
            self.error = e


class Peer:
    def __init__(self, index, proc, malicious, p2p):
        self.index = index
        self.proc = proc
        self.malicious = malicious
        self.p2p = p2p
        self.stats = {}
        self.baseline = None  # stats at the end of the warm-up
        self.segments = []  # (sequence, sha256, source, size)
        self.reader = threading.Thread(target=self.read, daemon=True)
        self.reader.start()

    def read(self):
        for raw in self.proc.stdout:
            line = raw.decode(errors="replace").strip()
            if line.startswith("stats "):
                try:
                    self.stats = json.loads(line[6:])
                except ValueError:
                    pass
            elif line.startswith("segment "):
                parts = line.split()
                if len(parts) == 5:
                    self.segments.append((int(parts[1]), parts[2], parts[3], int(parts[4])))

    @property
    def name(self):
        return "peer%02d%s" % (self.index, " (bad)" if self.malicious else "")


def delta(now, base, key):
    return now.get(key, 0) - (base or {}).get(key, 0)


def efficiency(http, p2p):
    return p2p / (http + p2p) if http + p2p > 0 else 0.0


class Swarm:
    def __init__(self, args):
        self.args = args
        self.procs = []
        self.nginx_pid_file = None
        self.nginx_conf = None
        self.publisher = None
        self.peers = []
        self.log_prefix = "swarm: "
        self.interrupted = False

    def log(self, text):
        print(self.log_prefix + text, flush=True)

    # -- start ---------------------------------------------------------------
    def start(self):
        a = self.args
        self.prefix = a.prefix or tempfile.mkdtemp(
            prefix="swarm-", dir=os.environ.get("TEST_TMPDIR") or None)
        for d in ("logs", "html/live", "tmp"):
            os.makedirs(os.path.join(self.prefix, d), exist_ok=True)
        for f in os.listdir(os.path.join(self.prefix, "html/live")):
            os.unlink(os.path.join(self.prefix, "html/live", f))
        self.port = a.port or free_port()
        self.signalling_port = free_port()
        tracker_secret = secrets.token_urlsafe(24)
        session_key = secrets.token_urlsafe(24)

        cache = a.segment_cache or os.path.join(
            tempfile.gettempdir(), "p2p-swarm-segments")
        base = encode_base_segments(cache, a.base_segments, a.bitrate_kbps, self.log)
        self.publisher = Publisher(os.path.join(self.prefix, "html/live"), base)
        self.publisher.prime()

        secret_file = os.path.join(self.prefix, "ticket.secret")
        with open(secret_file, "w") as f:
            f.write(tracker_secret)
        sig_log = open(os.path.join(self.prefix, "logs", "signalling.log"), "wb")
        self.procs.append(subprocess.Popen(
            [a.signalling, "--listen", "127.0.0.1", "--port", str(self.signalling_port),
             "--ticket-secret-file", secret_file],
            stdout=sig_log, stderr=subprocess.STDOUT, start_new_session=True))
        wait_port(self.signalling_port, 10, "signalling daemon")

        conf = open(os.path.join(ROOT, "conf", "nginx-origin.conf")).read()
        conf = (conf.replace("/usr/lib/nginx/modules/ngx_http_p2p_module.so",
                             os.path.abspath(a.nginx_module))
                .replace("/srv/p2p-demo", self.prefix)
                .replace("listen 8080;", "listen 127.0.0.1:%d;" % self.port)
                .replace("server 127.0.0.1:8090;", "server 127.0.0.1:%d;" % self.signalling_port)
                .replace("CHANGE-ME-tracker-secret-0123456789", tracker_secret)
                .replace("CHANGE-ME-session-key-0123456789ab", session_key)
                .replace("worker_processes auto;", "worker_processes %d;" % a.workers)
                .replace("control_interval 60;", "control_interval %d;" % a.control_interval))
        if a.no_p2p_origin:
            conf = conf.replace("p2p_distributor on;", "p2p_distributor on;\n"
                                "            p2p_distributor_set p2p off;")
        temp = "\n".join("    %s_temp_path %s/tmp/%s;" % (k, self.prefix, k)
                         for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        conf = conf.replace("http {", "http {\n" + temp, 1)
        if os.getuid() == 0:
            conf = "user root root;\n" + conf
        self.credential_required = "p2p_session_require" in conf
        self.nginx_conf = os.path.join(self.prefix, "nginx.conf")
        with open(self.nginx_conf, "w") as f:
            f.write(conf)
        self.nginx_pid_file = os.path.join(self.prefix, "nginx.pid")
        subprocess.run(["nginx", "-p", self.prefix, "-c", self.nginx_conf, "-t", "-q"],
                       check=True, timeout=30)
        subprocess.run(["nginx", "-p", self.prefix, "-c", self.nginx_conf],
                       check=True, timeout=30)
        wait_port(self.port, 10, "nginx")
        self.publisher.start()

        self.base_url = "http://127.0.0.1:%d" % self.port
        self.master_url = self.base_url + "/live/master.m3u8"
        self.check_origin()

        total = a.clients + a.malicious
        # Each viewer runs until a few seconds after the measurement (which starts once
        # the last one is in).
        run_for = a.warmup + a.duration + 5 + int(total * a.stagger + 1)
        for i in range(total):
            malicious = i >= a.clients
            cmd = [a.peer, self.master_url, "--duration", str(run_for)]
            if a.no_p2p:
                cmd.append("--no-p2p")
            if malicious:
                cmd.append("--malicious")
            if a.peer_verbose:
                cmd.append("--verbose")
            err = open(os.path.join(self.prefix, "logs", "peer%02d.log" % i), "wb")
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err,
                                    start_new_session=True, preexec_fn=allow_core_dump
                                    if a.core_dumps else None)
            self.procs.append(proc)
            self.peers.append(Peer(i, proc, malicious, not a.no_p2p))
            # Viewers arrive over a few seconds, not in one instant.
            time.sleep(a.stagger)

    def check_origin(self):
        """The stream is up and hinted before any viewer comes (curl-level check)."""
        deadline = time.time() + 15
        last = ""
        while time.time() < deadline:
            try:
                body = urllib.request.urlopen(self.base_url + "/live/index.m3u8",
                                              timeout=5).read().decode()
                master = urllib.request.urlopen(self.master_url, timeout=5).read().decode()
                if "#EXT-P2P-SHA256" in body and "org.p2p.distributor" in master:
                    if self.credential_required:
                        self.check_credential(master)
                    return
                last = body
            except OSError as e:
                last = str(e)
            time.sleep(0.2)
        raise RuntimeError("origin never served a hinted playlist: " + last[:500])

    def check_credential(self, master):
        """The endpoints answer with the manifest's credential and refuse without it."""
        found = re.search(r'DATA-ID="org.p2p.credential",VALUE="([^"]+)"', master)
        if not found:
            raise RuntimeError("the master playlist carries no session credential")
        credential = urllib.request.unquote(found.group(1))
        url = self.base_url + "/p2p/config?customer=demo&content=live&version=1.0.0"
        try:
            urllib.request.urlopen(url, timeout=5)
            raise RuntimeError("the distributor answered without a session credential")
        except urllib.error.HTTPError as e:
            if e.code != 403:
                raise RuntimeError("distributor without credential: %d, not 403" % e.code)
        request = urllib.request.Request(url, headers={"X-P2P-Credential": credential})
        answer = json.loads(urllib.request.urlopen(request, timeout=5).read())
        if "p2p" not in answer:
            raise RuntimeError("distributor answer without p2p: %s" % answer)

    # -- run -----------------------------------------------------------------
    def analytics(self):
        try:
            return json.loads(urllib.request.urlopen(
                self.base_url + "/p2p/analytics/status", timeout=5).read())
        except (OSError, ValueError):
            return {}

    def row(self, name, s, base):
        http = delta(s, base, "http")
        p2p = delta(s, base, "p2p")
        return "%-12s %10.1f %10.1f %8.1f %6d %6d %9s %5d %7d %s" % (
            name, http / 1e6, p2p / 1e6, 100 * efficiency(http, p2p), delta(s, base, "stalls"),
            s.get("peers", 0), s.get("startup_ms", -1), s.get("integrity", 0),
            s.get("segments", 0), s.get("session", "?"))

    def table(self, elapsed, measuring):
        print("\n%s t=%3ds (%s)" % (self.log_prefix, elapsed,
                                     "measuring" if measuring else "warm-up"))
        print("%-12s %10s %10s %8s %6s %6s %9s %5s %7s %s" % (
            "client", "HTTP MB", "P2P MB", "peer%", "stalls", "peers", "start ms", "bad",
            "played", "session"))
        th = tp = st = 0
        for p in self.peers:
            base = p.baseline if measuring else None
            print(self.row(p.name, p.stats, base))
            if not p.malicious:
                th += delta(p.stats, base, "http")
                tp += delta(p.stats, base, "p2p")
                st += delta(p.stats, base, "stalls")
        print("%-12s %10.1f %10.1f %8.1f %6d" % ("total", th / 1e6, tp / 1e6,
                                                100 * efficiency(th, tp), st), flush=True)

    def run(self):
        a = self.args
        t0 = time.monotonic()
        warm_end = t0 + a.warmup
        end = warm_end + a.duration
        next_table = t0 + a.table_every
        measuring = False
        while True:
            now = time.monotonic()
            if now >= end or self.interrupted:
                break
            if not measuring and now >= warm_end:
                measuring = True
                for p in self.peers:
                    p.baseline = dict(p.stats)
            if self.publisher.error:
                raise RuntimeError("publisher failed: %s" % self.publisher.error)
            for p in self.peers:
                if p.proc.poll() is not None:
                    raise RuntimeError("%s exited early with %s (see %s/logs/peer%02d.log)" % (
                        p.name, p.proc.returncode, self.prefix, p.index))
            if a.table_every > 0 and now >= next_table:
                next_table = now + a.table_every
                self.table(int(now - t0), measuring)
            time.sleep(min(0.5, max(0.05, end - now)))
        final = {p.index: dict(p.stats) for p in self.peers}
        # Let the peers finish on their own, then read what they said last.
        for p in self.peers:
            if self.interrupted and p.proc.poll() is None:
                p.proc.terminate()
        for p in self.peers:
            try:
                p.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.proc.kill()
            p.reader.join(timeout=5)
        return self.summary(final)

    def summary(self, final):
        honest = [p for p in self.peers if not p.malicious]
        th = tp = 0
        stalls = 0
        player_bad = 0
        wrong_bytes = 0
        unknown = 0
        startups = []
        per_client = []
        for p in self.peers:
            s = final[p.index]
            http = delta(s, p.baseline, "http")
            p2p = delta(s, p.baseline, "p2p")
            per_client.append({
                "client": p.name, "malicious": p.malicious, "http_bytes": http,
                "p2p_bytes": p2p, "peer_efficiency": efficiency(http, p2p),
                "stalls_total": s.get("stalls", 0),
                "stalls_measured": delta(s, p.baseline, "stalls"),
                "startup_ms": s.get("startup_ms", -1), "integrity_failures": s.get("integrity", 0),
                "segments_played": s.get("segments", 0), "uploaded": s.get("up", 0),
                "corrupted_frames_sent": s.get("corrupted", 0)})
            # Every segment any player got, against what the publisher published.
            for seq, sha, source, size in p.segments:
                truth = self.publisher.truth.get(seq)
                if truth is None:
                    unknown += 1
                elif truth != sha:
                    wrong_bytes += 1
            player_bad += s.get("player_bad", 0)
            if p.malicious:
                continue
            th += http
            tp += p2p
            stalls += s.get("stalls", 0)
            startups.append(s.get("startup_ms", -1))
        status = self.analytics()
        contents = status.get("contents", [])
        checksum_reported = sum(c.get("checksum_failures", 0) for c in contents)
        result = {
            "clients": len(honest), "malicious": len(self.peers) - len(honest),
            "p2p": not self.args.no_p2p, "duration_s": self.args.duration,
            "warmup_s": self.args.warmup,
            "http_bytes": th, "p2p_bytes": tp, "peer_efficiency": efficiency(th, tp),
            "stalls": stalls, "player_integrity_failures": player_bad,
            "segments_with_wrong_bytes": wrong_bytes, "segments_unknown": unknown,
            "segments_played": sum(len(p.segments) for p in honest),
            "startup_ms_max": max(startups) if startups else -1,
            "startup_ms_avg": sum(startups) / len(startups) if startups else -1,
            "integrity_failures_detected": sum(c["integrity_failures"] for c in per_client),
            "control_checksum_failures": checksum_reported,
            "analytics_status": status,
            "per_client": per_client,
        }
        print("\n%s summary over %d s after %d s warm-up, %d clients%s%s" % (
            self.log_prefix, self.args.duration, self.args.warmup, len(honest),
            " + %d malicious" % result["malicious"] if result["malicious"] else "",
            " (P2P off)" if self.args.no_p2p else ""))
        for key in ("http_bytes", "p2p_bytes", "peer_efficiency", "stalls",
                    "startup_ms_avg", "startup_ms_max", "segments_played",
                    "player_integrity_failures", "segments_with_wrong_bytes",
                    "integrity_failures_detected", "control_checksum_failures"):
            value = result[key]
            if key == "peer_efficiency":
                value = "%.1f%%" % (100 * value)
            print("  %-28s %s" % (key, value))
        print("  analytics /status: %s" % json.dumps(contents), flush=True)
        return result

    # -- stop ----------------------------------------------------------------
    def stop(self):
        if self.publisher:
            self.publisher.stop_event.set()
        for proc in self.procs:
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except OSError:
                    pass
        for proc in self.procs:
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except OSError:
                    pass
                proc.wait(timeout=5)
        if self.nginx_pid_file and os.path.exists(self.nginx_pid_file):
            try:
                pid = int(open(self.nginx_pid_file).read().strip())
                os.kill(pid, signal.SIGQUIT)
                deadline = time.time() + 10
                while time.time() < deadline:
                    os.kill(pid, 0)
                    time.sleep(0.05)
                os.kill(pid, signal.SIGKILL)
            except (OSError, ValueError):
                pass

    def nginx_errors(self):
        path = os.path.join(self.prefix, "logs", "error.log")
        if not os.path.exists(path):
            return []
        return [l for l in open(path, errors="replace")
                if re.search(r"\[(alert|emerg|crit)\]|exited on signal", l)]


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--nginx-module", required=True)
    p.add_argument("--signalling", required=True)
    p.add_argument("--peer", required=True)
    p.add_argument("--clients", type=int, default=10)
    p.add_argument("--malicious", type=int, default=0)
    p.add_argument("--duration", type=int, default=60, help="measured seconds after warm-up")
    p.add_argument("--warmup", type=int, default=15)
    p.add_argument("--no-p2p", action="store_true", help="clients play over HTTP only")
    p.add_argument("--no-p2p-origin", action="store_true",
                   help="the distributor says p2p off (clients fall back to HTTP)")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--prefix")
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--stagger", type=float, default=0.3)
    p.add_argument("--table-every", type=float, default=5)
    p.add_argument("--control-interval", type=int, default=15)
    p.add_argument("--base-segments", type=int, default=15)
    p.add_argument("--bitrate-kbps", type=int, default=800)
    p.add_argument("--segment-cache")
    p.add_argument("--json")
    p.add_argument("--peer-verbose", action="store_true", help="client logs in PREFIX/logs")
    p.add_argument("--core-dumps", action="store_true", help="let crashing clients dump core")
    return p.parse_args(argv)


def run(argv):
    args = parse_args(argv)
    swarm = Swarm(args)

    def on_signal(signum, frame):
        if swarm.peers and not swarm.interrupted:
            swarm.interrupted = True  # stop measuring, print the summary, clean up
        else:
            raise KeyboardInterrupt()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        swarm.start()
        result = swarm.run()
        result["nginx_errors"] = swarm.nginx_errors()
        if args.json:
            with open(args.json, "w") as f:
                json.dump(result, f, indent=1)
        return result
    finally:
        swarm.stop()


if __name__ == "__main__":
    try:
        outcome = run(sys.argv[1:])
    except KeyboardInterrupt:
        sys.exit(130)
    if outcome["nginx_errors"]:
        print("swarm: nginx error log:\n" + "".join(outcome["nginx_errors"][:10]))
        sys.exit(1)
