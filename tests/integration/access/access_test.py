#!/usr/bin/env python3
"""Access control against a real nginx with our module: tokens, domain and geo rules,
the token cookie that carries a manifest's authorisation to its segments (checked with
ffmpeg), the P2P session credential, the shared vectors, and `nginx -t` refusals.

Usage (Bazel passes these): access_test.py P2P_TOKEN_TOOL VECTORS_JSON
The module comes from $P2P_NGINX_MODULE (tests/harness/run_py.sh).
"""
import json
import os
import random
import re
import shutil
import subprocess
import sys
import time
import urllib.parse

import nginx_harness as h
from mmdb_writer import write_mmdb

TOOL = os.path.abspath(sys.argv[1])
with open(sys.argv[2]) as f:
    VECTORS = json.load(f)

KEYS = {k["id"]: k["secret"] for k in VECTORS["keys"]}
SESSION_KEY_ID = VECTORS["credential_keys"][0]["id"]
SESSION_SECRET = VECTORS["credential_keys"][0]["secret"]
VECTOR_TOKENS = {v["name"]: v["token"] for v in VECTORS["tokens"]}
VECTOR_CHECKS = {v["name"]: v for v in VECTORS["checks"]}

results = {"passed": 0, "failed": 0}
tokens_seen = set()  # none of them may ever appear in the error log


def report(name, problems):
    if problems:
        results["failed"] += 1
        print("not ok - %s" % name)
        for p in problems:
            for line in str(p).splitlines():
                print("#   " + line)
    else:
        results["passed"] += 1
        print("ok - %s" % name)
    sys.stdout.flush()


def tool(*args, env=None):
    out = subprocess.run([TOOL] + list(args), capture_output=True, text=True, timeout=10, env=env)
    return out.returncode, out.stdout.strip(), out.stderr.strip()


def mint(key_id, scope, expires=None, not_before=None, ip=None, sid=None):
    args = ["mint", "--key-id", key_id, "--secret", KEYS[key_id], "--scope", scope]
    args += ["--expires", str(expires)] if expires else ["--ttl", "3600"]
    if not_before:
        args += ["--not-before", str(not_before)]
    if ip:
        args += ["--ip", ip]
    if sid:
        args += ["--sid", sid]
    rc, out, err = tool(*args)
    assert rc == 0, err
    tokens_seen.add(out)
    return out


def log_since(server, offset):
    return server.read_log()[offset:]


def case(server, name, path, status, headers=None, log=None, no_log=None, check=None):
    """One request; `log`: a substring that must appear in the new error log lines."""
    offset = len(server.read_log())
    problems = []
    try:
        r = server.get(path, headers=headers)
        if r.status != status:
            problems.append("status %d, expected %d" % (r.status, status))
        time.sleep(0.02)
        new_log = log_since(server, offset)
        if log and log not in new_log:
            problems.append("log lacks %r:\n%s" % (log, new_log[-1500:]))
        if no_log and no_log in new_log:
            problems.append("log has %r" % no_log)
        if check:
            problems += check(r) or []
    except Exception as e:  # noqa: BLE001 - a failed request is this case's failure
        problems.append(repr(e))
    report(name, problems)


SEGMENTS = ("index.m3u8", "seg-0.ts", "seg-1.ts")


def write_hls(server, folder):
    """A real 4 s MPEG-TS HLS stream made by ffmpeg, so ffmpeg can play it back."""
    work = os.path.join(server.prefix, "hls-src")
    if not os.path.isdir(work):
        os.makedirs(work)
        subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i",
                        "testsrc=d=4:s=64x48:r=5", "-c:v", "mpeg2video", "-f", "hls",
                        "-hls_time", "1", "-hls_list_size", "0", "-hls_segment_filename",
                        os.path.join(work, "seg-%d.ts"), os.path.join(work, "index.m3u8")],
                       check=True, timeout=60)
    for name in os.listdir(work):
        dest = os.path.join(server.html, folder.strip("/"), name)
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        shutil.copy(os.path.join(work, name), dest)


