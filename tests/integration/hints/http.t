# HTTP correctness of the hints filter: HEAD, conditional and range requests, tiny
# buffers, non-200 answers, malformed and oversized manifests.

=== TEST 1: HEAD answers 200 without a body, with the rewritten length
--- http_config
p2p_hints_cache_zone hints:1m;
--- config
location / { root $TEST_NGINX_HTML_DIR; p2p_hints on; }
--- files
>>> html/index.m3u8
#EXTM3U
#EXT-X-TARGETDURATION:2
--- request
HEAD /index.m3u8
--- response_headers
!ETag
Content-Type: application/vnd.apple.mpegurl
--- response_body chomp
--- check
g = s.get("/index.m3u8")
assert r.header("Content-Length") == str(len(g.body)), (r.header("Content-Length"), len(g.body))
assert r.body == b""

=== TEST 2: If-Modified-Since on an unchanged file: 304, no body
--- http_config
p2p_hints_cache_zone hints:1m;
--- config
location / { root $TEST_NGINX_HTML_DIR; p2p_hints on; }
--- files
>>> html/index.m3u8 mtime:-3600
#EXTM3U
#EXT-X-TARGETDURATION:2
--- request
GET /index.m3u8
--- check
import email.utils, os
lm = email.utils.formatdate(os.path.getmtime(s.html + "/index.m3u8"), usegmt=True)
r2 = s.get("/index.m3u8", headers={"If-Modified-Since": lm})
assert r2.status == 304 and r2.body == b"", (r2.status, r2.body)
# A stale validator gets the full rewritten playlist.
r3 = s.get("/index.m3u8", headers={"If-Modified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"})
assert r3.status == 200 and r3.body == r.body

=== TEST 3: Range on a rewritten manifest: the whole rewritten body, 200
--- http_config
p2p_hints_cache_zone hints:1m;
--- config
location / { root $TEST_NGINX_HTML_DIR; p2p_hints on; }
--- files
>>> html/index.m3u8
#EXTM3U
#EXT-X-TARGETDURATION:2
--- request
GET /index.m3u8
--- more_headers
Range: bytes=0-3
--- error_code: 200
--- response_headers
!Content-Range
!Accept-Ranges
--- response_body_like
\A#EXTM3U\n#EXT-P2P-SWARM:
--- check
assert int(r.header("Content-Length")) == len(r.body)

=== TEST 4: Range on a segment is untouched by the filter
--- http_config
p2p_hints_cache_zone hints:1m;
--- config
location / { root $TEST_NGINX_HTML_DIR; p2p_hints on; }
--- files
>>> html/a.ts random:1000
--- request
GET /a.ts
--- more_headers
Range: bytes=10-19
--- error_code: 206
--- response_headers
Content-Range: bytes 10-19/1000
Content-Length: 10

=== TEST 5: tiny output buffers: body split in 64-byte pieces rewrites the same
--- http_config
p2p_hints_cache_zone hints:1m;
--- config
location /small/ { alias $TEST_NGINX_HTML_DIR/vod/; p2p_hints on; output_buffers 1 64; }
location /vod/ { root $TEST_NGINX_HTML_DIR; p2p_hints on; }
--- files
>>> html/vod/index.m3u8
#EXTM3U
#EXT-X-TARGETDURATION:4
#EXTINF:4.000,
seg0.ts
#EXTINF:4.000,
seg1.ts
#EXTINF:4.000,
seg2.ts
#EXTINF:4.000,
seg3.ts
#EXT-X-ENDLIST
>>> html/vod/seg0.ts random:1000 mtime:-60
>>> html/vod/seg1.ts random:1000 mtime:-60
>>> html/vod/seg2.ts random:1000 mtime:-60
>>> html/vod/seg3.ts random:1000 mtime:-60
--- request
GET /small/index.m3u8
--- check
import hints_verify
hints_verify.verify_hls(s, r.text, "vod", expect_hashes=4)
r2 = s.get("/vod/index.m3u8")
strip = lambda t: [l for l in t.splitlines() if not l.startswith("#EXT-P2P-SWARM")]
assert strip(r.text) == strip(r2.text)

