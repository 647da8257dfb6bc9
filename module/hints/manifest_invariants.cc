#include "module/hints/manifest_invariants.h"

#include <vector>

#include "module/hints/manifest_rewriter.h"

namespace p2p {
using namespace hints;
namespace {

manifest_options fuzz_options() {
  manifest_options options;
  options.max_items = 2000;  // keeps a run fast; the caps themselves are under test too
  options.max_manifest_bytes = 1u << 20;
  options.max_line_bytes = 16u << 10;
  options.now_unix_ms = 1795305725000LL;  // 2026-11-22T00:02:05Z, for dynamic MPDs
  return options;
}

session_hints fuzz_hints() {
  session_hints hints;
  hints.content_id = "c\"%\r\n;=<&>'";
  hints.customer_id = "acme";
  hints.swarm_base_id = "base";
  hints.tracker_url = "https://t.example/";
  hints.rendition_swarm_id = [](std::string_view key) { return "s-" + std::string(key); };
  return hints;
}

bool same_items(const std::vector<media_item>& a, const std::vector<media_item>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    const media_item& x = a[i];
    const media_item& y = b[i];
    bool same_range =
        x.range.has_value() == y.range.has_value() &&
        (!x.range || (x.range->offset == y.range->offset && x.range->length == y.range->length));
    if (x.uri != y.uri || x.kind != y.kind || x.index != y.index || !same_range ||
        x.representation_id != y.representation_id || x.number != y.number || x.time != y.time ||
        x.list_position != y.list_position) {
      return false;
    }
  }
  return true;
}

// Digest derived from the index, so each item gets its own and some get none.
hash_lookup recording_lookup(std::vector<media_item>& seen) {
  return [&seen](const media_item& item) -> std::optional<sha256_digest> {
    seen.push_back(item);
    if (item.index % 3 == 2) return std::nullopt;
    sha256_digest digest{};
    digest[0] = static_cast<uint8_t>(item.index);
    digest[31] = static_cast<uint8_t>(item.index >> 8);
    return digest;
  };
}

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && text.compare(0, prefix.size(), prefix) == 0;
}

std::string strip_hls_lines(std::string_view text, manifest_kind kind) {
  std::string out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    size_t end = nl == std::string_view::npos ? text.size() : nl + 1;
    std::string_view line = text.substr(pos, end - pos);
    bool ours = kind == manifest_kind::hls_media
                    ? starts_with(line, "#EXT-P2P-")
                    : starts_with(line, "#EXT-X-SESSION-DATA:DATA-ID=\"org.p2p.");
    if (!ours) {
      out.append(line);
    } else if (nl == std::string_view::npos) {
      // Appended after a last line that had no line ending: drop the ending we added.
      if (!out.empty() && out.back() == '\n') out.pop_back();
      if (!out.empty() && out.back() == '\r') out.pop_back();
    }
    pos = end;
  }
  return out;
}

std::string check_common(std::string_view input, manifest_kind kind,
                         const std::vector<media_item>& seen, const rewrite_result& result) {
  const manifest_options options = fuzz_options();
  // The parse-once path must agree with the self-contained one.
  prepared_manifest prepared = prepare_manifest(input, kind, options);
  std::vector<media_item> seen_again;
  rewrite_result prepared_result =
      rewrite_prepared(prepared, input, fuzz_hints(), recording_lookup(seen_again));
  if (prepared.status != result.status || prepared_result.status != result.status ||
      prepared_result.output != result.output || !same_items(seen, seen_again)) {
    return "prepare_manifest/rewrite_prepared disagree with rewrite_manifest";
  }
  media_list_result list = list_media_items(input, kind, options);
  if (result.status != rewrite_status::ok) {
    if (!result.output.empty()) return "output on failure";
    if (result.reason.empty()) return "failure without a reason";
    if (list.status != result.status) return "list and rewrite disagree on the status";
    return "";
  }
  if (list.status != rewrite_status::ok) return "rewrite ok but list failed";
  if (!same_items(list.items, seen)) return "hash lookups differ from the listed items";
  media_list_result again = list_media_items(result.output, kind, options);
  if (again.status != rewrite_status::already_hinted && again.status != rewrite_status::ok) {
    return "rewritten output does not parse: " + again.reason;
  }
  if (!same_items(list.items, again.items)) return "rewritten output lists other items";
  return "";
}

}  // namespace

std::string check_hls_invariants(std::string_view input) {
  const manifest_options options = fuzz_options();
  detect_manifest_kind(input, "", "");
  for (manifest_kind kind : {manifest_kind::hls_media, manifest_kind::hls_master}) {
    std::vector<media_item> seen;
    rewrite_result result =
        rewrite_manifest(input, kind, fuzz_hints(), recording_lookup(seen), options);
    std::string problem = check_common(input, kind, seen, result);
    if (!problem.empty()) return problem;
    if (result.status != rewrite_status::ok) continue;
    if (strip_hls_lines(result.output, kind) != input) return "original lines changed";
  }
  return "";
}

namespace {

void erase_between(std::string& text, std::string_view marker, std::string_view open,
                   std::string_view close) {
  for (int guard = 0; guard < 100000; ++guard) {
    size_t at = text.find(marker);
    if (at == std::string::npos) return;
    size_t start = text.rfind(open, at);
    size_t end = text.find(close, at);
    if (start == std::string::npos || end == std::string::npos) return;
    text.erase(start, end + close.size() - start);
  }
}

// "<X .../>" and "<X ...></X>" written either way compare equal after this.
std::string fold_empty_representations(std::string text) {
  for (std::string_view close : {"></Representation>", "></mpd:Representation>"}) {
    for (size_t at = text.find(close); at != std::string::npos; at = text.find(close, at)) {
      text.replace(at, close.size(), "/>");
    }
  }
  return text;
}

}  // namespace

std::string check_dash_invariants(std::string_view input) {
  const manifest_options options = fuzz_options();
  detect_manifest_kind(input, "application/dash+xml", "/a.mpd");
  std::vector<media_item> seen;
  rewrite_result result = rewrite_manifest(input, manifest_kind::dash_mpd, fuzz_hints(),
                                           recording_lookup(seen), options);
  std::string problem = check_common(input, manifest_kind::dash_mpd, seen, result);
  if (!problem.empty() || result.status != rewrite_status::ok) return problem;
  // Everything but our insertions is unchanged (unless the input itself contains our
  // markers, which would make the stripping below ambiguous).
  if (input.find("urn:p2p:") != std::string_view::npos ||
      input.find("SegmentHashes") != std::string_view::npos) {
    return "";
  }
  std::string stripped = result.output;
  erase_between(stripped, "SupplementalProperty schemeIdUri=\"urn:p2p:", "<", "/>");
  erase_between(stripped, "<p2p:SegmentHashes", "<", "</p2p:SegmentHashes>");
  if (stripped != input &&
      fold_empty_representations(stripped) != fold_empty_representations(std::string(input))) {
    return "original bytes changed";
  }
  return "";
}

}  // namespace p2p
