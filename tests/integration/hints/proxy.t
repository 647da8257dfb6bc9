# nginx as an edge in front of a packager: proxied manifests get hints too.

=== TEST 1: proxied playlist gets hints, hash-less without a segment root
--- http_config
p2p_hints_cache_zone hints:1m;
server { listen 127.0.0.1:$TEST_NGINX_BACKEND_PORT; location / { root $TEST_NGINX_HTML_DIR/origin; } }
--- config
location / { proxy_pass http://127.0.0.1:$TEST_NGINX_BACKEND_PORT; p2p_hints on; }
--- files
>>> html/origin/live/index.m3u8
#EXTM3U
#EXT-X-TARGETDURATION:2
#EXTINF:2.0,
a.ts
>>> html/origin/live/a.ts random:100 mtime:-60
--- request
GET /live/index.m3u8
--- response_body_like
\A#EXTM3U\n#EXT-P2P-SWARM:[A-Za-z0-9_-]{22}\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.0,\na.ts\n\Z
--- check
assert int(r.header("Content-Length")) == len(r.body)

=== TEST 2: proxied playlist with p2p_hints_segment_root gets hashes
--- http_config
p2p_hints_cache_zone hints:1m;
server { listen 127.0.0.1:$TEST_NGINX_BACKEND_PORT; location / { root $TEST_NGINX_HTML_DIR/origin; } }
--- config
location / { proxy_pass http://127.0.0.1:$TEST_NGINX_BACKEND_PORT; p2p_hints on; p2p_hints_segment_root $TEST_NGINX_HTML_DIR/origin; }
--- files
>>> html/origin/live/index.m3u8
#EXTM3U
#EXT-X-TARGETDURATION:2
#EXTINF:2.0,
a.ts
#EXTINF:2.0,
b.ts
>>> html/origin/live/a.ts random:100 mtime:-60
>>> html/origin/live/b.ts random:100 mtime:-60
--- request
GET /live/index.m3u8
--- check
import hints_verify
hints_verify.verify_hls(s, r.text, "origin/live", expect_hashes=2)
assert int(r.header("Content-Length")) == len(r.body)

=== TEST 3: chunked upstream body is rewritten whole
--- http_config
p2p_hints_cache_zone hints:1m;
server {
    listen 127.0.0.1:$TEST_NGINX_BACKEND_PORT;
    location / { root $TEST_NGINX_HTML_DIR/origin; sub_filter NEVER_THERE x; sub_filter_types *; }
}
--- config
location / { proxy_pass http://127.0.0.1:$TEST_NGINX_BACKEND_PORT; proxy_http_version 1.1; p2p_hints on; p2p_hints_segment_root $TEST_NGINX_HTML_DIR/origin; }
--- files
>>> html/origin/live/index.m3u8
#EXTM3U
#EXT-X-TARGETDURATION:2
#EXTINF:2.0,
a.ts
>>> html/origin/live/a.ts random:100 mtime:-60
--- request
GET /live/index.m3u8
--- check
import hints_verify
import http.client
c = http.client.HTTPConnection("127.0.0.1", s.backend_port)
c.request("GET", "/live/index.m3u8")
up = c.getresponse()
assert up.getheader("Transfer-Encoding") == "chunked", up.getheaders()
up.read()
hints_verify.verify_hls(s, r.text, "origin/live", expect_hashes=1)
assert int(r.header("Content-Length")) == len(r.body)

=== TEST 4: upstream in many tiny buffers is rewritten the same
--- http_config
p2p_hints_cache_zone hints:1m;
server { listen 127.0.0.1:$TEST_NGINX_BACKEND_PORT; location / { root $TEST_NGINX_HTML_DIR/origin; } }
--- config
location / {
    proxy_pass http://127.0.0.1:$TEST_NGINX_BACKEND_PORT;
    proxy_buffer_size 1k;
    proxy_buffers 64 1k;
    proxy_busy_buffers_size 1k;
    p2p_hints on;
    p2p_hints_segment_root $TEST_NGINX_HTML_DIR/origin;
}
--- check
import hints_verify
lines = ["#EXTM3U", "#EXT-X-TARGETDURATION:2"]
for i in range(300):
    lines += ["#EXTINF:2.0,", "seg%d.ts" % i]
s.write_file("html/origin/many.m3u8", "\n".join(lines) + "\n")
for i in range(3):
    s.write_file("html/origin/seg%d.ts" % i, b"x" * (100 + i))
import os, time
t = time.time() - 60
for i in range(3):
    os.utime(s.html + "/origin/seg%d.ts" % i, (t, t))
r = s.get("/many.m3u8")
assert r.status == 200
kept = [l for l in r.text.splitlines() if not l.startswith("#EXT-P2P-")]
assert kept == lines
hints_verify.verify_hls(s, r.text, "origin", expect_hashes=3)

=== TEST 5: a gzip-encoded upstream manifest passes through untouched, one log line
--- http_config
p2p_hints_cache_zone hints:1m;
server {
    listen 127.0.0.1:$TEST_NGINX_BACKEND_PORT;
    gzip on; gzip_min_length 0; gzip_types application/vnd.apple.mpegurl;
    location / { root $TEST_NGINX_HTML_DIR/origin; }
}
--- config
location / { proxy_pass http://127.0.0.1:$TEST_NGINX_BACKEND_PORT; proxy_http_version 1.1; p2p_hints on; }
--- files
>>> html/origin/index.m3u8
#EXTM3U
#EXT-X-TARGETDURATION:2
#EXTINF:2.0,
a.ts
--- request
GET /index.m3u8
--- more_headers
Accept-Encoding: gzip
--- response_headers
Content-Encoding: gzip
--- check
import gzip
assert gzip.decompress(r.body) == open(s.html + "/origin/index.m3u8", "rb").read()
--- error_log
served without hints

=== TEST 6: a proxied 404 is untouched
--- http_config
p2p_hints_cache_zone hints:1m;
server { listen 127.0.0.1:$TEST_NGINX_BACKEND_PORT; location / { return 404 "no such playlist\n"; } }
--- config
location / { proxy_pass http://127.0.0.1:$TEST_NGINX_BACKEND_PORT; p2p_hints on; }
--- request
GET /x.m3u8
--- error_code: 404
--- response_body
no such playlist
