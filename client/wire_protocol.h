// The peer wire protocol: binary frames, one per transport message (see README.md,
// "Peer wire protocol"). Segments are addressed by the SHA-256 the origin published for
// them, so a peer can only ever be asked for bytes whose hash the asker already knows.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace p2p {

using content_hash = std::array<uint8_t, 32>;

constexpr uint8_t wire_version = 1;
// Data chunks never carry more than this, whatever the transport allows.
constexpr size_t wire_max_chunk = 64 * 1024;
// Header of a data frame: version, type, request id, total size, offset.
constexpr size_t wire_data_header = 2 + 4 + 4 + 4;
// Largest item a peer may announce or send (a segment, a part, an init segment).
constexpr uint32_t wire_max_item_size = 64u * 1024 * 1024;
// Most hashes in one have/lost frame.
constexpr size_t wire_max_hashes_per_frame = 1024;
constexpr size_t wire_max_swarm_id = 64;

enum class wire_type : uint8_t {
  hello = 1,    // flags (bit 0: will upload), swarm id
  have = 2,     // hashes the sender now has (announce)
  lost = 3,     // hashes the sender no longer has (evicted)
  request = 4,  // request id, hash
  data = 5,     // request id, total size, offset, bytes
  cancel = 6,   // request id
  absent = 7,   // request id: not here (or not uploading)
};

constexpr uint8_t wire_flag_uploads = 1;

struct wire_frame {
  wire_type type = wire_type::hello;
  uint8_t flags = 0;
  std::string swarm_id;
  std::vector<content_hash> hashes;  // have, lost; request uses hashes[0]
  uint32_t request_id = 0;
  uint32_t total_size = 0;
  uint32_t offset = 0;
  const uint8_t* payload = nullptr;  // data: points into the parsed message
  size_t payload_size = 0;
};

enum class wire_error {
  ok,
  too_short,
  bad_version,
  bad_type,
  bad_length,
  bad_value,
};

const char* wire_error_name(wire_error error);

// Parses one message. Any error means the peer is broken or hostile: close it.
wire_error wire_parse(const uint8_t* data, size_t size, wire_frame* out);

std::string wire_hello(uint8_t flags, const std::string& swarm_id);
std::string wire_have(wire_type type, const std::vector<content_hash>& hashes);
std::string wire_request(uint32_t request_id, const content_hash& hash);
std::string wire_data(uint32_t request_id, uint32_t total_size, uint32_t offset,
                      const uint8_t* bytes, size_t size);
std::string wire_cancel(uint32_t request_id);
std::string wire_absent(uint32_t request_id);

// "abc..." (64 hex characters, either case) into a hash; false on anything else.
bool content_hash_from_hex(const std::string& hex, content_hash* out);
std::string content_hash_hex(const content_hash& hash);

// Reassembles one item's data frames: enforces in-order offsets, a constant total size
// within the limit the receiver expects, and no bytes beyond it.
class chunk_assembler {
 public:
  explicit chunk_assembler(uint32_t max_size = wire_max_item_size) : max_size_(max_size) {}
  // false: protocol violation (the peer is closed by the caller).
  bool add(const wire_frame& frame);
  bool complete() const { return started_ && bytes_.size() == total_; }
  size_t received() const { return bytes_.size(); }
  uint32_t total() const { return total_; }
  std::string take() { return std::move(bytes_); }

 private:
  uint32_t max_size_;
  bool started_ = false;
  uint32_t total_ = 0;
  std::string bytes_;
};

}  // namespace p2p
