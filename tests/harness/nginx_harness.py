"""A test nginx on loopback: Debian's nginx with our module, in a private prefix.

Used two ways:
  * declaratively, through block files (*.t) read by run_blocks.py, in the manner of
    Test::Nginx: a block per case with config, files, request and expectations;
  * from Python, for multi-step flows: `with NginxServer(module, config=...) as s:`.

A server fails its test on any [alert], [emerg] or [crit] line, on a worker that
exited on a signal, and on an [error] line nobody said to expect.
"""

import hashlib
import http.client
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

NGINX = os.environ.get("TEST_NGINX_BINARY", "/usr/sbin/nginx")
ALWAYS_FATAL = ("[alert]", "[emerg]", "[crit]")
CRASH_RE = re.compile(r"exited on signal|worker process \d+ exited with fatal")


class HarnessError(AssertionError):
    pass


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def deterministic_bytes(size, seed):
    """Reproducible pseudo-random content for segment files (fast for 20 MB)."""
    out = bytearray()
    block = hashlib.sha256(("seed:%s" % seed).encode()).digest()
    while len(out) < size:
        block = hashlib.sha256(block).digest()
        out += block * 64
    return bytes(out[:size])


class Response:
    def __init__(self, status, reason, headers, body):
        self.status = status
        self.reason = reason
        self.headers = headers  # list of (name, value) in order received
        self.body = body

    def header(self, name):
        name = name.lower()
        for k, v in self.headers:
            if k.lower() == name:
                return v
        return None

    def header_all(self, name):
        return [v for k, v in self.headers if k.lower() == name.lower()]

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")


