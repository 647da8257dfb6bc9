# HLS master and media playlists through the hints filter, served from files.

=== TEST 1: master playlist gets session data, original lines kept in order
--- http_config
p2p_hints_cache_zone hints:1m;
--- config
location /hls/ {
    root $TEST_NGINX_HTML_DIR;
    p2p_hints on;
    p2p_hints_customer_id acme;
    p2p_hints_content_id movie-42;
    p2p_hints_tracker https://edge.example/p2p/tracker;
    p2p_hints_signalling wss://edge.example/p2p/signal;
    p2p_hints_distributor /p2p/config;
}
--- files
>>> html/hls/master.m3u8
#EXTM3U
#EXT-X-VERSION:6
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-STREAM-INF:BANDWIDTH=800000,RESOLUTION=640x360
low/index.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=2000000,RESOLUTION=1280x720
high/index.m3u8
--- request
GET /hls/master.m3u8
--- response_headers
Content-Type: application/vnd.apple.mpegurl
!ETag
!Last-Modified
!Accept-Ranges
--- response_body_like
\A#EXTM3U\n#EXT-X-SESSION-DATA:DATA-ID="org.p2p.content-id",VALUE="movie-42"\n
^#EXT-X-SESSION-DATA:DATA-ID="org.p2p.customer-id",VALUE="acme"$
^#EXT-X-SESSION-DATA:DATA-ID="org.p2p.swarm",VALUE="[A-Za-z0-9_-]{22}"$
^#EXT-X-SESSION-DATA:DATA-ID="org.p2p.tracker",VALUE="https://edge.example/p2p/tracker"$
^#EXT-X-SESSION-DATA:DATA-ID="org.p2p.signalling",VALUE="wss://edge.example/p2p/signal"$
^#EXT-X-SESSION-DATA:DATA-ID="org.p2p.distributor",VALUE="/p2p/config"$
#EXT-X-VERSION:6\n#EXT-X-INDEPENDENT-SEGMENTS\n#EXT-X-STREAM-INF:BANDWIDTH=800000,RESOLUTION=640x360\nlow/index.m3u8\n#EXT-X-STREAM-INF:BANDWIDTH=2000000,RESOLUTION=1280x720\nhigh/index.m3u8\n\Z
--- check
assert int(r.header("Content-Length")) == len(r.body), (r.header("Content-Length"), len(r.body))

=== TEST 2: media playlist: swarm tag and a hash per segment equal to sha256sum
--- http_config
p2p_hints_cache_zone hints:1m;
--- config
location /vod/ { root $TEST_NGINX_HTML_DIR; p2p_hints on; }
--- files
>>> html/vod/index.m3u8
#EXTM3U
#EXT-X-VERSION:3
#EXT-X-TARGETDURATION:4
#EXT-X-MEDIA-SEQUENCE:0
#EXT-X-PLAYLIST-TYPE:VOD
#EXTINF:4.000,
seg0.ts
#EXTINF:4.000,
seg1.ts
#EXTINF:2.500,
sub/seg2.ts?v=1
#EXT-X-ENDLIST
>>> html/vod/seg0.ts random:188000 mtime:-60
>>> html/vod/seg1.ts random:376000 mtime:-60
>>> html/vod/sub/seg2.ts random:94000 mtime:-60
--- request
GET /vod/index.m3u8
--- response_body_like
\A#EXTM3U\n#EXT-P2P-SWARM:[A-Za-z0-9_-]{22}\n#EXT-X-VERSION:3\n
^#EXTINF:4.000,\n#EXT-P2P-SHA256:[0-9a-f]{64}\nseg0.ts$
#EXT-X-ENDLIST\n\Z
--- check
import hints_verify
hints_verify.verify_hls(s, r.text, "vod", expect_hashes=3)
assert int(r.header("Content-Length")) == len(r.body)