MAIN_CONFIG = """
p2p_token_key k2024 "%(k2024)s";
p2p_token_key k2025 "%(k2025)s";
p2p_session_key %(sid)s "%(ssecret)s";
p2p_token_skew 30s;
map $http_x_country $viewer_country { default ""; "~^(?<cc>[A-Za-z]{2})$" $cc; }
""" % dict(k2024=KEYS["k2024"], k2025=KEYS["k2025"], sid=SESSION_KEY_ID, ssecret=SESSION_SECRET)

SERVER_CONFIG = r"""
root $TEST_NGINX_HTML_DIR;
location /vod/ {
    p2p_token $arg_token $cookie_p2p_token $http_x_p2p_token;
    p2p_token_cookie p2p_token;
    p2p_session_content "$p2p_content";
    set $p2p_content "vod-film";
    add_header X-P2P-Credential $p2p_session_credential always;
}
location /index-redirect/ {
    p2p_token $arg_token;
    p2p_token_cookie p2p_token;
    index index.m3u8;
}
location /live/ {
    p2p_token $arg_token;
    location /live/free/ { p2p_token off; }
}
location /rotated/ {
    p2p_token_key k2025 "%(k2025)s";
    p2p_token $arg_token;
}
location /status-404/ {
    p2p_token $arg_token;
    p2p_access_deny_status 404;
    p2p_access_log_level notice;
}
location /embed/ {
    p2p_domain example.com *.cdn-player.net .video.org;
    p2p_domain_missing deny;
}
location /embed-open/ {
    p2p_domain example.com;
}
location /geo-allow/ {
    p2p_geo $viewer_country allow DE fr;
}
location /geo-deny/ {
    p2p_geo $viewer_country deny CN RU;
}
location /geo-strict/ {
    p2p_geo $viewer_country deny CN;
    p2p_geo_unknown deny;
}
location /all/ {
    p2p_domain example.com;
    p2p_geo $viewer_country allow DE;
    p2p_token $arg_token;
}
location /p2p/tracker/ {
    p2p_session_require $http_x_p2p_credential $arg_p2p_credential;
    add_header X-Content $p2p_session_content always;
    add_header X-Session $p2p_session_id always;
}
""" % dict(k2025=KEYS["k2025"])


