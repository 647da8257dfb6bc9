// Swarms and their peers, kept in one caller-provided contiguous memory block.
//
// The block is meant to be an nginx shared-memory zone mapped by every worker, so
// nothing in it is a pointer: records are fixed-size and linked by 32-bit indices.
// The caller serialises access (one mutex per block); this class does no locking.
//
// Layout: a header (magic, layout version, block size, capacities, free lists, LRU
// ends, counters), then the peer records, the swarm records and two bucket arrays
// (chained hash tables keyed by peer id and swarm id). A block that already holds a
// registry of the same layout and size is reused as is, so `nginx -s reload` keeps
// every swarm.
//
// Peers are on two doubly linked lists: the global LRU by last announce (expiry and
// eviction take from its stale end) and their swarm's list, also freshest first. The
// swarm list's links live in their own compact array (8 bytes a peer), so walking a
// swarm reads a few hot cache lines and can prefetch the records it will need instead
// of waiting on one record after another.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace p2p {

enum class network_type : uint8_t { unknown = 0, wifi = 1, cellular = 2, ethernet = 3 };

const char* network_type_name(network_type type);
// Accepts "unknown", "wifi", "cellular", "ethernet".
bool network_type_parse(std::string_view text, network_type* out);

// Tracker-issued peer ids are 22 characters; the registry keeps any ticket id (64).
constexpr size_t kRegistryPeerIdMax = 64;
constexpr size_t kRegistrySwarmIdMax = 64;

// An IPv4 address is stored IPv4-mapped (::ffff:a.b.c.d) so both families share
// 16 bytes and one comparison.
struct peer_address {
  uint8_t bytes[16] = {};

  static peer_address from_v4(const uint8_t v4[4]);
  static peer_address from_v6(const uint8_t v6[16]);
  bool is_v4() const;
};

// What a caller announces. Strings are only read during the call.
struct peer_announcement {
  std::string_view peer_id;
  std::string_view swarm_id;
  peer_address address;
  uint32_t asn = 0;          // 0 = unknown
  char country[2] = {0, 0};  // ISO 3166 alpha-2, {0,0} = unknown
  network_type network = network_type::unknown;
  uint32_t upload_kbps = 0;  // 0 = unknown
  uint64_t customer_hash = 0;
  // For a peer already registered, keep the stored value instead of the one above
  // (a `peers` body that leaves a member out, a `track` call).
  bool keep_network = false;
  bool keep_upload = false;
  bool keep_customer = false;
};

// Where announce() left the peer, for calls in the same lock hold.
struct announce_refs {
  uint32_t peer = 0;
  uint32_t swarm = 0;
  uint64_t customer_hash = 0;  // as stored
};

// A copy of one peer record, safe to use after the lock is released.
struct peer_view {
  char peer_id[kRegistryPeerIdMax + 1] = {};  // NUL-terminated
  uint8_t peer_id_len = 0;
  peer_address address;
  uint32_t asn = 0;
  char country[2] = {0, 0};
  network_type network = network_type::unknown;
  uint32_t upload_kbps = 0;
  int64_t last_seen = 0;
  uint64_t customer_hash = 0;

  std::string_view id() const { return {peer_id, peer_id_len}; }
};

// The fields ranking reads, copied from one cache line of a peer record. `ref` names
// the record for id_at() and is valid only while the caller holds the lock.
struct peer_summary {
  uint32_t ref = 0;
  peer_address address;
  uint32_t asn = 0;
  char country[2] = {0, 0};
  network_type network = network_type::unknown;
  uint32_t upload_kbps = 0;
};

struct registry_limits {
  uint32_t max_peers_per_swarm = 1000;
  int64_t peer_ttl = 90;  // seconds without announce before a peer expires
  // A live peer is evicted to make room only when it has not announced for this
  // long; younger ones are protected and the caller gets `full` instead.
  int64_t min_evict_age = 30;
};

enum class registry_status {
  ok,       // refreshed an existing peer (same swarm)
  added,    // new peer
  moved,    // existing peer, now in another swarm
  full,     // no room without evicting a protected peer; see retry_after
  invalid,  // bad peer or swarm id
};

const char* registry_status_name(registry_status status);

