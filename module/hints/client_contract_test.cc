// The hint format from both ends: manifests rewritten by this library are parsed by the
// client library (client/hls_playlist.h, client/dash_mpd.h), which must find exactly
// the hashes, swarm ids and session values that were written, attached to the right
// items. If either side drifts from README.md, this test fails.
#define P2P_HINTS_NO_SHORT_NAMES
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "client/dash_mpd.h"
#include "client/hls_playlist.h"
#include "client/url.h"
#include "common/hmac_sha256.h"
#include "module/hints/manifest_rewriter.h"
#include "third_party/cmocka.hpp"

namespace {

namespace hints = p2p::hints;

const char kBase[] = "http://origin.example/live/stream/manifest";

std::string read_seed(const std::string& name) {
  std::ifstream file("module/hints/testdata/" + name, std::ios::binary);
  std::stringstream content;
  content << file.rdbuf();
  if (content.str().empty()) fail_msg("missing seed %s", name.c_str());
  return content.str();
}

std::string key_of(const std::string& absolute_url, int64_t offset, int64_t length) {
  if (offset < 0) return absolute_url;
  return absolute_url + "|" + std::to_string(offset) + "+" + std::to_string(length);
}

// Hashes what the glue would: the item's absolute URL and range. Every third item
// gets no hash, so "no tag" is checked too.
struct hashing {
  std::map<std::string, p2p::sha256_digest> given;

  hints::hash_lookup lookup() {
    return [this](const hints::media_item& item) -> std::optional<p2p::sha256_digest> {
      if (item.index % 3 == 2) return std::nullopt;
      std::string url = p2p::url_resolve(kBase, item.uri);
      std::string key = item.range ? key_of(url, static_cast<int64_t>(item.range->offset),
                                            static_cast<int64_t>(item.range->length))
                                   : url;
      p2p::sha256_digest digest = p2p::sha256(key);
      given[key] = digest;
      return digest;
    };
  }

  // Every client item has a hash exactly when one was written for its bytes.
  void check(const std::vector<p2p::media_item>& items) const {
    if (given.empty() || items.empty()) fail_msg("nothing to compare");
    size_t with_hash = 0;
    for (const p2p::media_item& item : items) {
      std::string key = key_of(item.url, item.range_offset, item.range_length);
      auto it = given.find(key);
      if (it == given.end()) {
        if (item.has_hash) fail_msg("client found a hash for %s, none was written", key.c_str());
        continue;
      }
      if (!item.has_hash) fail_msg("client missed the hash of %s", key.c_str());
      if (item.hash != it->second) fail_msg("client attached the wrong hash to %s", key.c_str());
      ++with_hash;
    }
    if (with_hash != given.size()) {
      fail_msg("client saw %zu of %zu hashes", with_hash, given.size());
    }
  }
};

hints::session_hints sample_hints() {
  hints::session_hints h;
  h.content_id = "movie 42;=\"%";
  h.customer_id = "acme";
  h.swarm_base_id = "BASEswarmBASEswarmBASE";
  h.distributor_url = "https://d.example/cfg?a=1&b=2";
  h.tracker_url = "https://t.example/tracker";
  h.signalling_url = "wss://s.example/ws";
  h.analytics_url = "https://a.example/";
  h.credential = "cred<>'\r\n";
  h.rendition_swarm_id = [](std::string_view key) {
    return hints::swarm_id("acme", "/live/stream/manifest", key);
  };
  return h;
}

void check_session(const p2p::session_hints& got, bool with_swarm) {
  hints::session_hints want = sample_hints();
  assert_string_equal(got.content_id.c_str(), want.content_id.c_str());
  assert_string_equal(got.customer_id.c_str(), want.customer_id.c_str());
  assert_string_equal(got.distributor.c_str(), want.distributor_url.c_str());
  assert_string_equal(got.tracker.c_str(), want.tracker_url.c_str());
  assert_string_equal(got.signalling.c_str(), want.signalling_url.c_str());
  assert_string_equal(got.analytics.c_str(), want.analytics_url.c_str());
  assert_string_equal(got.credential.c_str(), want.credential.c_str());
  if (with_swarm) assert_string_equal(got.swarm.c_str(), want.swarm_base_id.c_str());
}

std::string rewrite(const std::string& input, hints::manifest_kind kind, hashing& h) {
  hints::rewrite_result result = hints::rewrite_manifest(input, kind, sample_hints(), h.lookup());
  if (result.status != hints::rewrite_status::ok) {
    fail_msg("rewrite failed: %s", result.reason.c_str());
  }
  return result.output;
}

void hls_media_playlists_read_back(void**) {
  for (const char* name : {"ll_hls.m3u8", "byterange_crlf.m3u8"}) {
    hashing h;
    std::string out = rewrite(read_seed(name), hints::manifest_kind::hls_media, h);
    p2p::hls_media_playlist playlist;
    assert_int_equal(p2p::hls_parse_media(out, kBase, p2p::manifest_limits{}, &playlist),
                     p2p::manifest_status::ok);
    h.check(playlist.items);
    assert_string_equal(playlist.swarm_id.c_str(),
                        hints::swarm_id("acme", "/live/stream/manifest", "").c_str());
  }
}

void hls_master_playlist_reads_back(void**) {
  hashing h;
  std::string out = rewrite(read_seed("master.m3u8"), hints::manifest_kind::hls_master, h);
  p2p::hls_master_playlist playlist;
  assert_int_equal(p2p::hls_parse_master(out, kBase, p2p::manifest_limits{}, &playlist),
                   p2p::manifest_status::ok);
  check_session(playlist.hints, true);
}

void dash_mpds_read_back(void**) {
  for (const char* name : {"segment_list.mpd", "template_number.mpd", "timeline_namespaced.mpd",
                           "dynamic.mpd", "dot_segment_base.mpd"}) {
    hints::manifest_options options;
    options.now_unix_ms = 1795305725000LL;
    hashing h;
    hints::rewrite_result result = hints::rewrite_manifest(
        read_seed(name), hints::manifest_kind::dash_mpd, sample_hints(), h.lookup(), options);
    if (result.status != hints::rewrite_status::ok) fail_msg("%s: %s", name, result.reason.c_str());
    p2p::dash_options client_options;
    client_options.now_unix_ms = options.now_unix_ms;
    p2p::dash_mpd mpd;
    p2p::manifest_status status =
        p2p::dash_parse(result.output, kBase, p2p::manifest_limits{}, client_options, &mpd);
    if (status != p2p::manifest_status::ok) {
      fail_msg("%s: client refused the rewritten MPD: %s", name, p2p::manifest_status_name(status));
    }
    check_session(mpd.hints, false);
    std::vector<p2p::media_item> all;
    for (const auto& period : mpd.periods) {
      for (const auto& set : period.adaptation_sets) {
        for (const auto& rep : set.representations) {
          std::string want = hints::swarm_id("acme", "/live/stream/manifest", rep.id);
          if (rep.swarm_id != want) fail_msg("%s: swarm id of %s", name, rep.id.c_str());
          all.insert(all.end(), rep.items.begin(), rep.items.end());
        }
      }
    }
    h.check(all);
  }
}

}  // namespace

int main() {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(hls_media_playlists_read_back),
      cmocka_unit_test(hls_master_playlist_reads_back),
      cmocka_unit_test(dash_mpds_read_back),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