def token_cases(s):
    now = int(time.time())
    film = VECTOR_TOKENS["prefix scope"]
    tokens_seen.update(VECTOR_TOKENS.values())
    q = "?token="
    case(s, "valid token opens the manifest", "/vod/film/index.m3u8" + q + film, 200,
         check=lambda r: [] if (r.header("Set-Cookie") or "").startswith(
             "p2p_token=%s; Path=/vod/film/; Max-Age=" % film) else
         ["Set-Cookie: %r" % r.header("Set-Cookie")])
    case(s, "valid token opens a segment", "/vod/film/seg-0.ts" + q + film, 200)
    case(s, "no token", "/vod/film/seg-0.ts", 403, log="p2p access denied: token missing")
    case(s, "expired token", "/vod/film/seg-0.ts" + q + VECTOR_TOKENS["expired"], 403,
         log="p2p access denied: token expired")
    t = mint("k2024", "/vod/*", expires=now + 3600, not_before=now + 15)
    case(s, "not yet valid within skew", "/vod/film/seg-0.ts" + q + t, 200)
    t = mint("k2024", "/vod/*", expires=now + 3600, not_before=now + 120)
    case(s, "not yet valid beyond skew", "/vod/film/seg-0.ts" + q + t, 403,
         log="token not yet valid")
    t = mint("k2024", "/vod/*", expires=now - 10)
    case(s, "expired within skew", "/vod/film/seg-0.ts" + q + t, 200)
    t = mint("k2024", "/vod/*", expires=now - 120)
    case(s, "expired beyond skew", "/vod/film/seg-0.ts" + q + t, 403, log="token expired")
    tampered = VECTOR_CHECKS["tampered signature"]["token"]
    case(s, "tampered signature", "/vod/film/seg-0.ts" + q + tampered, 403,
         log="token bad signature")
    case(s, "truncated token", "/vod/film/seg-0.ts" + q + film[:-7], 403, log="token malformed")
    case(s, "invalid base64", "/vod/film/seg-0.ts" + q + VECTOR_CHECKS["not base64"]["token"],
         403, log="token malformed")
    case(s, "wrong path scope", "/vod/other/seg-0.ts" + q + film, 403, log="token wrong scope")
    case(s, "exact scope opens its path", "/vod/film/index.m3u8" + q +
         VECTOR_TOKENS["exact scope"], 200)
    case(s, "exact scope refuses a sibling", "/vod/film/seg-0.ts" + q +
         VECTOR_TOKENS["exact scope"], 403, log="wrong scope")
    case(s, "wildcard scope", "/live/ch1/index.m3u8" + q + VECTOR_TOKENS["wildcard scope"], 200)
    case(s, "wildcard scope stays in one segment", "/live/ch1/x/index.m3u8" + q +
         VECTOR_TOKENS["wildcard scope"], 403, log="wrong scope")
    case(s, "IP-bound token from its address", "/vod/film/seg-0.ts" + q +
         VECTOR_TOKENS["bound to one address"], 200)
    case(s, "IP-bound token from another address", "/vod/film/seg-0.ts" + q +
         VECTOR_TOKENS["bound elsewhere"], 403, log="token ip mismatch")
    case(s, "rotation: new key valid", "/vod/film/seg-0.ts" + q + VECTOR_TOKENS["all claims"], 200)
    case(s, "rotation: old key still valid", "/vod/film/seg-1.ts" + q + film, 200)
    case(s, "rotation done: old key refused", "/rotated/film/seg-0.ts" + q + film, 403,
         log="unknown key id")
    case(s, "unknown key id", "/vod/film/seg-0.ts" + q + VECTOR_CHECKS["unknown key id"]["token"],
         403, log="token unknown key id")
    case(s, "token from a cookie", "/vod/film/seg-0.ts", 200,
         headers={"Cookie": "a=b; p2p_token=%s; c=d" % film},
         check=lambda r: [] if r.header("Set-Cookie") is None else ["cookie set again"])
    case(s, "token from a header", "/vod/film/seg-0.ts", 200, headers={"X-P2P-Token": film})
    case(s, "oversized token", "/vod/film/seg-0.ts" + q + film + "A" * 3000, 403,
         log="token malformed")
    case(s, "oversized header token", "/vod/film/seg-0.ts", 403,
         headers={"X-P2P-Token": "t1." + "x" * 6000}, log="token malformed")
    index_token = mint("k2024", "/index-redirect/*")
    case(s, "one cookie after an internal redirect (index)",
         "/index-redirect/?token=" + index_token, 200,
         check=lambda r: [] if len(r.header_all("Set-Cookie")) == 1 else
         ["Set-Cookie: %r" % r.header_all("Set-Cookie")])
    case(s, "p2p_token off lifts an inherited requirement", "/live/free/a.txt", 200)
    case(s, "configurable status and level", "/status-404/film/a" + q + film, 404,
         log="[notice]")


