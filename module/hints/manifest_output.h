// Internal to the manifest rewriter: the insertion plan both formats produce, and the
// writer that turns original bytes + plan into the output. The writer runs twice over
// the same plan: once counting, once copying into a buffer allocated at the exact
// size, so the output is built without reallocation (the vod-module way).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "module/hints/manifest_rewriter.h"

namespace p2p {
namespace hints {
namespace manifest_detail {

class output_sink {
 public:
  explicit output_sink(char* buffer) : buffer_(buffer) {}
  void put(std::string_view text) {
    if (buffer_ != nullptr && !text.empty()) std::memcpy(buffer_ + size_, text.data(), text.size());
    size_ += text.size();
  }
  void put(char c) {
    if (buffer_ != nullptr) buffer_[size_] = c;
    size_ += 1;
  }
  void put_hex(const sha256_digest& digest);
  void put_decimal(uint64_t value);
  size_t size() const { return size_; }

 private:
  char* buffer_;
  size_t size_ = 0;
};

// Which bytes get percent-encoded in a hint value (README.md, "Session data").
enum class value_context { hls, dash };
void put_percent_encoded(output_sink& out, std::string_view value, value_context context);

enum class insertion_kind {
  hls_session_lines,  // master: EXT-X-SESSION-DATA lines
  hls_swarm_line,     // media: EXT-P2P-SWARM
  hls_hash_line,      // media: EXT-P2P-SHA256 for item `item`
  dash_session_property,
  dash_swarm_property,
  dash_hashes,                 // p2p:SegmentHashes for items [item, item_end)
  dash_close_self_closing_rep  // replaces "/>" of <Representation/>: ">" ... "</qname>"
};

struct insertion {
  size_t at = 0;    // byte offset in the original
  size_t drop = 0;  // original bytes replaced at `at`
  insertion_kind kind = insertion_kind::hls_hash_line;
  size_t item = 0;
  size_t item_end = 0;
  std::string_view eol;       // HLS: line ending to use
  bool eol_before = false;    // HLS: the line we follow had no line ending
  std::string_view prefix;    // DASH: namespace prefix (without ':') of the enclosing element
  std::string_view qname;     // DASH: qualified name of the self-closing Representation
  size_t representation = 0;  // DASH: index into the per-representation data below
};

struct representation_hints {
  std::string rendition_key;  // Representation@id, entities decoded
  std::string swarm_id;       // "" -> no swarm property
  size_t first_item = 0;
  size_t end_item = 0;
};

// Everything the writer needs besides the original bytes.
struct rewrite_plan {
  std::vector<insertion> insertions;  // sorted by `at`, ties in push order
  std::vector<media_item> items;
  std::vector<std::optional<sha256_digest>> digests;  // by item index
  std::vector<representation_hints> representations;  // DASH
  std::string hls_swarm_id;
};

struct parse_outcome {
  rewrite_status status = rewrite_status::ok;
  std::string reason;
};

// Each parser fills plan.items (and, when `with_insertions`, plan.insertions).
parse_outcome parse_hls(std::string_view bytes, manifest_kind kind, const manifest_options& options,
                        bool with_insertions, rewrite_plan& plan);
parse_outcome parse_dash(std::string_view bytes, const manifest_options& options,
                         bool with_insertions, rewrite_plan& plan);

void write_output(std::string_view original, const rewrite_plan& plan, const session_hints& hints,
                  output_sink& out, size_t& hashes_written);

}  // namespace manifest_detail
}  // namespace hints
}  // namespace p2p
