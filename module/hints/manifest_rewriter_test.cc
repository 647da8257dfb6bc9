// Unit tests of the manifest rewriter: the hint format of README.md, byte-exact
// preservation of everything else, and bounded behaviour on hostile input.
#include "module/hints/manifest_rewriter.h"

#include <string>
#include <vector>

#include "common/hmac_sha256.h"
#include "third_party/cmocka.hpp"

namespace {

using p2p::manifest_kind;
using p2p::media_item;
using p2p::media_item_kind;
using p2p::rewrite_status;

// A deterministic stand-in for the glue's file hashing: the digest names the item, so
// a test can tell which hash landed where.
std::string item_key(const media_item& item) {
  std::string key = item.uri;
  if (item.range) {
    key += "|" + std::to_string(item.range->offset) + "+" + std::to_string(item.range->length);
  }
  return key;
}

p2p::sha256_digest digest_of(const std::string& key) { return p2p::sha256(key); }

std::string hex_of(const std::string& key) { return p2p::to_hex(digest_of(key)); }

p2p::hash_lookup all_hashes() {
  return [](const media_item& item) -> std::optional<p2p::sha256_digest> {
    return digest_of(item_key(item));
  };
}

p2p::session_hints sample_hints() {
  p2p::session_hints hints;
  hints.content_id = "movie-42";
  hints.customer_id = "acme";
  hints.swarm_base_id = "base0";
  hints.tracker_url = "https://edge.example/p2p/tracker";
  hints.signalling_url = "wss://edge.example/p2p/ws";
  hints.credential = "cr\"ed%;=<x>\r\n";
  hints.rendition_swarm_id = [](std::string_view key) { return "swarm-" + std::string(key); };
  return hints;
}

// Removes every line the rewriter adds to a media playlist.
std::string strip_hls_hints(const std::string& text) {
  std::string out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    size_t end = nl == std::string::npos ? text.size() : nl + 1;
    std::string line = text.substr(pos, end - pos);
    if (line.rfind("#EXT-P2P-", 0) != 0 &&
        line.rfind("#EXT-X-SESSION-DATA:DATA-ID=\"org.p2p.", 0) != 0) {
      out += line;
    }
    pos = end;
  }
  return out;
}

// Removes the elements the rewriter adds to an MPD (not the self-closing conversion).
std::string strip_dash_hints(std::string text) {
  for (;;) {
    size_t start = text.find("SupplementalProperty schemeIdUri=\"urn:p2p:");
    if (start == std::string::npos) break;
    start = text.rfind('<', start);
    size_t end = text.find("/>", start);
    text.erase(start, end + 2 - start);
  }
  for (;;) {
    size_t start = text.find("<p2p:SegmentHashes");
    if (start == std::string::npos) break;
    const std::string close = "</p2p:SegmentHashes>";
    size_t end = text.find(close, start);
    text.erase(start, end + close.size() - start);
  }
  return text;
}

size_t count_of(const std::string& text, const std::string& needle) {
  size_t count = 0;
  for (size_t pos = text.find(needle); pos != std::string::npos;
       pos = text.find(needle, pos + needle.size())) {
    ++count;
  }
  return count;
}

bool same_items(const std::vector<media_item>& a, const std::vector<media_item>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    const media_item& x = a[i];
    const media_item& y = b[i];
    if (x.uri != y.uri || x.kind != y.kind || x.index != y.index ||
        x.range.has_value() != y.range.has_value() ||
        (x.range && (x.range->offset != y.range->offset || x.range->length != y.range->length)) ||
        x.representation_id != y.representation_id || x.number != y.number || x.time != y.time ||
        x.list_position != y.list_position) {
      return false;
    }
  }
  return true;
}

// Rewrites, checks ok, and checks that the output lists the same items again (and
// reports itself as already hinted).
std::string rewrite_ok(const std::string& input, manifest_kind kind,
                       const p2p::manifest_options& options = {}) {
  assert_int_equal(p2p::detect_manifest_kind(input, "", ""), kind);
  p2p::rewrite_result result =
      p2p::rewrite_manifest(input, kind, sample_hints(), all_hashes(), options);
  if (result.status != rewrite_status::ok) fail_msg("rewrite failed: %s", result.reason.c_str());
  p2p::media_list_result before = p2p::list_media_items(input, kind, options);
  p2p::media_list_result after = p2p::list_media_items(result.output, kind, options);
  assert_int_equal(before.status, rewrite_status::ok);
  assert_int_equal(after.status, rewrite_status::already_hinted);
  assert_true(same_items(before.items, after.items));
  p2p::rewrite_result again =
      p2p::rewrite_manifest(result.output, kind, sample_hints(), all_hashes(), options);
  assert_int_equal(again.status, rewrite_status::already_hinted);
  assert_true(again.output.empty());
  return result.output;
}

// The hash line for `key` sits directly above `line`.
void assert_hash_before(const std::string& out, const std::string& key, const std::string& line) {
  std::string expected = "#EXT-P2P-SHA256:" + hex_of(key) + "\n" + line;
  if (out.find(expected) == std::string::npos) {
    fail_msg("no hash for %s before %s", key.c_str(), line.c_str());
  }
}

const char kLowLatencyPlaylist[] =
    "#EXTM3U\n"
    "#EXT-X-VERSION:9\n"
    "#EXT-X-INDEPENDENT-SEGMENTS\n"
    "#EXT-X-START:TIME-OFFSET=-6.0,PRECISE=YES\n"
    "#EXT-X-DEFINE:NAME=\"ext\",VALUE=\"mp4\"\n"
    "#EXT-X-TARGETDURATION:4\n"
    "#EXT-X-PLAYLIST-TYPE:EVENT\n"
    "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=3.0,CAN-SKIP-UNTIL=24\n"
    "#EXT-X-PART-INF:PART-TARGET=1.0\n"
    "#EXT-X-MEDIA-SEQUENCE:100\n"
    "#EXT-X-DISCONTINUITY-SEQUENCE:3\n"
    "#EXT-X-SKIP:SKIPPED-SEGMENTS=10\n"
    "# a comment line\n"
    "\n"
    "#EXT-X-KEY:METHOD=AES-128,URI=\"https://keys.example/"
    "k?id=1,2\",IV=0x0123456789abcdef0123456789abcdef\n"
    "#EXT-X-MAP:URI=\"init.mp4\",BYTERANGE=\"720@0\"\n"
    "#EXT-X-PROGRAM-DATE-TIME:2026-11-22T01:00:00.000Z\n"
    "#EXTINF:4.000,title, with comma\n"
    "#EXT-X-BITRATE:2000\n"
    "seg100.mp4\n"
    "#EXT-X-DISCONTINUITY\n"
    "#EXT-X-CUE-OUT:DURATION=30\n"
    "#EXT-X-GAP\n"
    "#EXTINF:4.000,\n"
    "seg101.mp4\n"
    "#EXT-X-PART:DURATION=1.0,URI=\"seg102.mp4\",BYTERANGE=\"1000@0\",INDEPENDENT=YES\n"
    "#EXT-X-PART:DURATION=1.0,URI=\"seg102.mp4\",BYTERANGE=\"1500\"\n"
    "#EXT-X-PART:DURATION=1.0,URI=\"part102.3.{$ext}\"\n"
    "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"part102.4.mp4\"\n"
    "#EXT-X-RENDITION-REPORT:URI=\"../720p/index.m3u8\",LAST-MSN=102,LAST-PART=3\n"
    "#EXT-X-DATERANGE:ID=\"ad\",START-DATE=\"2026-11-22T01:00:00Z\"\n";