def manifest_to_segments(s):
    film = VECTOR_TOKENS["prefix scope"]
    problems = []
    r = s.get("/vod/film/index.m3u8?token=" + film)
    cookie = (r.header("Set-Cookie") or "").split(";")[0]
    if r.status != 200 or not cookie:
        problems.append("manifest: %d %r" % (r.status, r.header("Set-Cookie")))
    listed = [l for l in r.text.splitlines() if l and not l.startswith("#")]
    if not listed:
        problems.append("no segments listed")
    for seg in listed:
        r2 = s.get("/vod/film/" + seg, headers={"Cookie": cookie})
        if r2.status != 200:
            problems.append("%s with the cookie: %d" % (seg, r2.status))
        r3 = s.get("/vod/film/" + seg)
        if r3.status != 403:
            problems.append("%s without the cookie: %d" % (seg, r3.status))
    report("manifest -> segments with the cookie it set", problems)

    # ffmpeg knows nothing of tokens: it keeps the manifest's Set-Cookie for the segments.
    offset = len(s.read_log())
    url = "http://127.0.0.1:%d/vod/film/index.m3u8?token=%s" % (s.port, film)
    out = subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-i", url, "-c", "copy",
                          "-f", "null", "-"], capture_output=True, text=True, timeout=60)
    time.sleep(0.05)
    served = re.findall(r"seg-\d\.ts 200 cookie=p2p_token=", open(os.path.join(
        s.prefix, "logs", "segments.log")).read())
    problems = []
    if out.returncode != 0:
        problems.append("ffmpeg failed: " + out.stderr[-800:])
    if "p2p access denied" in log_since(s, offset):
        problems.append("a request of ffmpeg was denied")
    if len(served) < 2:
        problems.append("segments served to ffmpeg with the cookie: %d" % len(served))
    report("ffmpeg plays a token-protected HLS stream (cookie carried)", problems)


def domain_cases(s):
    case(s, "Origin exact host", "/embed/a.txt", 200, headers={"Origin": "https://example.com"})
    case(s, "Origin wildcard subdomain", "/embed/a.txt", 200,
         headers={"Origin": "https://eu.edge.cdn-player.net:8443"})
    case(s, "wildcard does not cover the apex", "/embed/a.txt", 403,
         headers={"Origin": "https://cdn-player.net"}, log="domain not allowed: cdn-player.net")
    case(s, "dot pattern covers the apex", "/embed/a.txt", 200,
         headers={"Origin": "https://video.org"})
    case(s, "foreign Origin", "/embed/a.txt", 403, headers={"Origin": "https://evil.example"},
         log="domain not allowed: evil.example")
    case(s, "look-alike host", "/embed/a.txt", 403, headers={"Origin": "https://badexample.com"},
         log="domain not allowed")
    case(s, "Referer allowed", "/embed/a.txt", 200,
         headers={"Referer": "https://www.video.org/watch?v=1"})
    case(s, "Referer foreign", "/embed/a.txt", 403,
         headers={"Referer": "http://evil.example/page"}, log="domain not allowed")
    case(s, "Origin decides over Referer", "/embed/a.txt", 403,
         headers={"Origin": "https://evil.example", "Referer": "https://example.com/"})
    case(s, "missing Origin and Referer, policy deny", "/embed/a.txt", 403,
         log="domain missing")
    case(s, "Origin null counts as missing", "/embed/a.txt", 403, headers={"Origin": "null"},
         log="domain missing")
    case(s, "missing Origin and Referer, policy allow", "/embed-open/a.txt", 200)
    case(s, "foreign Origin, policy allow for missing only", "/embed-open/a.txt", 403,
         headers={"Origin": "https://evil.example"})
    case(s, "userinfo trick", "/embed/a.txt", 403,
         headers={"Origin": "https://example.com@evil.example"}, log="unreadable")


def geo_cases(s):
    case(s, "allowed country", "/geo-allow/a.txt", 200, headers={"X-Country": "DE"})
    case(s, "allowed country, list in lower case", "/geo-allow/a.txt", 200,
         headers={"X-Country": "FR"})
    case(s, "country not in the allow list", "/geo-allow/a.txt", 403,
         headers={"X-Country": "US"}, log="country not allowed: US")
    case(s, "unknown country, allow list", "/geo-allow/a.txt", 403, log="country unknown")
    case(s, "denied country", "/geo-deny/a.txt", 403, headers={"X-Country": "cn"},
         log="country not allowed: cn")
    case(s, "country not in the deny list", "/geo-deny/a.txt", 200, headers={"X-Country": "US"})
    case(s, "unknown country, deny list", "/geo-deny/a.txt", 200)
    case(s, "unknown country, p2p_geo_unknown deny", "/geo-strict/a.txt", 403,
         headers={"X-Country": "--"}, log="country unknown")
    film = VECTOR_TOKENS["prefix scope"]
    all_ok = mint("k2024", "/all/*")
    case(s, "domain, geo and token together", "/all/a.txt?token=" + all_ok, 200,
         headers={"Origin": "https://example.com", "X-Country": "DE"})
    case(s, "together: one failing rule denies", "/all/a.txt?token=" + film, 403,
         headers={"Origin": "https://example.com", "X-Country": "DE"}, log="wrong scope")


