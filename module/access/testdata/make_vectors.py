#!/usr/bin/env python3
"""Writes vectors.json: the shared test vectors for the access token and the session
credential. This file is also the reference minter in a second language (README.md,
"Token format"): it shares no code with the C++ core, so the vectors check both.

Run: python3 module/access/testdata/make_vectors.py > module/access/testdata/vectors.json
"""
import base64
import hashlib
import hmac
import json

FAR = 4102444800  # 2100-01-01: still valid whenever a test runs
PAST = 1600000000  # 2020-09-13: always expired


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def sign(version: str, key_id: str, secret: str, lines: list) -> str:
    payload = b64url("\n".join(lines).encode("utf-8"))
    signed = f"{version}.{key_id}.{payload}"
    mac = hmac.new(secret.encode("utf-8"), signed.encode("ascii"), hashlib.sha256).digest()
    return f"{signed}.{b64url(mac)}"


def mint_token(key_id, secret, exp, scope, nbf=0, ip="", sid=""):
    lines = [f"exp={exp}"]
    if nbf:
        lines.append(f"nbf={nbf}")
    lines.append(f"scope={scope}")
    if ip:
        lines.append(f"ip={ip}")
    if sid:
        lines.append(f"sid={sid}")
    return sign("t1", key_id, secret, lines)


def mint_credential(key_id, secret, exp, content, sid=""):
    lines = [f"exp={exp}", f"content={content}"]
    if sid:
        lines.append(f"sid={sid}")
    return sign("c1", key_id, secret, lines)


KEYS = {
    "k2024": "correct horse battery staple 2024",
    "k2025": "tr0ub4dor&3-rotated-key-2025",
}
CREDENTIAL_KEYS = {"s1": "session-credential-secret-0001"}


def token_case(name, key_id, claims):
    secret = KEYS[key_id]
    return {
        "name": name,
        "key_id": key_id,
        "secret": secret,
        "claims": {
            "exp": claims["exp"],
            "nbf": claims.get("nbf", 0),
            "scope": claims["scope"],
            "ip": claims.get("ip", ""),
            "sid": claims.get("sid", ""),
        },
        "token": mint_token(key_id, secret, **claims),
    }