void hls_media_keeps_every_tag_in_order(void**) {
  std::string input = kLowLatencyPlaylist;
  std::string out = rewrite_ok(input, manifest_kind::hls_media);
  assert_string_equal(strip_hls_hints(out).c_str(), input.c_str());
  assert_true(out.rfind("#EXTM3U\n#EXT-P2P-SWARM:swarm-\n#EXT-X-VERSION:9\n", 0) == 0);
  assert_hash_before(out, "init.mp4|0+720", "#EXT-X-MAP:");
  assert_hash_before(out, "seg100.mp4", "seg100.mp4\n");
  assert_hash_before(out, "seg101.mp4", "seg101.mp4\n");
  assert_hash_before(out, "seg102.mp4|0+1000",
                     "#EXT-X-PART:DURATION=1.0,URI=\"seg102.mp4\",BYTERANGE=\"1000@0\"");
  assert_hash_before(out, "seg102.mp4|1000+1500",
                     "#EXT-X-PART:DURATION=1.0,URI=\"seg102.mp4\",BYTERANGE=\"1500\"");
  assert_hash_before(out, "part102.3.mp4", "#EXT-X-PART:DURATION=1.0,URI=\"part102.3.{$ext}\"");
  assert_int_equal(count_of(out, "#EXT-P2P-SHA256:"), 6);
  // The segment hash goes after the segment's tags, right above the URI line.
  assert_true(out.find("#EXT-X-BITRATE:2000\n#EXT-P2P-SHA256:") != std::string::npos);
  // Nothing for the preload hint.
  assert_true(out.find("#EXT-P2P-SHA256:" + hex_of("part102.4.mp4")) == std::string::npos);
}

void hls_media_item_list(void**) {
  p2p::media_list_result list =
      p2p::list_media_items(kLowLatencyPlaylist, manifest_kind::hls_media);
  assert_int_equal(list.status, rewrite_status::ok);
  assert_int_equal(list.items.size(), 6);
  assert_int_equal(list.items[0].kind, media_item_kind::init);
  assert_int_equal(list.items[1].kind, media_item_kind::segment);
  assert_int_equal(list.items[3].kind, media_item_kind::part);
  assert_int_equal(list.items[4].range->offset, 1000);
  assert_int_equal(list.items[4].range->length, 1500);
  assert_false(list.items[5].range.has_value());
  for (size_t i = 0; i < list.items.size(); ++i) assert_int_equal(list.items[i].index, i);
}

void hls_aes_key_lines_untouched(void**) {
  std::string input =
      "#EXTM3U\n#EXT-X-TARGETDURATION:6\n"
      "#EXT-X-KEY:METHOD=AES-128,URI=\"key.bin?t=abc\",IV=0x000102030405060708090a0b0c0d0e0f,"
      "KEYFORMAT=\"identity\"\n"
      "#EXTINF:6,\nenc0.ts\n"
      "#EXT-X-KEY:METHOD=NONE\n"
      "#EXTINF:6,\nclear1.ts\n#EXT-X-ENDLIST\n";
  std::string out = rewrite_ok(input, manifest_kind::hls_media);
  assert_string_equal(strip_hls_hints(out).c_str(), input.c_str());
  assert_true(
      out.find(
          "#EXT-X-KEY:METHOD=AES-128,URI=\"key.bin?t=abc\",IV=0x000102030405060708090a0b0c0d0e0f,"
          "KEYFORMAT=\"identity\"\n#EXTINF:6,\n#EXT-P2P-SHA256:") != std::string::npos);
  assert_hash_before(out, "enc0.ts", "enc0.ts\n");
  assert_hash_before(out, "clear1.ts", "clear1.ts\n");
}

void hls_crlf_preserved(void**) {
  std::string input =
      "#EXTM3U\r\n#EXT-X-TARGETDURATION:6\r\n#EXTINF:6,\r\na.ts\r\n#EXTINF:6,\r\nb.ts";
  std::string out = rewrite_ok(input, manifest_kind::hls_media);
  assert_string_equal(
      out.c_str(), ("#EXTM3U\r\n#EXT-P2P-SWARM:swarm-\r\n#EXT-X-TARGETDURATION:6\r\n#EXTINF:6,\r\n"
                    "#EXT-P2P-SHA256:" +
                    hex_of("a.ts") +
                    "\r\na.ts\r\n#EXTINF:6,\r\n"
                    "#EXT-P2P-SHA256:" +
                    hex_of("b.ts") + "\r\nb.ts")
                       .c_str());
}

void hls_byte_ranges_with_implicit_offsets(void**) {
  std::string input =
      "#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXT-X-VERSION:4\n"
      "#EXTINF:6,\n#EXT-X-BYTERANGE:1000@500\nall.ts\n"
      "#EXTINF:6,\n#EXT-X-BYTERANGE:2000\nall.ts\n"
      "#EXT-X-BYTERANGE:300\n#EXTINF:6,\nall.ts\n"
      "#EXTINF:6,\n#EXT-X-BYTERANGE:10@0\nother.ts\n";
  p2p::media_list_result list = p2p::list_media_items(input, manifest_kind::hls_media);
  assert_int_equal(list.status, rewrite_status::ok);
  assert_int_equal(list.items.size(), 4);
  assert_int_equal(list.items[0].range->offset, 500);
  assert_int_equal(list.items[1].range->offset, 1500);
  assert_int_equal(list.items[1].range->length, 2000);
  assert_int_equal(list.items[2].range->offset, 3500);
  assert_int_equal(list.items[3].range->offset, 0);
  std::string out = rewrite_ok(input, manifest_kind::hls_media);
  assert_true(out.find("#EXT-X-BYTERANGE:2000\n#EXT-P2P-SHA256:" + hex_of("all.ts|1500+2000") +
                       "\nall.ts\n") != std::string::npos);

  // No offset and no previous range of the same resource: RFC 8216 violation.
  std::string bad =
      "#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXTINF:6,\n#EXT-X-BYTERANGE:10@0\na.ts\n"
      "#EXTINF:6,\n#EXT-X-BYTERANGE:10\nb.ts\n";
  assert_int_equal(p2p::list_media_items(bad, manifest_kind::hls_media).status,
                   rewrite_status::malformed);
}