=== TEST 3: byte ranges with explicit and implicit offsets are hashed per range
--- http_config
p2p_hints_cache_zone hints:1m;
--- config
location /br/ { root $TEST_NGINX_HTML_DIR; p2p_hints on; }
--- files
>>> html/br/index.m3u8
#EXTM3U
#EXT-X-VERSION:4
#EXT-X-TARGETDURATION:2
#EXTINF:2.0,
#EXT-X-BYTERANGE:1000@0
all.ts
#EXTINF:2.0,
#EXT-X-BYTERANGE:2000
all.ts
#EXTINF:2.0,
#EXT-X-BYTERANGE:500@5000
all.ts
#EXT-X-ENDLIST
>>> html/br/all.ts random:6000 mtime:-60
--- request
GET /br/index.m3u8
--- check
import hints_verify
items = hints_verify.hls_items(r.text)
assert [(u, o, l) for _, u, o, l in items] == [("all.ts", 0, 1000), ("all.ts", 1000, 2000), ("all.ts", 5000, 500)], items
hints_verify.verify_hls(s, r.text, "br", expect_hashes=3)
assert len(set(d for d, _, _, _ in items)) == 3

=== TEST 4: AES-128 key lines untouched, key file never hashed
--- http_config
p2p_hints_cache_zone hints:1m;
--- config
location /enc/ { root $TEST_NGINX_HTML_DIR; p2p_hints on; }
--- files
>>> html/enc/index.m3u8
#EXTM3U
#EXT-X-TARGETDURATION:4
#EXT-X-KEY:METHOD=AES-128,URI="key.bin",IV=0x0123456789abcdef0123456789abcdef
#EXTINF:4.0,
seg0.ts
#EXT-X-KEY:METHOD=NONE
#EXTINF:4.0,
seg1.ts
#EXT-X-ENDLIST
>>> html/enc/key.bin random:16 mtime:-60
>>> html/enc/seg0.ts random:1000 mtime:-60
>>> html/enc/seg1.ts random:1000 mtime:-60
--- request
GET /enc/index.m3u8
--- response_body_like
^#EXT-X-KEY:METHOD=AES-128,URI="key.bin",IV=0x0123456789abcdef0123456789abcdef\n#EXTINF:4.0,\n#EXT-P2P-SHA256:[0-9a-f]{64}\nseg0.ts$
^#EXT-X-KEY:METHOD=NONE$
--- check
import hints_verify
hints_verify.verify_hls(s, r.text, "enc", expect_hashes=2)
key = hints_verify.sha256sum(s.html + "/enc/key.bin")
assert key not in r.text

=== TEST 5: fMP4 init segment (EXT-X-MAP) is hashed, with its byte range
--- http_config
p2p_hints_cache_zone hints:1m;
--- config
location /fmp4/ { root $TEST_NGINX_HTML_DIR; p2p_hints on; }
--- files
>>> html/fmp4/index.m3u8
#EXTM3U
#EXT-X-VERSION:7
#EXT-X-TARGETDURATION:2
#EXT-X-MAP:URI="media.mp4",BYTERANGE="700@0"
#EXTINF:2.0,
#EXT-X-BYTERANGE:3000@700
media.mp4
#EXT-X-ENDLIST
>>> html/fmp4/media.mp4 random:3700 mtime:-60
--- request
GET /fmp4/index.m3u8
--- response_body_like
^#EXT-P2P-SHA256:[0-9a-f]{64}\n#EXT-X-MAP:URI="media.mp4",BYTERANGE="700@0"$
--- check
import hints_verify
hints_verify.verify_hls(s, r.text, "fmp4", expect_hashes=2)

=== TEST 6: LL-HLS: parts hashed, preload hint not, every tag kept in order
--- http_config
p2p_hints_cache_zone hints:1m;
--- config
location /ll/ { root $TEST_NGINX_HTML_DIR; p2p_hints on; }
--- files
>>> html/ll/index.m3u8
#EXTM3U
#EXT-X-VERSION:9
#EXT-X-TARGETDURATION:4
#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=3.0,CAN-SKIP-UNTIL=24.0
#EXT-X-PART-INF:PART-TARGET=1.0
#EXT-X-MEDIA-SEQUENCE:10
#EXT-X-SKIP:SKIPPED-SEGMENTS=2
#EXT-X-MAP:URI="init.mp4"
#EXT-X-PROGRAM-DATE-TIME:2026-11-22T01:00:00.000Z
#EXTINF:4.0,
seg12.m4s
#EXT-X-PART:DURATION=1.0,URI="seg13.0.m4s",INDEPENDENT=YES
#EXT-X-PART:DURATION=1.0,URI="seg13.1.m4s"
#EXT-X-PRELOAD-HINT:TYPE=PART,URI="seg13.2.m4s"
#EXT-X-RENDITION-REPORT:URI="../other/index.m3u8",LAST-MSN=13,LAST-PART=1
>>> html/ll/init.mp4 random:500 mtime:-60
>>> html/ll/seg12.m4s random:4000 mtime:-60
>>> html/ll/seg13.0.m4s random:1000 mtime:-60
>>> html/ll/seg13.1.m4s random:1000 mtime:-60
>>> html/ll/seg13.2.m4s random:100 mtime:-60
--- request
GET /ll/index.m3u8
--- check
import hints_verify
hints_verify.verify_hls(s, r.text, "ll", expect_hashes=4)
original = open(s.html + "/ll/index.m3u8").read().splitlines()
kept = [l for l in r.text.splitlines() if not l.startswith("#EXT-P2P-")]
assert kept == original, kept
lines = r.text.splitlines()
assert not lines[lines.index('#EXT-X-PRELOAD-HINT:TYPE=PART,URI="seg13.2.m4s"') - 1].startswith("#EXT-P2P-SHA256")