class NginxServer:
    """One nginx master on 127.0.0.1 with a generated config under a temp prefix."""

    def __init__(self, module=None, config="", http_config="", main_config="", workers=1,
                 prefix=None, extra_modules=(), log_level="debug"):
        self.module = module or os.environ.get("P2P_NGINX_MODULE")
        self.extra_modules = list(extra_modules)
        self.workers = workers
        self.log_level = log_level
        base = os.environ.get("TEST_TMPDIR") or tempfile.gettempdir()
        self.prefix = prefix or tempfile.mkdtemp(prefix="nginx-", dir=base)
        self.port = free_port()
        self.backend_port = free_port()
        self.html = os.path.join(self.prefix, "html")
        for d in ("logs", "html", "tmp", "conf"):
            os.makedirs(os.path.join(self.prefix, d), exist_ok=True)
        self.conf_path = os.path.join(self.prefix, "conf", "nginx.conf")
        self.error_log = os.path.join(self.prefix, "logs", "error.log")
        self._log_offset = 0
        self.expected_errors = []
        self.set_config(config, http_config, main_config)
        self.running = False

    # -- configuration -------------------------------------------------------
    def substitute(self, text):
        for k, v in (("$TEST_NGINX_BACKEND_PORT", str(self.backend_port)),
                     ("$TEST_NGINX_PORT", str(self.port)),
                     ("$TEST_NGINX_HTML_DIR", self.html),
                     ("$TEST_NGINX_PREFIX", self.prefix)):
            text = text.replace(k, v)
        return text

    def set_config(self, config, http_config="", main_config=""):
        loads = []
        if self.module:
            loads.append("load_module %s;" % os.path.abspath(self.module))
        loads += ["load_module %s;" % m for m in self.extra_modules]
        user = "user root root;" if os.geteuid() == 0 else ""
        tmp = os.path.join(self.prefix, "tmp")
        text = """%(loads)s
%(user)s
worker_processes %(workers)d;
daemon on;
master_process on;
pid %(prefix)s/logs/nginx.pid;
error_log %(prefix)s/logs/error.log %(log_level)s;
thread_pool default threads=2;
%(main)s
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path %(tmp)s/body;
    proxy_temp_path %(tmp)s/proxy;
    fastcgi_temp_path %(tmp)s/fastcgi;
    uwsgi_temp_path %(tmp)s/uwsgi;
    scgi_temp_path %(tmp)s/scgi;
    types { application/vnd.apple.mpegurl m3u8; application/dash+xml mpd;
            video/mp2t ts; video/mp4 mp4 m4s; text/plain txt; application/json json; }
    default_type application/octet-stream;
%(http)s
    server {
        listen 127.0.0.1:%(port)d;
        server_name localhost;
%(config)s
    }
}
""" % dict(loads="\n".join(loads), user=user, workers=self.workers, prefix=self.prefix,
           log_level=self.log_level,
           main=main_config, tmp=tmp, http=http_config, port=self.port, config=config)
        with open(self.conf_path, "w") as f:
            f.write(self.substitute(text))

    def write_file(self, relpath, content):
        path = os.path.join(self.prefix, relpath)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        mode = "wb" if isinstance(content, bytes) else "w"
        with open(path, mode) as f:
            f.write(self.substitute(content) if isinstance(content, str) else content)
        return path

    # -- life cycle ----------------------------------------------------------
    def _nginx(self, *args, check=True):
        proc = subprocess.run([NGINX, "-p", self.prefix, "-c", self.conf_path] + list(args),
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
        out = proc.stdout.decode("utf-8", "replace")
        if check and proc.returncode != 0:
            raise HarnessError("nginx %s failed (%d):\n%s" % (" ".join(args), proc.returncode, out))
        return proc.returncode, out

    def test_config(self):
        """Runs `nginx -t`; returns (exit code, output)."""
        return self._nginx("-t", check=False)

    def start(self):
        self._nginx()
        self.running = True
        self._wait_listening()
        return self

    def _wait_listening(self):
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.02)
        raise HarnessError("nginx did not listen on %d:\n%s" % (self.port, self.read_log()))

    def master_pid(self):
        with open(os.path.join(self.prefix, "logs", "nginx.pid")) as f:
            return int(f.read().strip())

    def worker_pids(self):
        master = self.master_pid()
        out = subprocess.run(["pgrep", "-P", str(master)], stdout=subprocess.PIPE).stdout
        return [int(p) for p in out.split()]

    def reload(self, wait=10.0):
        """`nginx -s reload` and wait until the old workers are gone."""
        old = set(self.worker_pids())
        self._nginx("-s", "reload")
        deadline = time.time() + wait
        while time.time() < deadline:
            pids = set(self.worker_pids())
            if pids and not (pids & old):
                return
            time.sleep(0.05)
        raise HarnessError("reload did not replace workers:\n" + self.read_log())

    def stop(self):
        if not self.running:
            return
        try:
            pid = self.master_pid()
            os.kill(pid, signal.SIGQUIT)
            deadline = time.time() + 10
            while time.time() < deadline:
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.05)
            else:
                os.kill(pid, signal.SIGKILL)
        except (OSError, ValueError):
            pass
        self.running = False

    def __enter__(self):
        return self.start()

    def __exit__(self, exc_type, exc, tb):
        self.stop()
        if exc_type is None:
            self.check_log()

    # -- requests ------------------------------------------------------------
    def request(self, method, path, body=None, headers=None, port=None, timeout=30):
        conn = http.client.HTTPConnection("127.0.0.1", port or self.port, timeout=timeout)
        try:
            hdrs = dict(headers or {})
            if isinstance(body, str):
                body = body.encode()
            conn.putrequest(method, path, skip_accept_encoding=True)
            has_len = any(k.lower() == "content-length" for k in hdrs)
            for k, v in hdrs.items():
                conn.putheader(k, v)
            if body is not None and not has_len:
                conn.putheader("Content-Length", str(len(body)))
            conn.endheaders(body)
            resp = conn.getresponse()
            data = resp.read()
            return Response(resp.status, resp.reason, resp.getheaders(), data)
        finally:
            conn.close()

    def get(self, path, headers=None, **kw):
        return self.request("GET", path, headers=headers, **kw)

    def post(self, path, body, headers=None, **kw):
        return self.request("POST", path, body=body, headers=headers, **kw)

    # -- logs ----------------------------------------------------------------
    def read_log(self):
        try:
            with open(self.error_log, "r", errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def expect_error(self, pattern):
        """Marks an [error] line containing `pattern` as expected."""
        self.expected_errors.append(pattern)

    def check_log(self, expected=(), forbidden=()):
        log = self.read_log()
        problems = []
        for line in log.splitlines():
            if any(tag in line for tag in ALWAYS_FATAL) and not any(
                    e in line for e in self.expected_errors):
                problems.append("fatal line: " + line)
            elif CRASH_RE.search(line):
                problems.append("crashed worker: " + line)
            elif "[error]" in line and not any(e in line for e in
                                               list(self.expected_errors) + list(expected)):
                problems.append("unexpected [error]: " + line)
        for e in expected:
            if e not in log:
                problems.append("expected in error log, not found: " + e)
        for e in forbidden:
            if e in log:
                problems.append("forbidden in error log, found: " + e)
        if problems:
            raise HarnessError("\n".join(problems[:20]))


def sha256_file(path, offset=0, length=None):
    with open(path, "rb") as f:
        f.seek(offset)
        data = f.read() if length is None else f.read(length)
    return hashlib.sha256(data).hexdigest()


def rand_choice_seeded(seq, seed):
    return random.Random(seed).choice(seq)
