# Configuration errors are refused at nginx -t with the file and line; reload keeps
# the hash cache warm.

=== TEST 1: p2p_hints with hashes but no cache zone is refused
--- config
location / { p2p_hints on; }
--- must_die
--- error_log
"p2p_hints" with segment hashes needs "p2p_hints_cache_zone"
nginx.conf:

=== TEST 2: hash-less hints need no zone
--- config
location / { root $TEST_NGINX_HTML_DIR; p2p_hints on; p2p_hints_hash off; }
--- files
>>> html/a.m3u8
#EXTM3U
#EXT-X-TARGETDURATION:2
#EXTINF:2.0,
a.ts
>>> html/a.ts random:10 mtime:-60
--- request
GET /a.m3u8
--- response_body_like
^#EXT-P2P-SWARM:
--- response_body_unlike
EXT-P2P-SHA256

=== TEST 3: a malformed zone is refused
--- http_config
p2p_hints_cache_zone hints;
--- must_die
--- error_log
invalid zone "hints", expected name:size or name size
nginx.conf:

=== TEST 4: a zone too small is refused
--- http_config
p2p_hints_cache_zone hints:1k;
--- must_die
--- error_log
is too small

=== TEST 5: p2p_hints_max_size out of range is refused
--- http_config
p2p_hints_cache_zone hints:1m;
--- config
location / { p2p_hints on; p2p_hints_max_size 100; }
--- must_die
--- error_log
"p2p_hints_max_size" must be between 1k and 64m
nginx.conf:

=== TEST 6: p2p_hints takes on or off only
--- config
location / { p2p_hints maybe; }
--- must_die
--- error_log
invalid value "maybe" in "p2p_hints" directive
nginx.conf:

=== TEST 7: a bad token parameter name is refused
--- http_config
p2p_hints_cache_zone hints:1m;
--- config
location / { p2p_hints on; p2p_hints_token_params "a=b"; }
--- must_die
--- error_log
invalid token parameter name "a=b"

=== TEST 8: reload keeps the hash cache (same file identity, same hash)
--- http_config
p2p_hints_cache_zone hints:1m;
--- config
location / { root $TEST_NGINX_HTML_DIR; p2p_hints on; p2p_hints_memo_ttl 0; }
--- files
>>> html/r/index.m3u8
#EXTM3U
#EXT-X-TARGETDURATION:2
#EXTINF:2.0,
a.ts
>>> html/r/a.ts random:1000 mtime:-60
--- request
GET /r/index.m3u8
--- check
import os, hints_verify
first = hints_verify.hls_items(r.text)[0][0]
assert first == hints_verify.sha256sum(s.html + "/r/a.ts")
s.reload()
# Rewrite the segment in place keeping inode, size and mtime: only a warm cache that
# survived the reload can still answer with the first hash.
path = s.html + "/r/a.ts"
st = os.stat(path)
with open(path, "r+b") as f:
    f.write(b"\0" * 1000)
os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
r2 = s.get("/r/index.m3u8")
assert hints_verify.hls_items(r2.text)[0][0] == first, r2.text
# A changed mtime is a new identity: the new content is hashed.
os.utime(path, (st.st_mtime - 5, st.st_mtime - 5))
r3 = s.get("/r/index.m3u8")
assert hints_verify.hls_items(r3.text)[0][0] == hints_verify.sha256sum(path)

=== TEST 9: the per-worker memo answers for at most p2p_hints_memo_ttl
--- http_config
p2p_hints_cache_zone hints:1m;
--- config
location / { root $TEST_NGINX_HTML_DIR; p2p_hints on; p2p_hints_memo_ttl 300ms; }
--- files
>>> html/m/index.m3u8
#EXTM3U
#EXT-X-TARGETDURATION:2
#EXTINF:2.0,
a.ts
>>> html/m/a.ts random:1000 mtime:-60
--- request
GET /m/index.m3u8
--- check
import os, time, hints_verify
first = hints_verify.hls_items(r.text)[0][0]
path = s.html + "/m/a.ts"
with open(path, "wb") as f:
    f.write(b"new content")
t = time.time() - 30
os.utime(path, (t, t))
time.sleep(0.5)  # past the memo's time to live: the new file is seen
r2 = s.get("/m/index.m3u8")
assert hints_verify.hls_items(r2.text)[0][0] == hints_verify.sha256sum(path) != first
# A changed playlist is never answered from the memo.
with open(s.html + "/m/index.m3u8", "a") as f:
    f.write("#EXTINF:2.0,\na.ts\n")
r3 = s.get("/m/index.m3u8")
assert len(hints_verify.hls_items(r3.text)) == 2, r3.text

=== TEST 10: the cache zone also takes the two-argument spelling
--- http_config
p2p_hints_cache_zone hints 1m;
--- config
location / { root $TEST_NGINX_HTML_DIR; p2p_hints on; }
--- files
>>> html/b.m3u8
#EXTM3U
#EXT-X-TARGETDURATION:2
#EXTINF:2.0,
b.ts
>>> html/b.ts random:10 mtime:-60
--- request
GET /b.m3u8
--- response_body_like
EXT-P2P-SHA256
--- no_error_log
[error]

=== TEST 11: an empty zone name is refused
--- http_config
p2p_hints_cache_zone :1m;
--- must_die
--- error_log
invalid zone name ""
nginx.conf:
