"""Multi-step tracker, distributor and analytics flows against a real nginx with
worker_processes 2: state shared across workers, expiry, topology ranking fed by
geo/map variables, cellular peers, track, a full zone, reload, rollout and gating.

Clients connect from several 127.x.y.z source addresses (all loopback) so the
tracker sees different /24 subnets. A second listener with `reuseport` spreads
connections over both workers; `X-Worker: $pid` says which one answered.
"""

import base64
import hashlib
import hmac
import http.client
import json
import sys
import threading
import time
import traceback

import nginx_harness as h

SECRET = "integration-secret-0123456789"

HTTP_CONFIG = """
p2p_tracker_zone swarms 1m;
p2p_analytics_zone stats 256k;
geo $p2p_asn {
    default 0;
    127.0.0.0/24 64500;
    127.0.5.0/24 64500;
    127.0.6.0/24 64501;
    127.0.7.0/24 64502;
    127.0.8.0/24 64503;
}
geo $p2p_country {
    default "";
    127.0.0.0/24 DE;
    127.0.5.0/24 DE;
    127.0.6.0/24 DE;
    127.0.7.0/24 US;
    127.0.8.0/24 RU;
}
server {
    listen 127.0.0.1:$TEST_NGINX_BACKEND_PORT reuseport;
    keepalive_requests 100000;
    add_header X-Worker $pid always;
    location /p2p/tracker/ {
        p2p_tracker swarms;
        p2p_tracker_secret %(secret)s;
        p2p_tracker_asn $p2p_asn;
        p2p_tracker_country $p2p_country;
        p2p_tracker_announce_interval %(interval)s;
        p2p_tracker_peer_ttl %(ttl)s;
        p2p_tracker_ticket_lifetime 1h;
        p2p_tracker_max_peers_per_swarm %(cap)s;
        p2p_tracker_min_evict_age 30s;
        p2p_tracker_exclude excl country=RU asn=64502;
    }
    location /p2p/analytics/ { p2p_analytics stats; }
    location = /p2p/config {
        p2p_distributor on;
        p2p_distributor_set tracker_url https://edge.example/p2p/tracker/;
        p2p_distributor_set rollout 30%%;
        p2p_distributor_set min_version 2.1.0;
        p2p_distributor_customer killed p2p=off;
    }
}
"""


class Client:
    """One keep-alive connection to the reuseport listener from a chosen source address."""

    def __init__(self, server, source="127.0.0.1"):
        self.conn = http.client.HTTPConnection("127.0.0.1", server.backend_port, timeout=10,
                                               source_address=(source, 0))

    def call(self, method, path, body=None):
        data = json.dumps(body).encode() if isinstance(body, dict) else body
        headers = {"Content-Type": "application/json"} if data is not None else {}
        self.conn.request(method, path, body=data, headers=headers)
        resp = self.conn.getresponse()
        raw = resp.read()
        parsed = json.loads(raw) if raw and resp.getheader("Content-Type") == "application/json" else None
        return resp.status, resp.getheader("X-Worker"), parsed, resp

    def close(self):
        self.conn.close()


def post(server, action, body, source="127.0.0.1"):
    c = Client(server, source)
    try:
        return c.call("POST", "/p2p/tracker/" + action, body)
    finally:
        c.close()


def init(server, swarm="movie-720p", source="127.0.0.1", customer="c1", network="wifi",
         upload=1000):
    status, worker, body, _ = post(server, "init", {"swarm": swarm, "customer": customer,
                                                     "network": network, "upload_kbps": upload},
                                   source)
    assert status == 200, (status, body)
    return body, worker


def peers(server, ticket, source="127.0.0.1", numwant=50):
    status, worker, body, _ = post(server, "peers", {"ticket": ticket, "numwant": numwant}, source)
    assert status == 200, (status, body)
    return body, worker


def make_server(interval="1s", ttl="3s", cap="1000"):
    return h.NginxServer(http_config=HTTP_CONFIG % dict(secret=SECRET, interval=interval, ttl=ttl,
                                                        cap=cap),
                         workers=2)


def test_shared_across_workers():
    with make_server(interval="30s", ttl="90s") as s:
        registered = {}  # peer id -> worker that registered it
        tickets = {}
        for _ in range(40):
            body, worker = init(s, swarm="shared")
            registered[body["peer_id"]] = worker
            tickets[body["peer_id"]] = body["ticket"]
        workers = set(registered.values())
        assert len(workers) == 2, "reuseport did not spread 40 connections: %s" % workers
        seen_cross = 0
        for pid, ticket in list(tickets.items())[:20]:
            body, worker = peers(s, ticket)
            listed = {p["peer_id"] for p in body["peers"]}
            assert listed == set(registered) - {pid}, (len(listed), len(registered))
            seen_cross += any(registered[p] != worker for p in listed)
        assert seen_cross == 20


