# DASH MPDs through the hints filter.

=== TEST 1: static SegmentTemplate with $Number$: properties and hashes per segment
--- http_config
p2p_hints_cache_zone hints:1m;
--- config
location /dash/ { root $TEST_NGINX_HTML_DIR; p2p_hints on; p2p_hints_customer_id acme; p2p_hints_tracker /p2p/tracker; }
--- files
>>> html/dash/manifest.mpd
<?xml version="1.0" encoding="utf-8"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" mediaPresentationDuration="PT6S" minBufferTime="PT2S" profiles="urn:mpeg:dash:profile:isoff-live:2011">
  <Period id="0">
    <AdaptationSet mimeType="video/mp4" segmentAlignment="true">
      <SegmentTemplate timescale="1000" duration="2000" startNumber="1" initialization="init-$RepresentationID$.mp4" media="chunk-$RepresentationID$-$Number%05d$.m4s"/>
      <Representation id="v0" bandwidth="500000" codecs="avc1.64001e" width="640" height="360"/>
    </AdaptationSet>
  </Period>
</MPD>
>>> html/dash/init-v0.mp4 random:700 mtime:-60
>>> html/dash/chunk-v0-00001.m4s random:3000 mtime:-60
>>> html/dash/chunk-v0-00002.m4s random:3000 mtime:-60
>>> html/dash/chunk-v0-00003.m4s random:3000 mtime:-60
--- request
GET /dash/manifest.mpd
--- response_headers
Content-Type: application/dash+xml
--- response_body_like
<SupplementalProperty schemeIdUri="urn:p2p:session:2026" value="[^"]*customer-id=acme[^"]*"/>
<SupplementalProperty schemeIdUri="urn:p2p:swarm:2026" value="[A-Za-z0-9_-]{22}"/>
<p2p:SegmentHashes xmlns:p2p="urn:p2p:2026">
--- check
import hints_verify
reps = hints_verify.dash_hashes(r.text)
assert len(reps) == 1, reps
want = {(("init", "1"),): "init-v0.mp4"}
for n in (1, 2, 3):
    want[(("n", str(n)),)] = "chunk-v0-%05d.m4s" % n
got = reps[0]
assert set(got) == set(want), got
for key, name in want.items():
    assert got[key] == hints_verify.sha256sum(s.html + "/dash/" + name), name
assert int(r.header("Content-Length")) == len(r.body)

=== TEST 2: SegmentTimeline with repeats: hashes keyed by number and time
--- http_config
p2p_hints_cache_zone hints:1m;
--- config
location /tl/ { root $TEST_NGINX_HTML_DIR; p2p_hints on; }
--- files
>>> html/tl/manifest.mpd
<?xml version="1.0"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" mediaPresentationDuration="PT6S" minBufferTime="PT2S">
  <Period>
    <AdaptationSet mimeType="audio/mp4">
      <Representation id="a" bandwidth="64000">
        <SegmentTemplate timescale="10" initialization="a-init.mp4" media="a-$Time$.m4s">
          <SegmentTimeline><S t="0" d="20" r="2"/></SegmentTimeline>
        </SegmentTemplate>
      </Representation>
    </AdaptationSet>
  </Period>
</MPD>
>>> html/tl/a-init.mp4 random:100 mtime:-60
>>> html/tl/a-0.m4s random:300 mtime:-60
>>> html/tl/a-20.m4s random:300 mtime:-60
>>> html/tl/a-40.m4s random:300 mtime:-60
--- request
GET /tl/manifest.mpd
--- check
import hints_verify
reps = hints_verify.dash_hashes(r.text)
got = reps[0]
by_time = {dict(k).get("t"): v for k, v in got.items() if "t" in dict(k)}
assert set(by_time) == {"0", "20", "40"}, got
for t, sha in by_time.items():
    assert sha == hints_verify.sha256sum(s.html + "/tl/a-%s.m4s" % t)

=== TEST 3: SegmentList with media ranges
--- http_config
p2p_hints_cache_zone hints:1m;
--- config
location /sl/ { root $TEST_NGINX_HTML_DIR; p2p_hints on; }
--- files
>>> html/sl/manifest.mpd
<?xml version="1.0"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" mediaPresentationDuration="PT4S" minBufferTime="PT2S">
  <Period>
    <AdaptationSet mimeType="video/mp4">
      <Representation id="1" bandwidth="100000">
        <BaseURL>media/</BaseURL>
        <SegmentList duration="2">
          <Initialization sourceURL="all.mp4" range="0-99"/>
          <SegmentURL media="all.mp4" mediaRange="100-1099"/>
          <SegmentURL media="all.mp4" mediaRange="1100-2099"/>
        </SegmentList>
      </Representation>
    </AdaptationSet>
  </Period>
</MPD>
>>> html/sl/media/all.mp4 random:2100 mtime:-60
--- request
GET /sl/manifest.mpd
--- check
import hints_verify
got = hints_verify.dash_hashes(r.text)[0]
path = s.html + "/sl/media/all.mp4"
assert got[(("init", "1"),)] == hints_verify.file_sha256(path, 0, 100)
assert got[(("i", "0"),)] == hints_verify.file_sha256(path, 100, 1000)
assert got[(("i", "1"),)] == hints_verify.file_sha256(path, 1100, 1000)
# The hashes sit before BaseURL, where the schema allows foreign elements.
assert r.text.index("SegmentHashes") < r.text.index("<BaseURL>")

=== TEST 4: a dynamic MPD with a SegmentTimeline is hinted (live DASH)
--- http_config
p2p_hints_cache_zone hints:1m;
--- config
location /dyn/ { root $TEST_NGINX_HTML_DIR; p2p_hints on; }
--- files
>>> html/dyn/live.mpd
<?xml version="1.0"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="dynamic" availabilityStartTime="2026-11-22T00:00:00Z" minimumUpdatePeriod="PT2S" timeShiftBufferDepth="PT30S" minBufferTime="PT2S">
  <Period id="p0" start="PT0S">
    <AdaptationSet mimeType="video/mp4">
      <SegmentTemplate timescale="1" media="v-$Number$.m4s" startNumber="5">
        <SegmentTimeline><S t="8" d="2"/><S d="2"/></SegmentTimeline>
      </SegmentTemplate>
      <Representation id="v" bandwidth="1000"/>
    </AdaptationSet>
  </Period>
</MPD>
>>> html/dyn/v-5.m4s random:100 mtime:-60
>>> html/dyn/v-6.m4s random:100 mtime:-60
--- request
GET /dyn/live.mpd
--- check
import hints_verify
got = hints_verify.dash_hashes(r.text)[0]
nums = {dict(k)["n"]: v for k, v in got.items() if "n" in dict(k)}
assert nums == {"5": hints_verify.sha256sum(s.html + "/dyn/v-5.m4s"),
                "6": hints_verify.sha256sum(s.html + "/dyn/v-6.m4s")}, got

=== TEST 5: an MPD that is not well-formed XML is passed through unchanged
--- http_config
p2p_hints_cache_zone hints:1m;
--- config
location / { root $TEST_NGINX_HTML_DIR; p2p_hints on; }
--- files
>>> html/bad.mpd
<?xml version="1.0"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011"><Period><AdaptationSet></Period></MPD>
--- request
GET /bad.mpd
--- response_body
<?xml version="1.0"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011"><Period><AdaptationSet></Period></MPD>
--- error_log
served as is

=== TEST 6: ffprobe opens rewritten HLS and DASH made by ffmpeg; hashes equal sha256sum
--- http_config
p2p_hints_cache_zone hints:1m;
--- config
location / { root $TEST_NGINX_HTML_DIR; p2p_hints on; }
--- check
import hints_verify
hints_verify.make_hls_vod(s.html + "/ff/hls")
hints_verify.make_dash_vod(s.html + "/ff/dash")
base = "http://127.0.0.1:%d" % s.port
m = s.get("/ff/hls/index.m3u8")
assert "#EXT-P2P-SWARM:" in m.text
n = hints_verify.verify_hls(s, m.text, "ff/hls")
assert n >= 4, m.text
ok, err = hints_verify.ffprobe_ok(base + "/ff/hls/index.m3u8")
assert ok, err
d = s.get("/ff/dash/manifest.mpd")
reps = hints_verify.dash_hashes(d.text)
assert reps and len(reps[0]) >= 4, d.text
ok, err = hints_verify.ffprobe_ok(base + "/ff/dash/manifest.mpd")
assert ok, err