void hls_variables(void**) {
  std::string input =
      "#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXT-X-DEFINE:NAME=\"base\",VALUE=\"https://a.example/"
      "x\"\n"
      "#EXT-X-MAP:URI=\"{$base}/init.mp4\",BYTERANGE=\"10@0\"\n#EXTINF:6,\n{$base}/s{$}.ts\n";
  p2p::media_list_result list = p2p::list_media_items(input, manifest_kind::hls_media);
  assert_int_equal(list.status, rewrite_status::ok);
  assert_string_equal(list.items[0].uri.c_str(), "https://a.example/x/init.mp4");
  assert_string_equal(list.items[1].uri.c_str(), "https://a.example/x/s{$}.ts");
  std::string out = rewrite_ok(input, manifest_kind::hls_media);
  assert_hash_before(out, "https://a.example/x/s{$}.ts", "{$base}/s{$}.ts\n");

  std::string external =
      "#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXT-X-DEFINE:QUERYPARAM=\"tok\"\n"
      "#EXTINF:6,\ns.ts?t={$tok}\n";
  assert_int_equal(p2p::list_media_items(external, manifest_kind::hls_media).status,
                   rewrite_status::unsupported);
  std::string undefined = "#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXTINF:6,\n{$nope}.ts\n";
  assert_int_equal(p2p::list_media_items(undefined, manifest_kind::hls_media).status,
                   rewrite_status::malformed);
}

void hls_missing_hash_means_no_tag(void**) {
  std::string input = "#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXTINF:6,\na.ts\n#EXTINF:6,\nlive.ts\n";
  p2p::hash_lookup only_a = [](const media_item& item) -> std::optional<p2p::sha256_digest> {
    if (item.uri == "a.ts") return digest_of("a.ts");
    return std::nullopt;
  };
  p2p::session_hints hints;  // no swarm function: no swarm tag
  p2p::rewrite_result result =
      p2p::rewrite_manifest(input, manifest_kind::hls_media, hints, only_a);
  assert_int_equal(result.status, rewrite_status::ok);
  assert_int_equal(result.hashes_written, 1);
  assert_string_equal(result.output.c_str(),
                      ("#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXTINF:6,\n#EXT-P2P-SHA256:" +
                       hex_of("a.ts") + "\na.ts\n#EXTINF:6,\nlive.ts\n")
                          .c_str());
}

void hls_master_session_data(void**) {
  std::string input =
      "#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-INDEPENDENT-SEGMENTS\n"
      "#EXT-X-SESSION-DATA:DATA-ID=\"com.example.title\",VALUE=\"A movie\"\n"
      "#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"aac\",NAME=\"en\",URI=\"audio/index.m3u8\"\n"
      "#EXT-X-SESSION-KEY:METHOD=SAMPLE-AES,URI=\"skd://"
      "k\",KEYFORMAT=\"com.apple.streamingkeydelivery\"\n"
      "#EXT-X-CONTENT-STEERING:SERVER-URI=\"/steer\"\n"
      "#EXT-X-STREAM-INF:BANDWIDTH=1280000,AUDIO=\"aac\"\nlow/index.m3u8\n"
      "#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=90000,URI=\"low/iframes.m3u8\"\n";
  std::string out = rewrite_ok(input, manifest_kind::hls_master);
  assert_string_equal(strip_hls_hints(out).c_str(), input.c_str());
  assert_string_equal(
      out.substr(0, out.find("#EXT-X-VERSION")).c_str(),
      "#EXTM3U\n"
      "#EXT-X-SESSION-DATA:DATA-ID=\"org.p2p.content-id\",VALUE=\"movie-42\"\n"
      "#EXT-X-SESSION-DATA:DATA-ID=\"org.p2p.customer-id\",VALUE=\"acme\"\n"
      "#EXT-X-SESSION-DATA:DATA-ID=\"org.p2p.swarm\",VALUE=\"base0\"\n"
      "#EXT-X-SESSION-DATA:DATA-ID=\"org.p2p.tracker\",VALUE=\"https://edge.example/p2p/tracker\"\n"
      "#EXT-X-SESSION-DATA:DATA-ID=\"org.p2p.signalling\",VALUE=\"wss://edge.example/p2p/ws\"\n"
      "#EXT-X-SESSION-DATA:DATA-ID=\"org.p2p.credential\",VALUE=\"cr%22ed%25;=<x>%0D%0A\"\n");
  assert_int_equal(p2p::list_media_items(input, manifest_kind::hls_master).items.size(), 0);
}

void hls_master_already_hinted(void**) {
  std::string input =
      "#EXTM3U\n#EXT-X-SESSION-DATA:DATA-ID=\"org.p2p.content-id\",VALUE=\"x\"\n"
      "#EXT-X-STREAM-INF:BANDWIDTH=1\nlow.m3u8\n";
  p2p::rewrite_result result =
      p2p::rewrite_manifest(input, manifest_kind::hls_master, sample_hints(), all_hashes());
  assert_int_equal(result.status, rewrite_status::already_hinted);
  assert_true(result.output.empty());
}

void hls_malformed_inputs(void**) {
  const std::string cases[] = {
      "",
      "#EXTM3X\n#EXTINF:1,\na.ts\n",
      std::string("#EXTM3U\n#EXTINF:1,\na\0b.ts\n", 24),
      "#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXT-X-MAP:URI=init.mp4\n",
      "#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXT-X-PART:DURATION=1,URI=\"a.mp4\",BYTERANGE=\"x\"\n",
      "#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXT-X-BYTERANGE:99999999999999999999999\n#EXTINF:1,\na."
      "ts\n",
      "#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXT-X-BYTERANGE:10@18446744073709551615\n#EXTINF:1,\na."
      "ts\n",
      "#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXTINF:1,\n#EXT-X-BYTERANGE:10@0\n",
      "#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXT-X-STREAM-INF:BANDWIDTH=1\na.m3u8\n",
  };
  for (const std::string& input : cases) {
    p2p::rewrite_result result =
        p2p::rewrite_manifest(input, manifest_kind::hls_media, sample_hints(), all_hashes());
    assert_int_equal(result.status, rewrite_status::malformed);
    assert_true(result.output.empty());
    assert_false(result.reason.empty());
  }
}