def session_cases(s):
    film = mint("k2025", "/vod/film/*", sid="viewer-7")
    r = s.get("/vod/film/index.m3u8?token=" + film)
    credential = r.header("X-P2P-Credential") or ""
    tokens_seen.add(credential)
    problems = []
    rc, out, err = tool("verify-credential", "--key", "%s:%s" % (SESSION_KEY_ID, SESSION_SECRET),
                        credential)
    if rc != 0 or "content=vod-film" not in out or "sid=viewer-7" not in out:
        problems.append("credential %r: %s %s" % (credential, out, err))
    exp = int(re.search(r"exp=(\d+)", out).group(1)) if "exp=" in out else 0
    if not 0 < exp - time.time() <= 600 + 5:
        problems.append("credential expiry %d not within p2p_session_ttl" % exp)
    report("manifest response carries $p2p_session_credential", problems)

    short = mint("k2024", "/vod/film/*", expires=int(time.time()) + 60)
    r = s.get("/vod/film/index.m3u8?token=" + short)
    rc, out, _ = tool("verify-credential", "--key", "%s:%s" % (SESSION_KEY_ID, SESSION_SECRET),
                      r.header("X-P2P-Credential") or "")
    exp = int(re.search(r"exp=(\d+)", out).group(1)) if "exp=" in out else 0
    report("session credential never outlives the token",
           [] if 0 < exp <= int(time.time()) + 61 else ["exp %d" % exp])

    case(s, "P2P endpoint without a credential", "/p2p/tracker/a.txt", 403,
         log="session credential missing")
    case(s, "P2P endpoint with the credential", "/p2p/tracker/a.txt", 200,
         headers={"X-P2P-Credential": credential},
         check=lambda r: [] if r.header("X-Content") == "vod-film" and
         r.header("X-Session") == "viewer-7" else ["claims: %r" % r.headers])
    case(s, "P2P endpoint with the credential as an argument",
         "/p2p/tracker/a.txt?p2p_credential=" + credential, 200)
    rc, forged, _ = tool("credential", "--key-id", SESSION_KEY_ID, "--secret",
                         "not-the-session-secret!", "--content", "vod-film", "--ttl", "60")
    case(s, "P2P endpoint with a forged credential", "/p2p/tracker/a.txt", 403,
         headers={"X-P2P-Credential": forged}, log="session credential bad signature")
    rc, old, _ = tool("credential", "--key-id", SESSION_KEY_ID, "--secret", SESSION_SECRET,
                      "--content", "vod-film", "--expires", str(int(time.time()) - 300))
    case(s, "P2P endpoint with an expired credential", "/p2p/tracker/a.txt", 403,
         headers={"X-P2P-Credential": old}, log="session credential expired")
    case(s, "an access token is not a credential", "/p2p/tracker/a.txt", 403,
         headers={"X-P2P-Credential": film}, log="session credential malformed")
    case(s, "HTTP playback needs no credential", "/vod/film/seg-0.ts?token=" + film, 200)


