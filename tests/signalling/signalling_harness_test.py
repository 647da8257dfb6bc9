"""p2p-signalling behind the project's test nginx (tests/harness, our module loaded):
WebSocket proxying as conf/signalling-proxy.conf does it, with a minimal RFC 6455 client.

Usage (Bazel): run_py.sh MODULE_SO signalling_harness_test.py P2P_SIGNALLING_BINARY
"""

import base64
import hashlib
import hmac
import json
import os
import socket
import struct
import subprocess
import sys
import time

import nginx_harness as h

SECRET = "harness-secret"
WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def ticket(peer, swarm, expiry=None):
    expiry = expiry if expiry is not None else int(time.time()) + 3600
    payload = "v1.%s.%s.%d" % (peer, swarm, expiry)
    sig = hmac.new(SECRET.encode(), payload.encode(), hashlib.sha256).digest()
    return payload + "." + base64.urlsafe_b64encode(sig).decode().rstrip("=")


class WebSocket:
    """Just enough of a client: handshake, masked text frames out, frames in."""

    def __init__(self, port, path):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((
            "GET %s HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n"
            % (path, key)).encode())
        self.buffer = b""
        while b"\r\n\r\n" not in self.buffer:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise h.HarnessError("connection closed during the handshake")
            self.buffer += chunk
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        lines = head.decode().split("\r\n")
        if " 101 " not in lines[0]:
            raise h.HarnessError("no upgrade: %s" % lines[0])
        accept = base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()
        if ("sec-websocket-accept: " + accept.lower()) not in head.decode().lower():
            raise h.HarnessError("bad Sec-WebSocket-Accept")

    def send(self, message):
        payload = (message if isinstance(message, str) else json.dumps(message)).encode()
        mask = os.urandom(4)
        header = bytes([0x81])
        if len(payload) < 126:
            header += bytes([0x80 | len(payload)])
        else:
            header += bytes([0x80 | 126]) + struct.pack("!H", len(payload))
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(header + mask + masked)

    def _read(self, n):
        while len(self.buffer) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise h.HarnessError("connection closed")
            self.buffer += chunk
        out, self.buffer = self.buffer[:n], self.buffer[n:]
        return out

    def frame(self):
        """(opcode, payload bytes) of the next frame."""
        b0, b1 = self._read(2)
        length = b1 & 0x7F
        if length == 126:
            length = struct.unpack("!H", self._read(2))[0]
        elif length == 127:
            length = struct.unpack("!Q", self._read(8))[0]
        return b0 & 0x0F, self._read(length)

    def message(self):
        opcode, payload = self.frame()
        if opcode != 1:
            raise h.HarnessError("expected a text frame, got opcode %d" % opcode)
        return json.loads(payload)

    def close_code(self):
        opcode, payload = self.frame()
        if opcode != 8:
            raise h.HarnessError("expected a close frame, got opcode %d" % opcode)
        return struct.unpack("!H", payload[:2])[0]

    def close(self):
        self.sock.close()


def proxy_config(daemon_port):
    """The locations of conf/signalling-proxy.conf, on the harness's server."""
    with open(os.path.join(os.path.dirname(os.path.realpath(__file__)),
                           "../../conf/signalling-proxy.conf")) as f:
        text = f.read()
    start = text.index("location ~ ^/(v1/signal|announce)$")
    end = text.index("location / {")
    http_config = ("map $http_upgrade $p2p_signalling_connection { default upgrade; '' close; }\n"
                   "upstream p2p_signalling { server 127.0.0.1:%d; }\n" % daemon_port)
    return http_config, text[start:end]


def main():
    binary = sys.argv[1]
    daemon_port = h.free_port()
    daemon = subprocess.Popen([binary, "--listen", "127.0.0.1", "--port", str(daemon_port),
                               "--ticket-secret", SECRET, "--trust-forwarded-for", "on"])
    passed = failed = 0
    try:
        deadline = time.time() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", daemon_port), timeout=0.5).close()
                break
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.05)
        http_config, config = proxy_config(daemon_port)
        with h.NginxServer(config=config, http_config=http_config) as s:
            cases = []

            def case(fn):
                cases.append(fn)
                return fn

            @case
            def two_peers_exchange_offer_answer_candidate():
                a = WebSocket(s.port, "/v1/signal?ticket=" + ticket("alice", "hs"))
                b = WebSocket(s.port, "/v1/signal?ticket=" + ticket("bob", "hs"))
                assert a.message()["type"] == "welcome"
                assert b.message()["type"] == "welcome"
                a.send({"type": "offer", "to": "bob", "sdp": "v=0 offer"})
                got = b.message()
                assert got == {"type": "offer", "from": "alice", "sdp": "v=0 offer"}, got
                b.send({"type": "answer", "to": "alice", "sdp": "v=0 answer"})
                assert a.message()["from"] == "bob"
                a.send({"type": "candidate", "to": "bob", "candidate": "candidate:1 1 udp 1 "
                        "127.0.0.1 9 typ host", "sdp_mid": "0", "sdp_mline_index": 0})
                assert b.message()["candidate"].startswith("candidate:1")
                # A cannot send as B.
                a.send({"type": "offer", "to": "bob", "from": "carol", "sdp": "x"})
                assert a.message()["code"] == "forbidden_field"
                a.close()
                b.close()

            @case
            def forged_and_expired_tickets_refused():
                forged = WebSocket(s.port, "/v1/signal?ticket=" + ticket("x", "hs").replace(
                    "v1.x.", "v1.y."))
                assert forged.message()["code"] == "ticket_bad_signature"
                assert forged.close_code() == 4001
                expired = WebSocket(s.port, "/v1/signal?ticket=" + ticket("x", "hs", 1000))
                assert expired.message()["code"] == "ticket_expired"
                assert expired.close_code() == 4001

            @case
            def webtorrent_announce_through_nginx():
                w = WebSocket(s.port, "/announce")
                w.send({"action": "announce", "info_hash": "i" * 20, "peer_id": "p" * 20,
                        "offers": []})
                reply = w.message()
                assert reply["action"] == "announce" and reply["interval"] == 120, reply
                w.close()

            @case
            def metrics_from_loopback():
                r = s.get("/metrics")
                assert r.status == 200, r.status
                assert 'signalling_rejects_total{reason="ticket_expired"} 1' in r.text, r.text

            for fn in cases:
                try:
                    fn()
                    passed += 1
                    print("ok - %s" % fn.__name__)
                except Exception as e:  # report every case, then fail
                    failed += 1
                    print("not ok - %s: %r" % (fn.__name__, e))
    finally:
        daemon.terminate()
        daemon.wait(timeout=15)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