def test_expiry():
    with make_server(interval="1s", ttl="3s") as s:
        quiet, _ = init(s, swarm="exp")
        active, _ = init(s, swarm="exp")
        body, _ = peers(s, active["ticket"])
        assert [p["peer_id"] for p in body["peers"]] == [quiet["peer_id"]]
        deadline = time.time() + 10
        # The active peer keeps announcing; the quiet one must be gone after its ttl.
        while time.time() < deadline:
            time.sleep(1)
            body, _ = peers(s, active["ticket"])
            if not body["peers"]:
                break
        assert body["peers"] == [], body
        assert time.time() < deadline
        stats = json.loads(s.get("/p2p/tracker/stats", port=s.backend_port).body)
        assert stats["expired"] >= 1 and stats["peers"] == 1, stats


def test_ranking_by_subnet_asn_country_and_cellular():
    with make_server(interval="30s", ttl="90s") as s:
        me, _ = init(s, swarm="rank", source="127.0.0.10")          # AS64500, DE
        other, _ = init(s, swarm="rank", source="127.0.9.1")         # AS0, no country
        country, _ = init(s, swarm="rank", source="127.0.6.1")       # AS64501, DE
        asn, _ = init(s, swarm="rank", source="127.0.5.7")           # AS64500, DE
        subnet, _ = init(s, swarm="rank", source="127.0.0.20", upload=10)  # same /24
        cellular, _ = init(s, swarm="rank", source="127.0.0.30", network="cellular", upload=99999)
        body, _ = peers(s, me["ticket"], source="127.0.0.10")
        order = [(p["peer_id"], p["match"]) for p in body["peers"]]
        assert order == [(subnet["peer_id"], "subnet"), (asn["peer_id"], "asn"),
                         (country["peer_id"], "country"), (other["peer_id"], "other")], order
        assert cellular["peer_id"] not in {p["peer_id"] for p in body["peers"]}
        # numwant caps the list, best first.
        body, _ = peers(s, me["ticket"], source="127.0.0.10", numwant=2)
        assert [p["peer_id"] for p in body["peers"]] == [subnet["peer_id"], asn["peer_id"]]
        # The cellular peer itself still gets sources; within its subnet tier the
        # higher upload capacity (1000 kbit/s against 10) comes first.
        body, _ = peers(s, cellular["ticket"], source="127.0.0.30")
        assert [(p["peer_id"], p["match"]) for p in body["peers"][:2]] == [
            (me["peer_id"], "subnet"), (subnet["peer_id"], "subnet")], body


def test_customer_exclusions():
    with make_server(interval="30s", ttl="90s") as s:
        me, _ = init(s, swarm="ex", source="127.0.0.10", customer="excl")
        ru, _ = init(s, swarm="ex", source="127.0.8.1")      # RU: excluded country
        as_us, _ = init(s, swarm="ex", source="127.0.7.1")   # AS64502: excluded ASN
        fine, _ = init(s, swarm="ex", source="127.0.6.1")
        body, _ = peers(s, me["ticket"], source="127.0.0.10")
        assert [p["peer_id"] for p in body["peers"]] == [fine["peer_id"]], body
        # Another customer in the same swarm sees all three.
        other, _ = init(s, swarm="ex", source="127.0.0.11", customer="c1")
        body, _ = peers(s, other["ticket"], source="127.0.0.11")
        assert {p["peer_id"] for p in body["peers"]} == {me["peer_id"], ru["peer_id"],
                                                         as_us["peer_id"], fine["peer_id"]}


def test_track_switch():
    with make_server(interval="30s", ttl="90s") as s:
        mover, _ = init(s, swarm="m-480p")
        low, _ = init(s, swarm="m-480p")
        high, _ = init(s, swarm="m-1080p")
        status, _, body, _ = post(s, "track", {"ticket": mover["ticket"], "swarm": "m-1080p"})
        assert status == 200 and body["swarm"] == "m-1080p", body
        assert body["peer_id"] == mover["peer_id"]
        assert ".m-1080p." in body["ticket"] and body["ticket"] != mover["ticket"]
        listed, _ = peers(s, high["ticket"])
        assert [p["peer_id"] for p in listed["peers"]] == [mover["peer_id"]]
        listed, _ = peers(s, low["ticket"])
        assert listed["peers"] == [], listed
        listed, _ = peers(s, body["ticket"])
        assert [p["peer_id"] for p in listed["peers"]] == [high["peer_id"]]