def hostile_cases(s):
    rng = random.Random(7)
    film = VECTOR_TOKENS["prefix scope"]
    alphabet = "tc1.k2024ABCxyz-_=%/*\\\"'\x7f "
    statuses = {}
    for i in range(150):
        if i % 3 == 0:
            cut = list(film)
            for _ in range(rng.randint(1, 5)):
                cut[rng.randrange(len(cut))] = rng.choice(alphabet)
            tok = "".join(cut)
        elif i % 3 == 1:
            tok = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 300)))
        else:
            tok = ".".join(["t1", "k2024", "".join(rng.choice("ABCDabcd-_") for _ in
                                                   range(rng.randint(0, 80))), film[-43:]])
        r = s.get("/vod/film/seg-0.ts?token=" + urllib.parse.quote(tok, safe=""))
        statuses[r.status] = statuses.get(r.status, 0) + 1
    report("150 hostile tokens: only 403 (never 500)",
           [] if set(statuses) == {403} else ["statuses %r" % statuses])


def vector_cases(module):
    """Every fixed-time vector check, through nginx (realip supplies the client address)."""
    config = r"""
set_real_ip_from 127.0.0.1;
real_ip_header X-Real-IP;
location / { p2p_token $http_x_p2p_token; empty_gif; }
"""
    http = "p2p_token_skew 30s;\n" + "".join(
        'p2p_token_key %s "%s";\n' % (k["id"], k["secret"]) for k in VECTORS["keys"])
    problems = []
    checked = 0
    with h.NginxServer(module=module, config=config, http_config=http) as s:
        for v in VECTORS["checks"]:
            # The skew vectors are relative to the vectors' fixed "now"; the rest hold
            # on any day before 2100. An empty header is no token ("missing", above).
            if "skew" in v["name"] or not v["token"]:
                continue
            tokens_seen.add(v["token"])
            r = s.get(v["path"], headers={"X-P2P-Token": v["token"], "X-Real-IP": v["client_ip"]})
            expected = 200 if v["verdict"] == "ok" else 403
            checked += 1
            if r.status != expected:
                problems.append("%s: %d, expected %d" % (v["name"], r.status, expected))
            elif expected == 403:
                time.sleep(0.01)
                if "token %s" % v["verdict"] not in s.read_log():
                    problems.append("%s: no '%s' in the log" % (v["name"], v["verdict"]))
        problems += check_no_secrets(s)
    if checked < 20:
        problems.append("only %d vectors checked" % checked)
    report("shared vectors through nginx (%d checks)" % checked, problems)


def hints_end_to_end(module):
    """Token -> manifest rewritten by the hints filter carrying $p2p_session_credential ->
    the credential opens the P2P endpoint; ffmpeg still plays over HTTP."""
    http = "p2p_hints_cache_zone hints:1m;\n" + MAIN_CONFIG
    config = r"""
root $TEST_NGINX_HTML_DIR;
location /show/ {
    p2p_token $arg_token $cookie_p2p_token;
    p2p_token_cookie p2p_token;
    p2p_hints on;
    p2p_hints_hash off;
    p2p_hints_content_id show-7;
    p2p_hints_tracker /p2p/tracker/;
    p2p_session_content show-7;
    p2p_hints_credential $p2p_session_credential;
}
location /p2p/tracker/ {
    p2p_session_require $http_x_p2p_credential;
    add_header X-Content $p2p_session_content always;
}
"""
    s = h.NginxServer(module=module, config=config, http_config=http)
    write_hls(s, "show/low")
    s.write_file("html/show/master.m3u8", "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=300000\n"
                 "low/index.m3u8\n")
    s.write_file("html/p2p/tracker/init", "{}\n")
    token = mint("k2025", "/show/*", sid="viewer-9")
    with s:
        problems = []
        r = s.get("/show/master.m3u8?token=" + token)
        m = re.search(r'^#EXT-X-SESSION-DATA:DATA-ID="org\.p2p\.credential",VALUE="(c1\.[^"]+)"$',
                      r.text, re.M)
        if r.status != 200 or not m:
            problems.append("manifest %d without a credential:\n%s" % (r.status, r.text[:600]))
        else:
            credential = m.group(1)
            tokens_seen.add(credential)
            r2 = s.get("/p2p/tracker/init", headers={"X-P2P-Credential": credential})
            if r2.status != 200 or r2.header("X-Content") != "show-7":
                problems.append("tracker with the manifest's credential: %d %r" %
                                (r2.status, r2.header("X-Content")))
        if s.get("/p2p/tracker/init").status != 403:
            problems.append("tracker without a credential was not refused")
        if s.get("/show/master.m3u8").status != 403:
            problems.append("manifest without a token was not refused")
        url = "http://127.0.0.1:%d/show/master.m3u8?token=%s" % (s.port, token)
        out = subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-i", url, "-c", "copy",
                              "-f", "null", "-"], capture_output=True, text=True, timeout=60)
        if out.returncode != 0:
            problems.append("ffmpeg on the rewritten master playlist: " + out.stderr[-600:])
        problems += check_no_secrets(s)
        report("hints filter carries $p2p_session_credential; it opens the tracker", problems)