=== TEST 6: non-200 answers are untouched
--- http_config
p2p_hints_cache_zone hints:1m;
--- config
location / { root $TEST_NGINX_HTML_DIR; p2p_hints on; }
location = /gone.m3u8 { return 410 "#EXTM3U\n"; }
--- request
GET /gone.m3u8
--- error_code: 410
--- response_body
#EXTM3U

=== TEST 7: a malformed playlist is passed through unchanged with one log line
--- http_config
p2p_hints_cache_zone hints:1m;
--- config
location / { root $TEST_NGINX_HTML_DIR; p2p_hints on; }
--- files
>>> html/bad.m3u8
EXTM3U without the hash
#EXTINF:2.0,
a.ts
--- request
GET /bad.m3u8
--- response_body
EXTM3U without the hash
#EXTINF:2.0,
a.ts
--- response_headers
Content-Length: 42
--- error_log
p2p hints: not an HLS playlist or DASH MPD, served as is

=== TEST 8: binary garbage with a manifest name passes through byte for byte
--- http_config
p2p_hints_cache_zone hints:1m;
--- config
location / { root $TEST_NGINX_HTML_DIR; p2p_hints on; }
--- files
>>> html/garbage.m3u8 random:5000
--- request
GET /garbage.m3u8
--- check
assert r.body == open(s.html + "/garbage.m3u8", "rb").read()
assert r.header("Content-Length") == "5000"
--- error_log
served as is

=== TEST 9: an oversized manifest (by Content-Length) is served as is
--- http_config
p2p_hints_cache_zone hints:1m;
--- config
location / { root $TEST_NGINX_HTML_DIR; p2p_hints on; p2p_hints_max_size 1k; }
--- files
>>> html/big.m3u8
#EXTM3U
#EXT-X-TARGETDURATION:2
--- check
body = "#EXTM3U\n#EXT-X-TARGETDURATION:2\n" + "#EXTINF:2.0,\nseg.ts\n" * 200
open(s.html + "/big.m3u8", "w").write(body)
r2 = s.get("/big.m3u8")
assert r2.status == 200 and r2.text == body, r2.text[:200]
assert r2.header("Content-Length") == str(len(body))
--- error_log
is over p2p_hints_max_size

=== TEST 10: a truncated playlist (broken attribute list) is passed through unchanged
--- http_config
p2p_hints_cache_zone hints:1m;
--- config
location / { root $TEST_NGINX_HTML_DIR; p2p_hints on; }
--- files
>>> html/trunc.m3u8
#EXTM3U
#EXT-X-TARGETDURATION:2
#EXT-X-MAP:URI="init.mp
--- request
GET /trunc.m3u8
--- response_body
#EXTM3U
#EXT-X-TARGETDURATION:2
#EXT-X-MAP:URI="init.mp
--- error_log
served as is

=== TEST 11: a 100 MB set of segments is hashed off the event loop
--- http_config
p2p_hints_cache_zone hints:1m;
--- config
location / { root $TEST_NGINX_HTML_DIR; p2p_hints on; }
location = /ping { return 200 "pong\n"; }
--- files
>>> html/big/index.m3u8
#EXTM3U
#EXT-X-TARGETDURATION:10
#EXTINF:10.0,
s0.ts
#EXTINF:10.0,
s1.ts
#EXTINF:10.0,
s2.ts
#EXTINF:10.0,
s3.ts
#EXTINF:10.0,
s4.ts
>>> html/big/s0.ts random:20000000 mtime:-60
>>> html/big/s1.ts random:20000000 mtime:-60
>>> html/big/s2.ts random:20000000 mtime:-60
>>> html/big/s3.ts random:20000000 mtime:-60
>>> html/big/s4.ts random:20000000 mtime:-60
--- check
import threading, time, hints_verify
subprocess = __import__("subprocess")
subprocess.run(["sh", "-c", "cat %s/big/*.ts > /dev/null" % s.html])  # page cache warm
done = {}
def fetch():
    done["resp"] = s.get("/big/index.m3u8")
    done["at"] = time.time()
t = threading.Thread(target=fetch)
t.start()
pings = []
deadline = time.time() + 20
while t.is_alive() and time.time() < deadline:
    p = s.get("/ping")
    assert p.status == 200
    pings.append(time.time())
t.join(30)
assert any(p < done["at"] for p in pings), "no request answered while hashing"
hints_verify.verify_hls(s, done["resp"].text, "big", expect_hashes=5)