def test_full_swarm_is_503_with_retry_after():
    with make_server(interval="30s", ttl="90s", cap="3") as s:
        for _ in range(3):
            init(s, swarm="tiny")
        status, _, body, resp = post(s, "init", {"swarm": "tiny", "customer": "c1"})
        assert status == 503, (status, body)
        assert body["error"]["code"] == "full"
        assert resp.getheader("Retry-After") == str(body["error"]["retry_after"])
        assert 1 <= int(resp.getheader("Retry-After")) <= 30
        # Other swarms are unaffected.
        init(s, swarm="roomy")


def test_reload_keeps_swarms():
    with make_server(interval="30s", ttl="90s") as s:
        a, _ = init(s, swarm="keep")
        b, _ = init(s, swarm="keep")
        before = json.loads(s.get("/p2p/tracker/stats", port=s.backend_port).body)
        s.reload()
        after = json.loads(s.get("/p2p/tracker/stats", port=s.backend_port).body)
        assert after["peers"] == before["peers"] == 2, (before, after)
        body, _ = peers(s, a["ticket"])
        assert [p["peer_id"] for p in body["peers"]] == [b["peer_id"]]
        # Tickets issued before the reload still verify (same secret).
        body, _ = peers(s, b["ticket"])
        assert [p["peer_id"] for p in body["peers"]] == [a["peer_id"]]


def test_non_utf8_and_chunked_bodies():
    with make_server(interval="30s", ttl="90s") as s:
        c = Client(s)
        try:
            status, _, body, _ = c.call("POST", "/p2p/tracker/init",
                                        b'{"swarm":"s\xff\xfe","customer":"c1"}')
            assert status == 400 and body["error"]["code"] == "bad_json", body
            assert "UTF-8" in body["error"]["message"]
            status, _, body, _ = c.call("POST", "/p2p/analytics/usage",
                                        b'{"customer":"c\xc3","content":"m","http_bytes":1,"p2p_bytes":1}')
            assert status == 400 and body["error"]["code"] == "bad_json", body
        finally:
            c.close()
        # A chunked body over the cap (no Content-Length to refuse early).
        conn = http.client.HTTPConnection("127.0.0.1", s.backend_port, timeout=10)
        conn.putrequest("POST", "/p2p/tracker/init")
        conn.putheader("Transfer-Encoding", "chunked")
        conn.endheaders()
        chunk = b'{"swarm":"s1","customer":"c1","pad":"' + b"z" * 5000 + b'"}'
        conn.send(b"%x\r\n%s\r\n0\r\n\r\n" % (len(chunk), chunk))
        resp = conn.getresponse()
        body = json.loads(resp.read())
        conn.close()
        assert resp.status == 413 and body["error"]["code"] == "body_too_large", body
        # State unharmed.
        stats = json.loads(s.get("/p2p/tracker/stats", port=s.backend_port).body)
        assert stats["peers"] == 0, stats


def test_rollout_and_version_gating():
    with make_server() as s:
        c = Client(s)
        try:
            on = 0
            answers = {}
            for i in range(10000):
                status, _, body, _ = c.call(
                    "GET", "/p2p/config?customer=cust&content=movie&version=2.1.0&session=viewer%d" % i)
                assert status == 200, body
                on += body["p2p"]
                answers[i] = body["p2p"]
                assert body["reason"] in ("enabled", "rollout"), body
            print("# rollout 30%%: %d of 10000 sessions" % on)
            assert 2800 <= on <= 3200, on
            # Stable: the same viewers get the same answer again.
            for i in range(0, 10000, 97):
                _, _, body, _ = c.call(
                    "GET", "/p2p/config?customer=cust&content=movie&version=2.1.0&session=viewer%d" % i)
                assert body["p2p"] == answers[i]
            _, _, body, _ = c.call("GET", "/p2p/config?customer=cust&content=movie&version=2.0.9")
            assert body["p2p"] is False and body["reason"] == "version_too_old", body
            _, _, body, _ = c.call("GET", "/p2p/config?customer=cust&content=movie&version=2.1.0-beta.1")
            assert body["reason"] == "version_too_old", body
            _, _, body, _ = c.call("GET", "/p2p/config?customer=killed&content=movie&version=9.0.0")
            assert body["p2p"] is False and body["reason"] == "disabled", body
        finally:
            c.close()