=== TEST 7: discontinuities and program date time kept, CRLF line endings kept
--- http_config
p2p_hints_cache_zone hints:1m;
--- config
location /crlf/ { root $TEST_NGINX_HTML_DIR; p2p_hints on; }
--- files
>>> html/crlf/index.m3u8 crlf
#EXTM3U
#EXT-X-TARGETDURATION:2
#EXT-X-PROGRAM-DATE-TIME:2026-11-22T01:00:00.000Z
#EXTINF:2.0,
a.ts
#EXT-X-DISCONTINUITY
#EXTINF:2.0,
b.ts
>>> html/crlf/a.ts random:100 mtime:-60
>>> html/crlf/b.ts random:100 mtime:-60
--- request
GET /crlf/index.m3u8
--- check
import hints_verify
assert b"\r\n#EXT-X-DISCONTINUITY\r\n" in r.body
assert r.body.count(b"\r\n") == r.body.count(b"\n"), r.body
assert r.body.startswith(b"#EXTM3U\r\n#EXT-P2P-SWARM:")
hints_verify.verify_hls(s, r.text, "crlf", expect_hashes=2)

=== TEST 8: a segment still being written gets no hash; settled ones do
--- http_config
p2p_hints_cache_zone hints:1m;
--- config
location /live/ { root $TEST_NGINX_HTML_DIR; p2p_hints on; p2p_hints_hash_settle 5s; }
--- files
>>> html/live/index.m3u8
#EXTM3U
#EXT-X-TARGETDURATION:2
#EXT-X-MEDIA-SEQUENCE:7
#EXTINF:2.0,
seg7.ts
#EXTINF:2.0,
seg8.ts
>>> html/live/seg7.ts random:1000 mtime:-60
>>> html/live/seg8.ts random:1000
--- request
GET /live/index.m3u8
--- check
import hints_verify, os, time
items = hints_verify.hls_items(r.text)
assert items[0][0] is not None and items[1][0] is None, items
hints_verify.verify_hls(s, r.text, "live", expect_hashes=1)
# Once settled, the next request carries it (and the unsettled state was not cached).
t = time.time() - 10
os.utime(s.html + "/live/seg8.ts", (t, t))
r2 = s.get("/live/index.m3u8")
hints_verify.verify_hls(s, r2.text, "live", expect_hashes=2)

=== TEST 9: missing segment files and foreign URLs get no hash, and no error
--- http_config
p2p_hints_cache_zone hints:1m;
--- config
location /gaps/ { root $TEST_NGINX_HTML_DIR; p2p_hints on; }
--- files
>>> html/gaps/index.m3u8
#EXTM3U
#EXT-X-TARGETDURATION:2
#EXTINF:2.0,
gone.ts
#EXTINF:2.0,
https://cdn.example/seg.ts
#EXTINF:2.0,
../../../../etc/passwd
#EXTINF:2.0,
here.ts
>>> html/gaps/here.ts random:100 mtime:-60
--- request
GET /gaps/index.m3u8
--- check
import hints_verify
items = hints_verify.hls_items(r.text)
assert [d is not None for d, _, _, _ in items] == [False, False, False, True], items
hints_verify.verify_hls(s, r.text, "gaps", expect_hashes=1)