void hls_caps(void**) {
  p2p::manifest_options options;
  std::string long_line =
      "#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXTINF:1,\n" + std::string(1 << 20, 'a') + "\n";
  assert_int_equal(p2p::rewrite_manifest(long_line, manifest_kind::hls_media, sample_hints(),
                                         all_hashes(), options)
                       .status,
                   rewrite_status::too_large);
  options.max_manifest_bytes = 100;
  assert_int_equal(
      p2p::list_media_items(kLowLatencyPlaylist, manifest_kind::hls_media, options).status,
      rewrite_status::too_large);
  options = {};
  options.max_items = 3;
  assert_int_equal(
      p2p::list_media_items(kLowLatencyPlaylist, manifest_kind::hls_media, options).status,
      rewrite_status::too_large);
  // Binary garbage never crashes and never yields output.
  std::string garbage = "#EXTM3U\n";
  for (int i = 0; i < 4096; ++i) garbage.push_back(static_cast<char>((i * 7919) % 251 + 1));
  p2p::rewrite_result result =
      p2p::rewrite_manifest(garbage, manifest_kind::hls_media, sample_hints(), all_hashes());
  assert_true(result.status == rewrite_status::ok || result.output.empty());
}

void detects_kinds(void**) {
  assert_int_equal(
      p2p::detect_manifest_kind(kLowLatencyPlaylist, "application/vnd.apple.mpegurl", "/a.m3u8"),
      manifest_kind::hls_media);
  assert_int_equal(
      p2p::detect_manifest_kind("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\na.m3u8\n", "", ""),
      manifest_kind::hls_master);
  assert_int_equal(p2p::detect_manifest_kind("<?xml version=\"1.0\"?>\n<!-- c -->\n<mpd:MPD "
                                             "xmlns:mpd=\"urn:mpeg:dash:schema:mpd:2011\"/>",
                                             "", ""),
                   manifest_kind::dash_mpd);
  assert_int_equal(
      p2p::detect_manifest_kind("<html><body/></html>", "application/dash+xml", "/a.mpd"),
      manifest_kind::unknown);
  assert_int_equal(p2p::detect_manifest_kind("", "", "/a.m3u8"), manifest_kind::unknown);
  std::string with_bom = "\xEF\xBB\xBF<MPD xmlns=\"urn:mpeg:dash:schema:mpd:2011\"/>";
  assert_int_equal(p2p::detect_manifest_kind(with_bom, "", ""), manifest_kind::dash_mpd);
  assert_int_equal(p2p::list_media_items(with_bom, manifest_kind::dash_mpd).status,
                   rewrite_status::ok);
  assert_string_equal(p2p::manifest_kind_name(manifest_kind::dash_mpd), "DASH MPD");
  assert_int_equal(p2p::detect_manifest_kind("#EXTM3U\n", "", ""), manifest_kind::unknown);
}