GEOIP2_MODULE = "/usr/lib/nginx/modules/ngx_http_geoip2_module.so"


def geoip2_cases(module):
    """With Debian's geoip2 module and a small MaxMind DB written by the test."""
    if not os.path.exists(GEOIP2_MODULE):
        report("geoip2 composition", ["%s missing: apt-get install libnginx-mod-http-geoip2" %
                                      GEOIP2_MODULE])
        return
    config = r"""
set_real_ip_from 127.0.0.1;
real_ip_header X-Real-IP;
root $TEST_NGINX_HTML_DIR;
location /geo/ { p2p_geo $geoip2_data_country_code allow DE US; }
location /geo-deny/ { p2p_geo $geoip2_data_country_code deny CN; }
"""
    http = ("geoip2 $TEST_NGINX_PREFIX/country.mmdb "
            "{ $geoip2_data_country_code country iso_code; }")
    s = h.NginxServer(module=module, config=config, http_config=http,
                      extra_modules=[GEOIP2_MODULE])
    write_mmdb(os.path.join(s.prefix, "country.mmdb"),
               {"127.0.0.0/8": "DE", "10.0.0.0/8": "CN", "192.0.2.0/24": "US"})
    s.write_file("html/geo/a.txt", "ok\n")
    s.write_file("html/geo-deny/a.txt", "ok\n")
    with s:
        case(s, "geoip2: allowed country (DE)", "/geo/a.txt", 200)
        case(s, "geoip2: allowed country (US)", "/geo/a.txt", 200,
             headers={"X-Real-IP": "192.0.2.10"})
        case(s, "geoip2: country not allowed (CN)", "/geo/a.txt", 403,
             headers={"X-Real-IP": "10.1.2.3"}, log="country not allowed: CN")
        case(s, "geoip2: address not in the database", "/geo/a.txt", 403,
             headers={"X-Real-IP": "198.51.100.1"}, log="country unknown")
        case(s, "geoip2: deny list", "/geo-deny/a.txt", 403,
             headers={"X-Real-IP": "10.9.9.9"}, log="country not allowed: CN")
        case(s, "geoip2: deny list, unknown let through", "/geo-deny/a.txt", 200,
             headers={"X-Real-IP": "198.51.100.1"})


def check_no_secrets(s):
    # The harness logs at debug level, where nginx itself prints request lines; what
    # operators run (info and up) must never show a token or a secret.
    entries, keep = [], False
    for line in s.read_log().splitlines():
        if re.match(r"\d{4}/\d\d/\d\d \d\d:\d\d:\d\d \[", line):
            keep = "[debug]" not in line  # a debug entry runs on over header-dump lines
        if keep:
            entries.append(line)
    log = "\n".join(entries)
    problems = []
    for t in tokens_seen:
        if t and len(t) > 20 and t[-43:] in log:
            problems.append("a token signature is in the error log")
            break
    for secret in list(KEYS.values()) + [SESSION_SECRET]:
        if secret in log:
            problems.append("a secret is in the error log")
    return problems