struct registry_counters {
  uint32_t peer_count = 0;
  uint32_t swarm_count = 0;
  uint32_t peer_capacity = 0;
  uint32_t swarm_capacity = 0;
  uint64_t expired = 0;  // peers dropped for not announcing
  uint64_t evicted = 0;  // live peers dropped to make room
  uint64_t refused = 0;  // announcements answered `full`
};

class swarm_registry {
 public:
  // Smallest useful block; smaller ones are refused by attach.
  static size_t min_block_size();

  // Formats `block` unless it already holds a registry of this layout version and
  // exactly this size, in which case the existing state is kept and `*reused` is
  // set. `hash_seed` is used only when formatting. Returns false when the block is
  // too small or misaligned (8 bytes).
  bool attach(void* block, size_t size, uint64_t hash_seed, bool* reused);

  // Binds to a block that attach() formatted (in this or another process mapping
  // the same zone) without ever formatting it; false if it holds no registry.
  bool open(void* block, size_t size);

  // The block this registry is bound to (identity only).
  const void* block() const { return hdr_; }

  void set_limits(const registry_limits& limits) { limits_ = limits; }
  const registry_limits& limits() const { return limits_; }

  // Inserts or refreshes a peer (moving it when swarm_id differs from its current
  // swarm), making room per the rules in README.md. On `full`, `*retry_after` (if
  // given) is set to the seconds until room can be made. On ok/added/moved, `*refs`
  // (if given) says where the peer now is.
  registry_status announce(const peer_announcement& peer, int64_t now, int64_t* retry_after,
                           announce_refs* refs = nullptr);

  bool find(std::string_view peer_id, peer_view* out, char* swarm_id_out = nullptr,
            size_t* swarm_id_len = nullptr) const;
  bool remove(std::string_view peer_id);

  // Copies up to `max` peers of the swarm, freshest first, skipping expired ones.
  // Returns the number copied.
  size_t swarm_peers(std::string_view swarm_id, int64_t now, peer_view* out, size_t max) const;
  uint32_t swarm_size(std::string_view swarm_id) const;

  // The announcing peer's swarm (announce's `refs`, same lock hold): its size, its
  // version, and the ranking fields of its live peers (the announcing one included),
  // freshest first. The version changes whenever a member joins or leaves or changes
  // a ranking field, never on a plain refresh, and a value is never reused within the
  // block; so a copy of the summaries stays right while the version is unchanged and
  // `now` is before `*live_until` (the first moment one of them could expire). One
  // cache line read per member, no id hashed or compared.
  uint32_t swarm_size(const announce_refs& at) const;
  uint64_t swarm_version(const announce_refs& at) const;
  size_t swarm_summaries(const announce_refs& at, int64_t now, peer_summary* out, size_t max,
                         int64_t* live_until = nullptr) const;
  // The id of the peer behind a summary's `ref`; valid during the same lock hold.
  std::string_view id_at(uint32_t ref) const;

  // Drops up to `max_count` peers whose ttl has passed; returns how many.
  size_t expire(int64_t now, size_t max_count);

  registry_counters counters() const;
  // Shared-memory bytes the block spends per peer it can hold (block size / capacity).
  double bytes_per_peer() const;

 private:
  struct header;
  struct peer_record;
  struct swarm_record;
  struct swarm_link;

  header* hdr() const { return hdr_; }
  peer_record* peers() const;
  swarm_record* swarms() const;
  uint32_t* peer_buckets() const;
  uint32_t* swarm_buckets() const;
  swarm_link* links() const;

  uint32_t hash_id(std::string_view id) const;
  uint32_t find_peer(std::string_view id, uint32_t hash) const;
  uint32_t find_swarm(std::string_view id, uint32_t hash) const;
  uint32_t create_swarm(std::string_view id, uint32_t hash);
  void free_swarm(uint32_t index);
  void unlink_from_swarm(uint32_t peer);
  void link_into_swarm(uint32_t peer, uint32_t swarm);
  void move_to_swarm_head(uint32_t peer);
  void lru_unlink(uint32_t peer);
  void lru_push_front(uint32_t peer);
  void remove_peer(uint32_t peer);
  bool evictable(uint32_t peer, int64_t now) const;
  int64_t wait_for(uint32_t peer, int64_t now) const;
  void fill_view(uint32_t peer, peer_view* out) const;

  header* hdr_ = nullptr;
  registry_limits limits_;
};

}  // namespace p2p