=== TEST 10: token parameters do not split the swarm
--- http_config
p2p_hints_cache_zone hints:1m;
--- config
location /tok/ { root $TEST_NGINX_HTML_DIR; p2p_hints on; p2p_hints_token_params token; }
--- files
>>> html/tok/index.m3u8
#EXTM3U
#EXT-X-TARGETDURATION:2
#EXTINF:2.0,
a.ts
--- request
GET /tok/index.m3u8?token=aaaa
--- check
r2 = s.get("/tok/index.m3u8?token=bbbb&x=1")
sw1 = [l for l in r.text.splitlines() if l.startswith("#EXT-P2P-SWARM:")]
sw2 = [l for l in r2.text.splitlines() if l.startswith("#EXT-P2P-SWARM:")]
assert sw1 and sw1 == sw2, (sw1, sw2)

=== TEST 11: swarm ids differ per rendition and per customer, and can be overridden
--- http_config
p2p_hints_cache_zone hints:1m;
--- config
location /sw/ { root $TEST_NGINX_HTML_DIR; p2p_hints on; p2p_hints_customer_id $arg_c; }
location /fixed/ { root $TEST_NGINX_HTML_DIR; p2p_hints on; p2p_hints_swarm_id event-2026; }
--- files
>>> html/sw/a/index.m3u8
#EXTM3U
#EXT-X-TARGETDURATION:2
>>> html/sw/b/index.m3u8
#EXTM3U
#EXT-X-TARGETDURATION:2
>>> html/fixed/x/index.m3u8
#EXTM3U
#EXT-X-TARGETDURATION:2
--- request
GET /sw/a/index.m3u8?c=one
--- check
def swarm(resp):
    return [l for l in resp.text.splitlines() if l.startswith("#EXT-P2P-SWARM:")][0]
a1 = swarm(r)
b1 = swarm(s.get("/sw/b/index.m3u8?c=one"))
a2 = swarm(s.get("/sw/a/index.m3u8?c=two"))
assert len({a1, b1, a2}) == 3, (a1, b1, a2)
assert swarm(s.get("/sw/a/index.m3u8?c=one")) == a1
f = swarm(s.get("/fixed/x/index.m3u8"))
assert f not in (a1, b1, a2)

=== TEST 12: a playlist already carrying our hints is served unchanged
--- http_config
p2p_hints_cache_zone hints:1m;
--- config
location /pre/ { root $TEST_NGINX_HTML_DIR; p2p_hints on; }
--- files
>>> html/pre/index.m3u8
#EXTM3U
#EXT-P2P-SWARM:AAAAAAAAAAAAAAAAAAAAAA
#EXT-X-TARGETDURATION:2
#EXTINF:2.0,
a.ts
--- request
GET /pre/index.m3u8
--- response_body
#EXTM3U
#EXT-P2P-SWARM:AAAAAAAAAAAAAAAAAAAAAA
#EXT-X-TARGETDURATION:2
#EXTINF:2.0,
a.ts
--- response_headers
Content-Length: 88

=== TEST 13: hints off by default and for other content types
--- http_config
p2p_hints_cache_zone hints:1m;
--- config
location /off/ { root $TEST_NGINX_HTML_DIR; }
location /txt/ { root $TEST_NGINX_HTML_DIR; p2p_hints on; }
--- files
>>> html/off/index.m3u8
#EXTM3U
#EXT-X-TARGETDURATION:2
>>> html/txt/a.txt
#EXTM3U
--- request
GET /off/index.m3u8
--- response_body
#EXTM3U
#EXT-X-TARGETDURATION:2
--- check
r2 = s.get("/txt/a.txt")
assert r2.text == "#EXTM3U\n", r2.text

=== TEST 14: two workers share the hash cache and agree
--- workers: 2
--- http_config
p2p_hints_cache_zone hints:1m;
--- config
location /w2/ { root $TEST_NGINX_HTML_DIR; p2p_hints on; }
--- files
>>> html/w2/index.m3u8
#EXTM3U
#EXT-X-TARGETDURATION:2
#EXTINF:2.0,
a.ts
#EXTINF:2.0,
b.ts
>>> html/w2/a.ts random:50000 mtime:-60
>>> html/w2/b.ts random:50000 mtime:-60
--- request
GET /w2/index.m3u8
--- check
import hints_verify
bodies = {s.get("/w2/index.m3u8").body for _ in range(20)}
assert bodies == {r.body}, len(bodies)
hints_verify.verify_hls(s, r.text, "w2", expect_hashes=2)