# (case, server-level config, message, the directive the reported line must hold)
BAD_CONFIGS = [
    ("bad key id", 'p2p_token_key "bad.id" "0123456789abcdef";', 'invalid key id "bad.id"',
     "p2p_token_key"),
    ("short secret", "p2p_token_key k1 short;", "is shorter than 16 bytes", "p2p_token_key"),
    ("empty domain allowlist", "location / {\n p2p_domain;\n}",
     'invalid number of arguments in "p2p_domain" directive', "p2p_domain"),
    ("invalid domain pattern", "location / {\n p2p_domain https://example.com;\n}",
     'invalid domain "https://example.com"', "p2p_domain"),
    ("unknown missing-header policy",
     "location / {\n p2p_domain example.com;\n p2p_domain_missing maybe;\n}",
     'invalid value "maybe"', "p2p_domain_missing"),
    ("unknown geo policy", "location / {\n p2p_geo $viewer_country permit DE;\n}",
     'invalid policy "permit"', "p2p_geo"),
    ("bad country code", "location / {\n p2p_geo $viewer_country allow USA;\n}",
     'invalid country code "USA"', "p2p_geo"),
    ("token without a key", "location / {\n p2p_token $arg_token;\n}",
     'needs at least one "p2p_token_key"', "p2p_token"),
    ("credential check without a key", "location / {\n p2p_session_require $http_x_c;\n}",
     'needs at least one "p2p_session_key"', "p2p_session_require"),
    ("deny status out of range", "location / {\n p2p_access_deny_status 200;\n}",
     "must be 400..599", "p2p_access_deny_status"),
    ("duplicate key id", 'p2p_token_key k1 "0123456789abcdef";\n'
     'p2p_token_key k1 "0123456789abcdefX";', 'duplicate key id "k1"', 'abcdefX'),
]


def config_error_cases(module):
    for name, snippet, message, directive in BAD_CONFIGS:
        server = h.NginxServer(module=module, config=snippet,
                               http_config='map $http_x $viewer_country { default ""; }')
        code, out = server.test_config()
        problems = []
        if code == 0:
            problems.append("nginx -t accepted it")
        if message not in out:
            problems.append("no %r in:\n%s" % (message, out))
        m = re.search(r" in (\S+nginx\.conf):(\d+)", out)
        if not m:
            problems.append("no file:line in:\n" + out)
        else:
            with open(m.group(1)) as f:
                line = f.read().splitlines()[int(m.group(2)) - 1]
            if directive not in line:
                problems.append("line %s is %r, expected the %r directive" %
                                (m.group(2), line, directive))
        report("nginx -t refuses: " + name, problems)
        shutil.rmtree(server.prefix, ignore_errors=True)


def main():
    module = os.environ["P2P_NGINX_MODULE"]
    http = MAIN_CONFIG + (
        'log_format p2p_segments "$uri $status cookie=$http_cookie";\n')
    config = SERVER_CONFIG.replace(
        "location /vod/ {", "location /vod/ {\n    access_log logs/segments.log p2p_segments;")
    s = h.NginxServer(module=module, config=config, http_config=http, workers=2)
    write_hls(s, "vod/film")
    write_hls(s, "vod/other")
    write_hls(s, "live/ch1")
    write_hls(s, "rotated/film")
    write_hls(s, "live/ch1/x")
    write_hls(s, "index-redirect")
    for folder in ("embed", "embed-open", "geo-allow", "geo-deny", "geo-strict", "all",
                   "p2p/tracker", "status-404/film", "live/free"):
        s.write_file("html/%s/a.txt" % folder, "ok\n")
    with s:
        token_cases(s)
        manifest_to_segments(s)
        domain_cases(s)
        geo_cases(s)
        session_cases(s)
        hostile_cases(s)
        report("no token, credential or secret in the error log", check_no_secrets(s))
    vector_cases(module)
    geoip2_cases(module)
    hints_end_to_end(module)
    config_error_cases(module)
    print("%d passed, %d failed" % (results["passed"], results["failed"]))
    return 1 if results["failed"] or not results["passed"] else 0


if __name__ == "__main__":
    sys.exit(main())