def test_analytics_across_workers():
    with make_server() as s:
        workers = set()
        for i in range(20):
            c = Client(s)
            status, worker, _, _ = c.call("POST", "/p2p/analytics/usage",
                                          {"customer": "c1", "content": "movie",
                                           "http_bytes": 100, "p2p_bytes": 300})
            c.close()
            assert status == 204
            workers.add(worker)
        assert len(workers) == 2, workers
        c = Client(s)
        c.call("POST", "/p2p/analytics/stats", {"customer": "c1", "content": "movie",
                                                 "rebuffer_count": 1, "rebuffer_ms": 500,
                                                 "startup_ms": 800, "peers": 4})
        c.call("POST", "/p2p/analytics/control", {"customer": "c1", "content": "movie",
                                                   "checksum_failures": 2, "protocol_errors": 0})
        _, _, status, _ = c.call("GET", "/p2p/analytics/status")
        row = status["contents"][0]
        assert row["http_bytes"] == 2000 and row["p2p_bytes"] == 6000, row
        assert row["peer_efficiency"] == 0.75 and row["checksum_failures"] == 2, row
        c.conn.request("GET", "/p2p/analytics/metrics")
        resp = c.conn.getresponse()
        text = resp.read().decode()
        c.close()
        assert resp.getheader("Content-Type") == "text/plain; version=0.0.4"
        assert 'p2p_peer_efficiency{customer="c1",content="movie"} 0.75\n' in text, text
        assert 'p2p_rebuffer_ms_total{customer="c1",content="movie"} 500\n' in text


def test_concurrent_workers_keep_the_zone_consistent():
    """Both workers write the zone at once: counts add up, nothing crashes or leaks."""
    with make_server(interval="30s", ttl="90s") as s:
        errors = []
        per_thread = 150

        def client(n):
            try:
                c = Client(s)
                deadline = time.time() + 60
                for i in range(per_thread):
                    if time.time() > deadline:
                        raise AssertionError("thread %d too slow" % n)
                    status, _, body, _ = c.call("POST", "/p2p/tracker/init",
                                                {"swarm": "cc%d" % (i % 16), "customer": "c1"})
                    assert status == 200, (status, body)
                    status, _, body, _ = c.call("POST", "/p2p/tracker/peers",
                                                {"ticket": body["ticket"], "numwant": 10})
                    assert status == 200 and len(body["peers"]) <= 10, (status, body)
                c.close()
            except Exception as e:  # reported by the main thread
                errors.append("%d: %r" % (n, e))

        threads = [threading.Thread(target=client, args=(n,)) for n in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(90)
        assert not errors, errors[:3]
        stats = json.loads(s.get("/p2p/tracker/stats", port=s.backend_port).body)
        assert stats["peers"] == 8 * per_thread and stats["swarms"] == 16, stats


def mint_credential(key_id, secret, exp, content):
    b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
    signed = "c1.%s.%s" % (key_id, b64(("exp=%d\ncontent=%s" % (exp, content)).encode()))
    return signed + "." + b64(hmac.new(secret.encode(), signed.encode(), hashlib.sha256).digest())


def test_session_credential_guards_the_tracker():
    """The access module's p2p_session_require in the tracker's location (README)."""
    config = """
    location /p2p/tracker/ {
        p2p_session_key k1 "credential secret for the tests 0123";
        p2p_session_require $http_x_p2p_credential;
        p2p_tracker swarms;
        p2p_tracker_secret %s;
    }""" % SECRET
    with h.NginxServer(config=config, http_config="p2p_tracker_zone swarms 1m;") as s:
        body = json.dumps({"swarm": "s1", "customer": "c1"})
        r = s.post("/p2p/tracker/init", body)
        assert r.status == 403, (r.status, r.text)
        good = mint_credential("k1", "credential secret for the tests 0123",
                               int(time.time()) + 600, "movie1")
        r = s.post("/p2p/tracker/init", body, headers={"X-P2P-Credential": good})
        assert r.status == 200, (r.status, r.text)
        forged = good[:-2] + ("AA" if not good.endswith("AA") else "BB")
        r = s.post("/p2p/tracker/init", body, headers={"X-P2P-Credential": forged})
        assert r.status == 403, (r.status, r.text)
        s.expect_error("p2p access")


TESTS = [v for k, v in sorted(globals().items()) if k.startswith("test_")]


def main():
    passed = failed = 0
    only = sys.argv[1] if len(sys.argv) > 1 else None
    for test in TESTS:
        if only and only not in test.__name__:
            continue
        try:
            test()
            passed += 1
            print("ok - %s" % test.__name__)
        except Exception:
            failed += 1
            print("not ok - %s" % test.__name__)
            for line in traceback.format_exc().splitlines():
                print("#   " + line)
        sys.stdout.flush()
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed or not passed else 0


if __name__ == "__main__":
    sys.exit(main())