def main():
    tokens = [
        token_case("prefix scope", "k2024", {"exp": FAR, "scope": "/vod/film/*"}),
        token_case("exact scope", "k2024", {"exp": FAR, "scope": "/vod/film/index.m3u8"}),
        token_case("wildcard scope", "k2025", {"exp": FAR, "scope": "/live/*/index.m3u8"}),
        token_case("all claims", "k2025",
                   {"exp": FAR, "nbf": 1700000000, "scope": "/vod/film/*",
                    "ip": "127.0.0.0/8", "sid": "viewer-42"}),
        token_case("bound to one address", "k2024",
                   {"exp": FAR, "scope": "/vod/*", "ip": "127.0.0.1"}),
        token_case("bound elsewhere", "k2024",
                   {"exp": FAR, "scope": "/vod/*", "ip": "192.0.2.0/24"}),
        token_case("expired", "k2024", {"exp": PAST, "scope": "/vod/film/*"}),
        token_case("ipv6 binding", "k2025",
                   {"exp": FAR, "scope": "/vod/*", "ip": "2001:db8::/32"}),
    ]
    good = tokens[0]["token"]
    head, sig = good.rsplit(".", 1)
    flipped = sig[:-2] + ("B" if sig[-2] != "B" else "C") + sig[-1]
    keys = [{"id": k, "secret": v} for k, v in KEYS.items()]
    now = 1800000000
    checks = [
        {"name": "valid prefix", "token": good, "path": "/vod/film/seg-1.ts",
         "client_ip": "127.0.0.1", "verdict": "ok"},
        {"name": "valid manifest", "token": good, "path": "/vod/film/index.m3u8",
         "client_ip": "127.0.0.1", "verdict": "ok"},
        {"name": "prefix reaches sub folders", "token": good, "path": "/vod/film/720p/seg-1.ts",
         "client_ip": "127.0.0.1", "verdict": "ok"},
        {"name": "other content", "token": good, "path": "/vod/other/seg-1.ts",
         "client_ip": "127.0.0.1", "verdict": "wrong scope"},
        {"name": "exact scope other file", "token": tokens[1]["token"],
         "path": "/vod/film/seg-1.ts", "client_ip": "127.0.0.1", "verdict": "wrong scope"},
        {"name": "exact scope", "token": tokens[1]["token"], "path": "/vod/film/index.m3u8",
         "client_ip": "127.0.0.1", "verdict": "ok"},
        {"name": "wildcard one segment", "token": tokens[2]["token"],
         "path": "/live/channel1/index.m3u8", "client_ip": "127.0.0.1", "verdict": "ok"},
        {"name": "wildcard not across slash", "token": tokens[2]["token"],
         "path": "/live/a/b/index.m3u8", "client_ip": "127.0.0.1", "verdict": "wrong scope"},
        {"name": "all claims ok", "token": tokens[3]["token"], "path": "/vod/film/seg-1.ts",
         "client_ip": "127.0.0.9", "verdict": "ok"},
        {"name": "all claims other net", "token": tokens[3]["token"], "path": "/vod/film/seg-1.ts",
         "client_ip": "10.0.0.1", "verdict": "ip mismatch"},
        {"name": "bound address", "token": tokens[4]["token"], "path": "/vod/film/seg-1.ts",
         "client_ip": "127.0.0.1", "verdict": "ok"},
        {"name": "bound address mapped", "token": tokens[4]["token"],
         "path": "/vod/film/seg-1.ts", "client_ip": "::ffff:127.0.0.1", "verdict": "ok"},
        {"name": "bound address other", "token": tokens[4]["token"], "path": "/vod/film/seg-1.ts",
         "client_ip": "127.0.0.2", "verdict": "ip mismatch"},
        {"name": "ipv6 in net", "token": tokens[7]["token"], "path": "/vod/a",
         "client_ip": "2001:db8:1::5", "verdict": "ok"},
        {"name": "ipv6 binding ipv4 client", "token": tokens[7]["token"], "path": "/vod/a",
         "client_ip": "127.0.0.1", "verdict": "ip mismatch"},
        {"name": "expired", "token": tokens[6]["token"], "path": "/vod/film/seg-1.ts",
         "client_ip": "127.0.0.1", "verdict": "expired"},
        {"name": "tampered signature", "token": head + "." + flipped,
         "path": "/vod/film/seg-1.ts", "client_ip": "127.0.0.1", "verdict": "bad signature"},
        {"name": "signed with another key", "token": mint_token("k2024", "not the key at all!", FAR, "/vod/film/*"),
         "path": "/vod/film/seg-1.ts", "client_ip": "127.0.0.1", "verdict": "bad signature"},
        {"name": "unknown key id", "token": mint_token("k1999", "an old retired secret", FAR, "/vod/film/*"),
         "path": "/vod/film/seg-1.ts", "client_ip": "127.0.0.1", "verdict": "unknown key id"},
        {"name": "truncated", "token": good[:-5], "path": "/vod/film/seg-1.ts",
         "client_ip": "127.0.0.1", "verdict": "malformed"},
        {"name": "padding in payload", "token": head.replace(head.split(".")[2], head.split(".")[2] + "=") + "." + sig,
         "path": "/vod/film/seg-1.ts", "client_ip": "127.0.0.1", "verdict": "malformed"},
        {"name": "not base64", "token": "t1.k2024.!!!." + sig, "path": "/vod/film/seg-1.ts",
         "client_ip": "127.0.0.1", "verdict": "malformed"},
        {"name": "wrong version", "token": "t2" + good[2:], "path": "/vod/film/seg-1.ts",
         "client_ip": "127.0.0.1", "verdict": "malformed"},
        {"name": "credential is not a token", "token": mint_credential("k2024", KEYS["k2024"], FAR, "film"),
         "path": "/vod/film/seg-1.ts", "client_ip": "127.0.0.1", "verdict": "malformed"},
        {"name": "claims out of order", "token": sign("t1", "k2024", KEYS["k2024"], ["scope=/vod/*", f"exp={FAR}"]),
         "path": "/vod/film/seg-1.ts", "client_ip": "127.0.0.1", "verdict": "malformed"},
        {"name": "unknown claim", "token": sign("t1", "k2024", KEYS["k2024"], [f"exp={FAR}", "scope=/vod/*", "extra=1"]),
         "path": "/vod/film/seg-1.ts", "client_ip": "127.0.0.1", "verdict": "malformed"},
        {"name": "leading zero expiry", "token": sign("t1", "k2024", KEYS["k2024"], [f"exp=0{FAR}", "scope=/vod/*"]),
         "path": "/vod/film/seg-1.ts", "client_ip": "127.0.0.1", "verdict": "malformed"},
        {"name": "oversized", "token": good + "A" * 2100, "path": "/vod/film/seg-1.ts",
         "client_ip": "127.0.0.1", "verdict": "malformed"},
        {"name": "empty", "token": "", "path": "/vod/film/seg-1.ts",
         "client_ip": "127.0.0.1", "verdict": "malformed"},
    ]
    for c in checks:
        c.setdefault("now", now)
        c.setdefault("skew", 30)
    nbf_token = mint_token("k2024", KEYS["k2024"], now + 3600, "/vod/*", nbf=now + 20)
    far_nbf_token = mint_token("k2024", KEYS["k2024"], now + 3600, "/vod/*", nbf=now + 100)
    just_expired = mint_token("k2024", KEYS["k2024"], now - 20, "/vod/*")
    long_expired = mint_token("k2024", KEYS["k2024"], now - 100, "/vod/*")
    for name, tok, verdict in [("not yet valid within skew", nbf_token, "ok"),
                               ("not yet valid beyond skew", far_nbf_token, "not yet valid"),
                               ("expired within skew", just_expired, "ok"),
                               ("expired beyond skew", long_expired, "expired")]:
        checks.append({"name": name, "token": tok, "path": "/vod/x.ts", "client_ip": "127.0.0.1",
                       "now": now, "skew": 30, "verdict": verdict})

    ckey, csecret = next(iter(CREDENTIAL_KEYS.items()))
    credentials = [
        {"name": "content and session", "key_id": ckey, "secret": csecret,
         "claims": {"exp": FAR, "content": "vod/film", "sid": "viewer-42"},
         "credential": mint_credential(ckey, csecret, FAR, "vod/film", "viewer-42")},
        {"name": "content only", "key_id": ckey, "secret": csecret,
         "claims": {"exp": FAR, "content": "live-ch1", "sid": ""},
         "credential": mint_credential(ckey, csecret, FAR, "live-ch1")},
    ]
    credential_checks = [
        {"name": "valid", "credential": credentials[0]["credential"], "now": now, "skew": 30,
         "verdict": "ok"},
        {"name": "expired", "credential": mint_credential(ckey, csecret, PAST, "vod/film"),
         "now": now, "skew": 30, "verdict": "expired"},
        {"name": "token is not a credential", "credential": good, "now": now, "skew": 30,
         "verdict": "malformed"},
        {"name": "forged", "credential": mint_credential(ckey, "someone else's secret", FAR, "vod/film"),
         "now": now, "skew": 30, "verdict": "bad signature"},
    ]
    out = {
        "comment": "Generated by make_vectors.py; shared by the core test, the p2p-token tool "
                   "test, the nginx module test and the client library.",
        "keys": keys,
        "credential_keys": [{"id": k, "secret": v} for k, v in CREDENTIAL_KEYS.items()],
        "tokens": tokens,
        "checks": checks,
        "credentials": credentials,
        "credential_checks": credential_checks,
    }
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