void swarm_id_vectors(void**) {
  assert_string_equal(p2p::swarm_id("acme", "/live/channel1/index.m3u8", "").c_str(),
                      "OpdN_USUQpyPDoktMYjE9Q");
  assert_string_equal(p2p::swarm_id("acme", "/vod/movie.mpd", "video-1080p").c_str(),
                      "fL0k5bZOzurofoJ7Myc-7g");
  assert_string_equal(p2p::swarm_id("", "", "").c_str(), "daEdpEyAJIa8b2VkCqSKcw");
  std::string id = p2p::swarm_id("c", "/p", "r");
  assert_int_equal(id.size(), 22);
  for (char c : id) {
    assert_true((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '-' || c == '_');
  }
}

void swarm_paths_and_token_stripping(void**) {
  std::vector<std::string> tokens = {"token", "st", "e"};
  assert_string_equal(p2p::swarm_path("/live/a/index.m3u8?token=x&q=1#f", tokens).c_str(),
                      "/live/a/index.m3u8");
  assert_string_equal(p2p::swarm_path("/st=abc/live/e=99/index.m3u8", tokens).c_str(),
                      "/live/index.m3u8");
  assert_string_equal(p2p::swarm_path("/live;token=abc;v=2/index.m3u8", tokens).c_str(),
                      "/live;v=2/index.m3u8");
  assert_string_equal(p2p::strip_token_params("/a.m3u8?x=1&token=2&st=3&y#frag", tokens).c_str(),
                      "/a.m3u8?x=1&y#frag");
  assert_string_equal(p2p::strip_token_params("/a.m3u8?token=2", tokens).c_str(), "/a.m3u8");
  assert_string_equal(p2p::strip_token_params("/a.m3u8", tokens).c_str(), "/a.m3u8");
}

// ---- DASH ----

const char kSegmentListMpd[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<!-- produced by a packager -->\n"
    "<MPD xmlns=\"urn:mpeg:dash:schema:mpd:2011\" type=\"static\" "
    "mediaPresentationDuration=\"PT8S\" "
    "minBufferTime=\"PT2S\" profiles='urn:mpeg:dash:profile:full:2011'>\n"
    "  <BaseURL>http://cdn.example/vod/</BaseURL>\n"
    "  <Period id=\"p0\">\n"
    "    <BaseURL>movie/</BaseURL>\n"
    "    <AdaptationSet mimeType=\"video/mp4\">\n"
    "      <ContentProtection schemeIdUri=\"urn:mpeg:dash:mp4protection:2011\" value=\"cenc\"/>\n"
    "      <Role schemeIdUri=\"urn:mpeg:dash:role:2011\" value=\"main\"/>\n"
    "      <Representation id=\"v1\" bandwidth=\"500000\">\n"
    "        <BaseURL><![CDATA[v1/]]></BaseURL>\n"
    "        <SegmentList duration=\"4\">\n"
    "          <Initialization sourceURL=\"init.mp4\" range=\"0-699\"/>\n"
    "          <SegmentURL media=\"s&amp;1.m4s\"/>\n"
    "          <SegmentURL media=\"all.m4s\" mediaRange='100-199'/>\n"
    "        </SegmentList>\n"
    "      </Representation>\n"
    "    </AdaptationSet>\n"
    "  </Period>\n"
    "</MPD>\n";

void dash_segment_list(void**) {
  p2p::media_list_result list = p2p::list_media_items(kSegmentListMpd, manifest_kind::dash_mpd);
  assert_int_equal(list.status, rewrite_status::ok);
  assert_int_equal(list.items.size(), 3);
  assert_string_equal(list.items[0].uri.c_str(), "http://cdn.example/vod/movie/v1/init.mp4");
  assert_int_equal(list.items[0].kind, media_item_kind::init);
  assert_int_equal(list.items[0].range->length, 700);
  assert_string_equal(list.items[1].uri.c_str(), "http://cdn.example/vod/movie/v1/s&1.m4s");
  assert_int_equal(*list.items[1].list_position, 0);
  assert_int_equal(list.items[2].range->offset, 100);
  assert_int_equal(list.items[2].range->length, 100);
  assert_int_equal(*list.items[2].list_position, 1);
  assert_string_equal(list.items[2].representation_id.c_str(), "v1");

  std::string out = rewrite_ok(kSegmentListMpd, manifest_kind::dash_mpd);
  assert_string_equal(strip_dash_hints(out).c_str(), kSegmentListMpd);
  // Session property after ContentProtection, before Role (schema order).
  assert_true(
      out.find("value=\"cenc\"/><SupplementalProperty schemeIdUri=\"urn:p2p:session:2026\" "
               "value=\"content-id=movie-42;customer-id=acme;"
               "tracker=https://edge.example/p2p/tracker;signalling=wss://edge.example/p2p/ws;"
               "credential=cr%22ed%25%3B%3D%3Cx%3E%0D%0A\"/>\n      <Role") != std::string::npos);
  // Swarm property right after the start tag; hashes before BaseURL.
  assert_true(out.find("<Representation id=\"v1\" bandwidth=\"500000\"><SupplementalProperty "
                       "schemeIdUri=\"urn:p2p:swarm:2026\" value=\"swarm-v1\"/>\n        "
                       "<p2p:SegmentHashes xmlns:p2p=\"urn:p2p:2026\"><p2p:H init=\"1\" sha256=\"" +
                       hex_of("http://cdn.example/vod/movie/v1/init.mp4|0+700") +
                       "\"/><p2p:H i=\"0\" sha256=\"") != std::string::npos);
  assert_true(out.find("<p2p:H i=\"1\" sha256=\"" +
                       hex_of("http://cdn.example/vod/movie/v1/all.m4s|100+100") +
                       "\"/></p2p:SegmentHashes><BaseURL>") != std::string::npos);
}

const char kTemplateMpd[] =
    "<MPD xmlns=\"urn:mpeg:dash:schema:mpd:2011\" type=\"static\" "
    "mediaPresentationDuration=\"PT1M0.5S\" "
    "minBufferTime=\"PT2S\" profiles=\"urn:mpeg:dash:profile:isoff-live:2011\">"
    "<Period start=\"PT0S\">"
    "<AdaptationSet>"
    "<SegmentTemplate timescale=\"1000\" duration=\"6000\" startNumber=\"5\" "
    "initialization=\"$RepresentationID$/init.mp4\" "
    "media=\"$RepresentationID$/$Bandwidth$/seg-$Number%05d$.m4s\"/>"
    "<Representation id=\"a\" bandwidth=\"100\"/>"
    "<Representation id=\"b\" bandwidth=\"200\"></Representation>"
    "</AdaptationSet>"
    "</Period>"
    "</MPD>";

void dash_template_number_static(void**) {
  p2p::media_list_result list = p2p::list_media_items(kTemplateMpd, manifest_kind::dash_mpd);
  assert_int_equal(list.status, rewrite_status::ok);
  // ceil(60.5 s / 6 s) = 11 segments + init, per Representation.
  assert_int_equal(list.items.size(), 24);
  assert_string_equal(list.items[0].uri.c_str(), "a/init.mp4");
  assert_string_equal(list.items[1].uri.c_str(), "a/100/seg-00005.m4s");
  assert_int_equal(*list.items[1].number, 5);
  assert_false(list.items[1].time.has_value());
  assert_string_equal(list.items[11].uri.c_str(), "a/100/seg-00015.m4s");
  assert_string_equal(list.items[13].uri.c_str(), "b/200/seg-00005.m4s");
  assert_string_equal(list.items[13].representation_id.c_str(), "b");

  std::string out = rewrite_ok(kTemplateMpd, manifest_kind::dash_mpd);
  // The self-closing Representation became an open/close pair.
  assert_true(out.find("<Representation id=\"a\" bandwidth=\"100\"><SupplementalProperty "
                       "schemeIdUri=\"urn:p2p:swarm:2026\" "
                       "value=\"swarm-a\"/><p2p:SegmentHashes xmlns:p2p=\"urn:p2p:2026\"><p2p:H "
                       "init=\"1\" sha256=\"" +
                       hex_of("a/init.mp4") + "\"/><p2p:H n=\"5\" sha256=\"" +
                       hex_of("a/100/seg-00005.m4s") + "\"/>") != std::string::npos);
  assert_true(out.find("</p2p:SegmentHashes></Representation><Representation id=\"b\"") !=
              std::string::npos);
  assert_true(out.find("<p2p:H n=\"15\" sha256=\"" + hex_of("b/200/seg-00015.m4s") +
                       "\"/></p2p:SegmentHashes></Representation></AdaptationSet>") !=
              std::string::npos);
  assert_int_equal(count_of(out, "urn:p2p:session:2026"), 1);
}

const char kTimelineMpd[] =
    "<?xml version='1.0'?>"
    "<mpd:MPD xmlns:mpd=\"urn:mpeg:dash:schema:mpd:2011\" xmlns:scte35=\"urn:scte:scte35:2014\" "
    "type=\"static\" "
    "mediaPresentationDuration=\"PT20S\" minBufferTime=\"PT2S\" profiles=\"x\">"
    "<mpd:Period id=\"1\" duration=\"PT20S\">"
    "<mpd:BaseURL>https://origin.example/live/</mpd:BaseURL>"
    "<mpd:AdaptationSet contentType=\"video\">"
    "<mpd:SegmentTemplate timescale=\"90000\" presentationTimeOffset=\"900000\" "
    "media=\"t$Time$-n$Number$.m4s\" "
    "initialization=\"i-$RepresentationID$.mp4\">"
    "<mpd:SegmentTimeline>"
    "<mpd:S t=\"900000\" d=\"180000\" r=\"2\"/>"
    "<!-- a gap -->"
    "<mpd:S t=\"1500000\" d=\"90000\" r=\"-1\"/>"
    "<mpd:S t=\"1800000\" d=\"180000\" r=\"-1\"/>"
    "</mpd:SegmentTimeline>"
    "</mpd:SegmentTemplate>"
    "<mpd:Representation id=\"v&amp;1\" bandwidth=\"1\"><scte35:Marker/></mpd:Representation>"
    "</mpd:AdaptationSet>"
    "</mpd:Period>"
    "</mpd:MPD>";

void dash_segment_timeline(void**) {
  p2p::media_list_result list = p2p::list_media_items(kTimelineMpd, manifest_kind::dash_mpd);
  if (list.status != rewrite_status::ok) fail_msg("%s", list.reason.c_str());
  // init + 3 (r=2) + 3 (r=-1 up to t=1800000) + 7 (r=-1 to the period end:
  // 900000 + 20 s * 90000 = 2700000, (2700000 - 1800000) / 180000 = 5) -> 1 + 3 + 4 + 5.
  std::vector<uint64_t> times = {900000,  1080000, 1260000, 1500000, 1590000, 1680000,
                                 1770000, 1800000, 1980000, 2160000, 2340000, 2520000};
  assert_int_equal(list.items.size(), 1 + times.size());
  assert_string_equal(list.items[0].uri.c_str(), "https://origin.example/live/i-v&1.mp4");
  for (size_t i = 0; i < times.size(); ++i) {
    const media_item& item = list.items[i + 1];
    assert_int_equal(*item.time, times[i]);
    assert_int_equal(*item.number, i + 1);
    std::string uri = "https://origin.example/live/t" + std::to_string(times[i]) + "-n" +
                      std::to_string(i + 1) + ".m4s";
    assert_string_equal(item.uri.c_str(), uri.c_str());
  }
  std::string out = rewrite_ok(kTimelineMpd, manifest_kind::dash_mpd);
  assert_string_equal(strip_dash_hints(out).c_str(), kTimelineMpd);
  // Prefixed like the enclosing DASH elements; hashes after the foreign element.
  assert_true(out.find("<mpd:AdaptationSet contentType=\"video\"><mpd:SupplementalProperty "
                       "schemeIdUri=\"urn:p2p:session:2026\"") != std::string::npos);
  assert_true(
      out.find("<mpd:Representation id=\"v&amp;1\" bandwidth=\"1\"><mpd:SupplementalProperty "
               "schemeIdUri=\"urn:p2p:swarm:2026\" value=\"swarm-v%261\"/><scte35:Marker/>"
               "<p2p:SegmentHashes") != std::string::npos);
  assert_true(out.find("<p2p:H n=\"2\" t=\"1080000\" sha256=\"") != std::string::npos);
}

void dash_schema_order_and_prefixed_self_closing(void**) {
  std::string mpd =
      "<m:MPD xmlns:m=\"urn:mpeg:dash:schema:mpd:2011\" mediaPresentationDuration=\"PT4S\">"
      "<m:Period><m:AdaptationSet><m:SegmentTemplate media=\"$Number$.m4s\" duration=\"4\"/>"
      "<m:Representation id=\"a\" bandwidth=\"1\">"
      "<m:ContentProtection schemeIdUri=\"x\"><cenc:pssh "
      "xmlns:cenc=\"urn:mpeg:cenc:2013\">AA==</cenc:pssh>"
      "</m:ContentProtection><m:EssentialProperty schemeIdUri=\"y\"/>"
      "<m:InbandEventStream schemeIdUri=\"z\"/><m:BaseURL>a/</m:BaseURL></m:Representation>"
      "<m:Representation id=\"b\" bandwidth=\"1\" />"
      "</m:AdaptationSet></m:Period></m:MPD>";
  std::string out = rewrite_ok(mpd, manifest_kind::dash_mpd);
  assert_true(out.find("<m:EssentialProperty schemeIdUri=\"y\"/><m:SupplementalProperty "
                       "schemeIdUri=\"urn:p2p:swarm:2026\" value=\"swarm-a\"/><m:InbandEventStream "
                       "schemeIdUri=\"z\"/><p2p:SegmentHashes xmlns:p2p=\"urn:p2p:2026\"><p2p:H "
                       "n=\"1\" sha256=\"" +
                       hex_of("a/1.m4s") + "\"/></p2p:SegmentHashes><m:BaseURL>") !=
              std::string::npos);
  assert_true(out.find("<m:Representation id=\"b\" bandwidth=\"1\" ><m:SupplementalProperty "
                       "schemeIdUri=\"urn:p2p:swarm:2026\" value=\"swarm-b\"/><p2p:SegmentHashes "
                       "xmlns:p2p=\"urn:p2p:2026\"><p2p:H n=\"1\" sha256=\"" +
                       hex_of("1.m4s") + "\"/></p2p:SegmentHashes></m:Representation>") !=
              std::string::npos);
}

void dash_multi_period_durations(void**) {
  std::string mpd =
      "<MPD xmlns=\"urn:mpeg:dash:schema:mpd:2011\" type=\"static\" "
      "mediaPresentationDuration=\"PT30S\">"
      "<Period id=\"1\"><AdaptationSet><SegmentTemplate media=\"p1-$Number$.m4s\" duration=\"2\"/>"
      "<Representation id=\"r\" bandwidth=\"1\"/></AdaptationSet></Period>"
      "<Period id=\"2\" start=\"PT10S\"><AdaptationSet><SegmentTemplate media=\"p2-$Time$.m4s\" "
      "timescale=\"10\"><SegmentTimeline><S t=\"0\" d=\"20\" r=\"1\"/><S n=\"100\" d=\"30\" "
      "r=\"-1\"/>"
      "</SegmentTimeline></SegmentTemplate>"
      "<Representation id=\"r\" bandwidth=\"1\"/></AdaptationSet></Period></MPD>";
  p2p::media_list_result list = p2p::list_media_items(mpd, manifest_kind::dash_mpd);
  assert_int_equal(list.status, rewrite_status::ok);
  // Period 1 lasts until Period 2 starts: 10 s / 2 s = 5 segments. Period 2 lasts
  // 20 s = 200 ticks: 2 x 20, then 160 / 30 -> 6 more numbered from S@n = 100.
  assert_int_equal(list.items.size(), 5 + 2 + 6);
  assert_string_equal(list.items[4].uri.c_str(), "p1-5.m4s");
  assert_string_equal(list.items[6].uri.c_str(), "p2-20.m4s");
  assert_int_equal(*list.items[7].number, 100);
  assert_int_equal(*list.items[7].time, 40);
  assert_int_equal(*list.items[12].number, 105);
  assert_string_equal(list.items[12].uri.c_str(), "p2-190.m4s");
  std::string out = rewrite_ok(mpd, manifest_kind::dash_mpd);
  assert_int_equal(count_of(out, "urn:p2p:session:2026"), 2);
  assert_int_equal(count_of(out, "<p2p:H "), 13);
}

void dash_dynamic_template_uses_clock(void**) {
  std::string mpd =
      "<MPD xmlns=\"urn:mpeg:dash:schema:mpd:2011\" type=\"dynamic\" "
      "availabilityStartTime=\"2026-11-22T00:00:00Z\" "
      "timeShiftBufferDepth=\"PT30S\" minBufferTime=\"PT2S\" profiles=\"x\">"
      "<Period start=\"PT0S\"><AdaptationSet>"
      "<SegmentTemplate timescale=\"1\" duration=\"10\" startNumber=\"1\" media=\"$Number$.m4s\"/>"
      "<Representation id=\"r\" bandwidth=\"1\"/></AdaptationSet></Period></MPD>";
  // Without a clock nothing can be listed.
  p2p::media_list_result list = p2p::list_media_items(mpd, manifest_kind::dash_mpd);
  assert_int_equal(list.status, rewrite_status::ok);
  assert_int_equal(list.items.size(), 0);
  p2p::manifest_options options;
  options.now_unix_ms = 1795305600000LL + 125000;  // 2026-11-22T00:02:05Z: 12 segments done
  list = p2p::list_media_items(mpd, manifest_kind::dash_mpd, options);
  assert_int_equal(list.status, rewrite_status::ok);
  // Window of 30 s ending at 125 s: segments ending at or after 95 s, i.e. indices 9..11.
  assert_int_equal(list.items.size(), 3);
  assert_int_equal(*list.items[0].number, 10);
  assert_int_equal(*list.items[2].number, 12);
  assert_string_equal(list.items[2].uri.c_str(), "12.m4s");
}

void dash_base_url_nesting(void**) {
  std::string mpd =
      "<MPD xmlns='urn:mpeg:dash:schema:mpd:2011' mediaPresentationDuration='PT4S' profiles='x' "
      "minBufferTime='PT1S'>"
      "<BaseURL>https://a.example/root/index.mpd?x=1</BaseURL>"
      "<Period><BaseURL>/abs/</BaseURL><AdaptationSet><BaseURL>set/</BaseURL>"
      "<Representation id='r' bandwidth='1'><BaseURL>  rep/  </BaseURL><BaseURL>ignored/</BaseURL>"
      "<SegmentTemplate media='$Number$.m4s' duration='4'/></Representation>"
      "<Representation id='q' bandwidth='1'><BaseURL>https://b.example/q/</BaseURL>"
      "<SegmentTemplate media='../$Number$.m4s' duration='4'/></Representation>"
      "</AdaptationSet></Period></MPD>";
  p2p::media_list_result list = p2p::list_media_items(mpd, manifest_kind::dash_mpd);
  assert_int_equal(list.status, rewrite_status::ok);
  assert_int_equal(list.items.size(), 2);
  assert_string_equal(list.items[0].uri.c_str(), "https://a.example/abs/set/rep/1.m4s");
  assert_string_equal(list.items[1].uri.c_str(), "https://b.example/q/../1.m4s");
  rewrite_ok(mpd, manifest_kind::dash_mpd);

  // Reference resolution corner cases (RFC 3986 5.2), through one BaseURL each.
  const std::pair<const char*, const char*> cases[] = {
      {"http://h", "http://h/1.m4s"},
      {"http://h/a/b?q=1#f", "http://h/a/1.m4s"},
      {"http:./a//b", "http:./a//1.m4s"},
      {"urn:x", "urn:1.m4s"},
      {"//cdn.example/v/", "//cdn.example/v/1.m4s"},
      {"v/w", "v/1.m4s"},
      // A last segment "." or ".." is a directory (the client resolves "a/b/.." to "a/").
      {"http://cdn.example/a/b/..", "http://cdn.example/a/b/../1.m4s"},
      {"http://cdn.example/a/.", "http://cdn.example/a/./1.m4s"},
      {"..", "../1.m4s"},
      {"v/..?q#f", "v/../1.m4s"},
      {"http:..", "http:../1.m4s"},
  };
  for (const auto& [base_url, expected] : cases) {
    std::string doc = std::string("<MPD mediaPresentationDuration='PT4S'><BaseURL>") + base_url +
                      "</BaseURL><Period><AdaptationSet><Representation id='r' bandwidth='1'>"
                      "<SegmentTemplate media='$Number$.m4s' duration='4'/></Representation>"
                      "</AdaptationSet></Period></MPD>";
    p2p::media_list_result one = p2p::list_media_items(doc, manifest_kind::dash_mpd);
    assert_int_equal(one.status, rewrite_status::ok);
    assert_int_equal(one.items.size(), 1);
    assert_string_equal(one.items[0].uri.c_str(), expected);
  }
}

void dash_already_hinted(void**) {
  std::string mpd =
      "<MPD xmlns=\"urn:mpeg:dash:schema:mpd:2011\" profiles=\"x\" "
      "minBufferTime=\"PT1S\"><Period><AdaptationSet>"
      "<SupplementalProperty schemeIdUri=\"urn:p2p:session:2026\" value=\"a=b\"/>"
      "<Representation id=\"r\" bandwidth=\"1\"/></AdaptationSet></Period></MPD>";
  assert_int_equal(
      p2p::rewrite_manifest(mpd, manifest_kind::dash_mpd, sample_hints(), all_hashes()).status,
      rewrite_status::already_hinted);
}

void dash_hostile_inputs(void**) {
  std::string deep = "<MPD xmlns=\"urn:mpeg:dash:schema:mpd:2011\">";
  for (int i = 0; i < 10000; ++i) deep += "<a>";
  struct hostile {
    std::string input;
    rewrite_status expected;
  };
  const std::string head =
      "<MPD xmlns=\"urn:mpeg:dash:schema:mpd:2011\" type=\"static\" "
      "mediaPresentationDuration=\"PT10S\">"
      "<Period><AdaptationSet>";
  const hostile cases[] = {
      {"<MPD xmlns=\"urn:mpeg:dash:schema:mpd:2011\"><Period>", rewrite_status::malformed},
      {"<MPD><!-- unterminated", rewrite_status::malformed},
      {"<MPD><![CDATA[x]]></MPD>", rewrite_status::ok},
      {"<MPD><Period></MPD>", rewrite_status::malformed},
      {"<MPD a=\"1\" a=\"2\"/>", rewrite_status::malformed},
      {"<MPD a=1/>", rewrite_status::malformed},
      {"<MPD a=\"&bogus;\"/>", rewrite_status::malformed},
      {"<MPD a=\"&#0;\"/>", rewrite_status::malformed},
      {"<MPD/><MPD/>", rewrite_status::malformed},
      {"<html/>", rewrite_status::malformed},
      {"<x:MPD/>", rewrite_status::malformed},
      {"<MPD :id=\"1\"/>", rewrite_status::malformed},
      {"<:MPD/>", rewrite_status::malformed},
      {"<MPD a:b:c=\"1\"/>", rewrite_status::malformed},
      {"<!DOCTYPE MPD [<!ENTITY a \"aaaa\">]><MPD/>", rewrite_status::unsupported},
      {"<MPD mediaPresentationDuration=\"P1Y\"/>", rewrite_status::unsupported},
      {std::string("<MPD>\0</MPD>", 12), rewrite_status::malformed},
      {deep, rewrite_status::too_large},
      {head + "<SegmentTemplate media=\"$Number$\"><SegmentTimeline><S d=\"1\" "
              "r=\"9223372036854775807\"/>"
              "</SegmentTimeline></SegmentTemplate><Representation id=\"r\" "
              "bandwidth=\"1\"/></AdaptationSet></Period></MPD>",
       rewrite_status::too_large},
      {head + "<SegmentTemplate media=\"$Number$\"><SegmentTimeline><S d=\"1\" r=\"-1\"/>"
              "</SegmentTimeline></SegmentTemplate><Representation id=\"r\" "
              "bandwidth=\"1\"/></AdaptationSet></Period></MPD>",
       rewrite_status::ok},  // 10 s at timescale 1: 10 items
      {"<MPD xmlns=\"urn:mpeg:dash:schema:mpd:2011\" type=\"static\" "
       "mediaPresentationDuration=\"P99999999999DT1S\">"
       "<Period><AdaptationSet><SegmentTemplate media=\"$Number$\" duration=\"1\" "
       "timescale=\"1000000\"/>"
       "<Representation id=\"r\" bandwidth=\"1\"/></AdaptationSet></Period></MPD>",
       rewrite_status::too_large},
      {head + "<SegmentTemplate media=\"$Number$/$Foo$\" duration=\"1\"/><Representation id=\"r\" "
              "bandwidth=\"1\"/>"
              "</AdaptationSet></Period></MPD>",
       rewrite_status::malformed},
      {head + "<SegmentTemplate media=\"$Number$/$SubNumber$\" duration=\"1\"/><Representation "
              "id=\"r\" bandwidth=\"1\"/>"
              "</AdaptationSet></Period></MPD>",
       rewrite_status::unsupported},
      {head + "<SegmentTemplate media=\"$Number%099999d$\" duration=\"1\"/><Representation "
              "id=\"r\" bandwidth=\"1\"/>"
              "</AdaptationSet></Period></MPD>",
       rewrite_status::malformed},
  };
  for (const hostile& c : cases) {
    p2p::rewrite_result result =
        p2p::rewrite_manifest(c.input, manifest_kind::dash_mpd, sample_hints(), all_hashes());
    if (result.status != c.expected) {
      fail_msg("status %s (%s) for %.80s", p2p::rewrite_status_name(result.status),
               result.reason.c_str(), c.input.c_str());
    }
    if (result.status != rewrite_status::ok) assert_true(result.output.empty());
  }
  // 1 MB single attribute / text run.
  std::string huge = "<MPD a=\"" + std::string(1 << 20, 'x') + "\"/>";
  assert_int_equal(p2p::list_media_items(huge, manifest_kind::dash_mpd).status,
                   rewrite_status::too_large);
}

void dash_output_size_is_exact_and_writes_once(void**) {
  // Many Representations and segments: output grows by exactly the inserted text.
  std::string mpd =
      "<MPD xmlns=\"urn:mpeg:dash:schema:mpd:2011\" type=\"static\" "
      "mediaPresentationDuration=\"PT2000S\">"
      "<Period><AdaptationSet><SegmentTemplate media=\"$RepresentationID$-$Number$.m4s\" "
      "duration=\"2\"/>";
  for (int i = 0; i < 5; ++i) {
    mpd += "<Representation id=\"r" + std::to_string(i) + "\" bandwidth=\"1\"/>";
  }
  mpd += "</AdaptationSet></Period></MPD>";
  p2p::rewrite_result result =
      p2p::rewrite_manifest(mpd, manifest_kind::dash_mpd, sample_hints(), all_hashes());
  assert_int_equal(result.status, rewrite_status::ok);
  assert_int_equal(result.hashes_written, 5000);
  assert_int_equal(count_of(result.output, "<p2p:H "), 5000);
}

void prepared_manifest_parses_once(void**) {
  p2p::prepared_manifest prepared =
      p2p::prepare_manifest(kLowLatencyPlaylist, manifest_kind::hls_media);
  assert_int_equal(prepared.status, rewrite_status::ok);
  p2p::media_list_result list =
      p2p::list_media_items(kLowLatencyPlaylist, manifest_kind::hls_media);
  assert_true(same_items(prepared.items(), list.items));
  p2p::rewrite_result once =
      p2p::rewrite_prepared(prepared, kLowLatencyPlaylist, sample_hints(), all_hashes());
  p2p::rewrite_result direct = p2p::rewrite_manifest(kLowLatencyPlaylist, manifest_kind::hls_media,
                                                     sample_hints(), all_hashes());
  assert_int_equal(once.status, rewrite_status::ok);
  assert_string_equal(once.output.c_str(), direct.output.c_str());
  // Again, with no hashes this time: starts from the prepared state.
  p2p::rewrite_result none =
      p2p::rewrite_prepared(prepared, kLowLatencyPlaylist, sample_hints(), nullptr);
  assert_int_equal(none.status, rewrite_status::ok);
  assert_int_equal(none.hashes_written, 0);
  assert_int_equal(count_of(none.output, "#EXT-P2P-SHA256"), 0);

  p2p::prepared_manifest broken = p2p::prepare_manifest("#EXTM3X\n", manifest_kind::hls_media);
  assert_int_equal(broken.status, rewrite_status::malformed);
  assert_int_equal(broken.items().size(), 0);
  assert_int_equal(p2p::rewrite_prepared(broken, "#EXTM3X\n", sample_hints(), all_hashes()).status,
                   rewrite_status::malformed);
  p2p::prepared_manifest empty;
  assert_int_equal(p2p::rewrite_prepared(empty, "", sample_hints(), all_hashes()).status,
                   rewrite_status::malformed);
}

}  // namespace

int main() {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(hls_media_keeps_every_tag_in_order),
      cmocka_unit_test(hls_media_item_list),
      cmocka_unit_test(hls_aes_key_lines_untouched),
      cmocka_unit_test(hls_crlf_preserved),
      cmocka_unit_test(hls_byte_ranges_with_implicit_offsets),
      cmocka_unit_test(hls_variables),
      cmocka_unit_test(hls_missing_hash_means_no_tag),
      cmocka_unit_test(hls_master_session_data),
      cmocka_unit_test(hls_master_already_hinted),
      cmocka_unit_test(hls_malformed_inputs),
      cmocka_unit_test(hls_caps),
      cmocka_unit_test(detects_kinds),
      cmocka_unit_test(swarm_id_vectors),
      cmocka_unit_test(swarm_paths_and_token_stripping),
      cmocka_unit_test(dash_segment_list),
      cmocka_unit_test(dash_template_number_static),
      cmocka_unit_test(dash_segment_timeline),
      cmocka_unit_test(dash_schema_order_and_prefixed_self_closing),
      cmocka_unit_test(dash_multi_period_durations),
      cmocka_unit_test(dash_dynamic_template_uses_clock),
      cmocka_unit_test(dash_base_url_nesting),
      cmocka_unit_test(dash_already_hinted),
      cmocka_unit_test(dash_hostile_inputs),
      cmocka_unit_test(dash_output_size_is_exact_and_writes_once),
      cmocka_unit_test(prepared_manifest_parses_once),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
