#include "tracker/swarm_registry.h"

#include <cstring>

#include "tracker/ticket.h"

namespace p2p {
namespace {

constexpr uint64_t kMagic = 0x5032505357524d31ULL;  // "P2PSWRM1"
// Bump whenever a record or the header changes shape: a reload with a new binary
// then formats the block instead of misreading it.
constexpr uint32_t kLayoutVersion = 4;
constexpr uint32_t kNil = 0xffffffffu;
// Expired peers reclaimed at most per announce when the block is full, so one
// request's work stays bounded.
constexpr size_t kReclaimBatch = 64;

uint32_t round_up_pow2(uint32_t v) {
  uint32_t p = 1;
  while (p < v && p < (1u << 30)) p <<= 1;
  return p;
}

size_t align8(size_t v) { return (v + 7) & ~size_t{7}; }
size_t align64(size_t v) { return (v + 63) & ~size_t{63}; }

}  // namespace

struct swarm_registry::header {
  uint64_t magic;
  uint32_t layout_version;
  uint32_t header_size;
  uint64_t block_size;
  uint64_t hash_seed;
  uint32_t peer_capacity;
  uint32_t swarm_capacity;
  uint32_t peer_bucket_count;  // power of two
  uint32_t swarm_bucket_count;
  uint64_t peers_offset;
  uint64_t swarms_offset;
  uint64_t peer_buckets_offset;
  uint64_t swarm_buckets_offset;
  uint64_t swarm_links_offset;
  uint32_t free_peer;   // singly linked through lru_next
  uint32_t free_swarm;  // singly linked through hash_next
  uint32_t lru_head;    // freshest
  uint32_t lru_tail;    // stalest
  uint32_t peer_count;
  uint32_t swarm_count;
  uint64_t expired;
  uint64_t evicted;
  uint64_t refused;
  uint64_t generation;  // last version handed to a swarm
};

// 128 bytes, two cache lines: the first holds what ranking and the swarm walk read
// for every candidate, the second what only lookups and bookkeeping need.
struct swarm_registry::peer_record {
  uint8_t ip[16];
  int64_t last_seen;
  uint32_t asn;
  uint32_t upload_kbps;
  uint32_t id_hash;
  char country[2];
  uint8_t network;
  uint8_t id_len;
  uint32_t swarm;
  uint32_t hash_next;
  uint32_t lru_prev;
  uint32_t lru_next;
  uint64_t customer_hash;
  char id[kRegistryPeerIdMax];
};
struct swarm_registry::swarm_link {
  uint32_t prev;
  uint32_t next;
};

struct swarm_registry::swarm_record {
  // Changes whenever a member joins or leaves or a member's ranking fields change;
  // never repeats within a block (taken from the header's generation counter).
  uint64_t version;
  uint32_t id_hash;
  uint32_t hash_next;
  uint32_t head;  // freshest peer
  uint32_t tail;  // stalest peer
  uint32_t count;
  uint8_t id_len;
  char id[kRegistrySwarmIdMax];
};

const char* network_type_name(network_type type) {
  switch (type) {
    case network_type::wifi:
      return "wifi";
    case network_type::cellular:
      return "cellular";
    case network_type::ethernet:
      return "ethernet";
    case network_type::unknown:
      break;
  }
  return "unknown";
}

bool network_type_parse(std::string_view text, network_type* out) {
  if (text == "unknown")
    *out = network_type::unknown;
  else if (text == "wifi")
    *out = network_type::wifi;
  else if (text == "cellular")
    *out = network_type::cellular;
  else if (text == "ethernet")
    *out = network_type::ethernet;
  else
    return false;
  return true;
}

peer_address peer_address::from_v4(const uint8_t v4[4]) {
  peer_address a;
  a.bytes[10] = 0xff;
  a.bytes[11] = 0xff;
  std::memcpy(a.bytes + 12, v4, 4);
  return a;
}

peer_address peer_address::from_v6(const uint8_t v6[16]) {
  peer_address a;
  std::memcpy(a.bytes, v6, 16);
  return a;
}

bool peer_address::is_v4() const {
  static const uint8_t prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  return std::memcmp(bytes, prefix, 12) == 0;
}

const char* registry_status_name(registry_status status) {
  switch (status) {
    case registry_status::ok:
      return "ok";
    case registry_status::added:
      return "added";
    case registry_status::moved:
      return "moved";
    case registry_status::full:
      return "full";
    case registry_status::invalid:
      return "invalid";
  }
  return "unknown";
}

size_t swarm_registry::min_block_size() {
  // Room for 16 peers and 8 swarms with their links and buckets.
  return align64(sizeof(header)) + 16 * sizeof(peer_record) + 16 * sizeof(swarm_link) +
         8 * sizeof(swarm_record) + 16 * sizeof(uint32_t) + 8 * sizeof(uint32_t) + 64;
}

bool swarm_registry::attach(void* block, size_t size, uint64_t hash_seed, bool* reused) {
  static_assert(sizeof(peer_record) == 128, "a peer record is two cache lines");
  if (reused) *reused = false;
  if (!block || size < min_block_size() || (reinterpret_cast<uintptr_t>(block) & 7) != 0)
    return false;
  auto* h = static_cast<header*>(block);
  if (h->magic == kMagic && h->layout_version == kLayoutVersion &&
      h->header_size == sizeof(header) && h->block_size == size) {
    hdr_ = h;
    if (reused) *reused = true;
    return true;
  }

  // Per peer: its record, one peer bucket, half a swarm record and half a swarm
  // bucket (one swarm per two peers is plenty for per-rendition swarms; swarms with
  // no peer left are freed at once).
  const size_t header_bytes = align64(sizeof(header));
  const size_t per_two_peers =
      2 * sizeof(peer_record) + 2 * sizeof(uint32_t) + sizeof(swarm_record) + sizeof(uint32_t);
  size_t usable = size - header_bytes - 64;  // slack for alignment of four arrays
  uint64_t fitting = 2 * (usable / per_two_peers);
  // Bucket arrays are powers of two at most the record count, so shrink until
  // everything fits exactly.
  uint32_t peer_capacity = static_cast<uint32_t>(fitting > 0x3fffffff ? 0x3fffffff : fitting);
  uint32_t swarm_capacity = 0;
  uint32_t peer_bucket_count = 0;
  uint32_t swarm_bucket_count = 0;
  size_t total = 0;
  for (;;) {
    swarm_capacity = peer_capacity / 2;
    peer_bucket_count = round_up_pow2(peer_capacity);
    if (peer_bucket_count > peer_capacity) peer_bucket_count >>= 1;
    swarm_bucket_count = round_up_pow2(swarm_capacity);
    if (swarm_bucket_count > swarm_capacity) swarm_bucket_count >>= 1;
    total = header_bytes + align8(peer_capacity * sizeof(peer_record)) +
            align8(swarm_capacity * sizeof(swarm_record)) +
            align8(peer_bucket_count * sizeof(uint32_t)) +
            align8(swarm_bucket_count * sizeof(uint32_t)) +
            align8(peer_capacity * sizeof(swarm_link));
    if (total <= size || peer_capacity < 16) break;
    --peer_capacity;
  }
  if (peer_capacity < 16 || total > size) return false;

  std::memset(block, 0, header_bytes);
  h->magic = 0;  // set last, so a half-formatted block is never taken as valid
  h->layout_version = kLayoutVersion;
  h->header_size = sizeof(header);
  h->block_size = size;
  h->hash_seed = hash_seed;
  h->peer_capacity = peer_capacity;
  h->swarm_capacity = swarm_capacity;
  h->peer_bucket_count = peer_bucket_count;
  h->swarm_bucket_count = swarm_bucket_count;
  h->peers_offset = header_bytes;
  h->swarms_offset = h->peers_offset + align8(peer_capacity * sizeof(peer_record));
  h->peer_buckets_offset = h->swarms_offset + align8(swarm_capacity * sizeof(swarm_record));
  h->swarm_buckets_offset = h->peer_buckets_offset + align8(peer_bucket_count * sizeof(uint32_t));
  h->swarm_links_offset = h->swarm_buckets_offset + align8(swarm_bucket_count * sizeof(uint32_t));
  hdr_ = h;

  peer_record* p = peers();
  for (uint32_t i = 0; i < peer_capacity; ++i) {
    std::memset(&p[i], 0, sizeof(peer_record));
    p[i].lru_next = (i + 1 < peer_capacity) ? i + 1 : kNil;
    p[i].swarm = kNil;
  }
  swarm_record* s = swarms();
  for (uint32_t i = 0; i < swarm_capacity; ++i) {
    std::memset(&s[i], 0, sizeof(swarm_record));
    s[i].hash_next = (i + 1 < swarm_capacity) ? i + 1 : kNil;
  }
  uint32_t* pb = peer_buckets();
  for (uint32_t i = 0; i < peer_bucket_count; ++i) pb[i] = kNil;
  uint32_t* sb = swarm_buckets();
  for (uint32_t i = 0; i < swarm_bucket_count; ++i) sb[i] = kNil;
  h->free_peer = 0;
  h->free_swarm = swarm_capacity ? 0 : kNil;
  h->lru_head = kNil;
  h->lru_tail = kNil;
  h->magic = kMagic;
  return true;
}

bool swarm_registry::open(void* block, size_t size) {
  auto* h = static_cast<header*>(block);
  if (!h || size < min_block_size() || h->magic != kMagic || h->layout_version != kLayoutVersion ||
      h->header_size != sizeof(header) || h->block_size != size)
    return false;
  hdr_ = h;
  return true;
}

swarm_registry::peer_record* swarm_registry::peers() const {
  return reinterpret_cast<peer_record*>(reinterpret_cast<char*>(hdr_) + hdr_->peers_offset);
}
swarm_registry::swarm_record* swarm_registry::swarms() const {
  return reinterpret_cast<swarm_record*>(reinterpret_cast<char*>(hdr_) + hdr_->swarms_offset);
}
uint32_t* swarm_registry::peer_buckets() const {
  return reinterpret_cast<uint32_t*>(reinterpret_cast<char*>(hdr_) + hdr_->peer_buckets_offset);
}
swarm_registry::swarm_link* swarm_registry::links() const {
  return reinterpret_cast<swarm_link*>(reinterpret_cast<char*>(hdr_) + hdr_->swarm_links_offset);
}
uint32_t* swarm_registry::swarm_buckets() const {
  return reinterpret_cast<uint32_t*>(reinterpret_cast<char*>(hdr_) + hdr_->swarm_buckets_offset);
}

uint32_t swarm_registry::hash_id(std::string_view id) const {
  // FNV-1a keyed by a per-block random seed, so clients choosing swarm ids cannot
  // aim at one bucket chain without knowing the seed.
  uint64_t h = 0xcbf29ce484222325ULL ^ hdr_->hash_seed;
  for (unsigned char c : id) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  h ^= h >> 29;
  h *= 0xbf58476d1ce4e5b9ULL;
  h ^= h >> 32;
  return static_cast<uint32_t>(h);
}

uint32_t swarm_registry::find_peer(std::string_view id, uint32_t hash) const {
  const peer_record* p = peers();
  for (uint32_t i = peer_buckets()[hash & (hdr_->peer_bucket_count - 1)]; i != kNil;
       i = p[i].hash_next) {
    if (p[i].id_hash == hash && p[i].id_len == id.size() &&
        std::memcmp(p[i].id, id.data(), id.size()) == 0)
      return i;
  }
  return kNil;
}

uint32_t swarm_registry::find_swarm(std::string_view id, uint32_t hash) const {
  const swarm_record* s = swarms();
  for (uint32_t i = swarm_buckets()[hash & (hdr_->swarm_bucket_count - 1)]; i != kNil;
       i = s[i].hash_next) {
    if (s[i].id_hash == hash && s[i].id_len == id.size() &&
        std::memcmp(s[i].id, id.data(), id.size()) == 0)
      return i;
  }
  return kNil;
}

uint32_t swarm_registry::create_swarm(std::string_view id, uint32_t hash) {
  uint32_t i = hdr_->free_swarm;
  if (i == kNil) return kNil;
  swarm_record& s = swarms()[i];
  hdr_->free_swarm = s.hash_next;
  s.version = ++hdr_->generation;
  s.id_hash = hash;
  s.head = s.tail = kNil;
  s.count = 0;
  s.id_len = static_cast<uint8_t>(id.size());
  std::memcpy(s.id, id.data(), id.size());
  uint32_t& bucket = swarm_buckets()[hash & (hdr_->swarm_bucket_count - 1)];
  s.hash_next = bucket;
  bucket = i;
  ++hdr_->swarm_count;
  return i;
}

void swarm_registry::free_swarm(uint32_t index) {
  swarm_record* s = swarms();
  uint32_t* link = &swarm_buckets()[s[index].id_hash & (hdr_->swarm_bucket_count - 1)];
  while (*link != kNil && *link != index) link = &s[*link].hash_next;
  if (*link == index) *link = s[index].hash_next;
  s[index].id_len = 0;
  s[index].hash_next = hdr_->free_swarm;
  hdr_->free_swarm = index;
  --hdr_->swarm_count;
}

void swarm_registry::unlink_from_swarm(uint32_t peer) {
  peer_record* p = peers();
  uint32_t si = p[peer].swarm;
  if (si == kNil) return;
  swarm_record& s = swarms()[si];
  swarm_link* l = links();
  if (l[peer].prev != kNil)
    l[l[peer].prev].next = l[peer].next;
  else
    s.head = l[peer].next;
  if (l[peer].next != kNil)
    l[l[peer].next].prev = l[peer].prev;
  else
    s.tail = l[peer].prev;
  p[peer].swarm = kNil;
  s.version = ++hdr_->generation;
  if (--s.count == 0) free_swarm(si);
}

void swarm_registry::link_into_swarm(uint32_t peer, uint32_t swarm) {
  peer_record* p = peers();
  swarm_record& s = swarms()[swarm];
  swarm_link* l = links();
  p[peer].swarm = swarm;
  l[peer].prev = kNil;
  l[peer].next = s.head;
  if (s.head != kNil)
    l[s.head].prev = peer;
  else
    s.tail = peer;
  s.head = peer;
  ++s.count;
  s.version = ++hdr_->generation;
}

void swarm_registry::move_to_swarm_head(uint32_t peer) {
  swarm_record& s = swarms()[peers()[peer].swarm];
  swarm_link* l = links();
  if (s.head == peer) return;
  // Not the head, so it has a predecessor.
  l[l[peer].prev].next = l[peer].next;
  if (l[peer].next != kNil)
    l[l[peer].next].prev = l[peer].prev;
  else
    s.tail = l[peer].prev;
  l[peer].prev = kNil;
  l[peer].next = s.head;
  l[s.head].prev = peer;
  s.head = peer;
}

void swarm_registry::lru_unlink(uint32_t peer) {
  peer_record* p = peers();
  if (p[peer].lru_prev != kNil)
    p[p[peer].lru_prev].lru_next = p[peer].lru_next;
  else
    hdr_->lru_head = p[peer].lru_next;
  if (p[peer].lru_next != kNil)
    p[p[peer].lru_next].lru_prev = p[peer].lru_prev;
  else
    hdr_->lru_tail = p[peer].lru_prev;
}

void swarm_registry::lru_push_front(uint32_t peer) {
  peer_record* p = peers();
  p[peer].lru_prev = kNil;
  p[peer].lru_next = hdr_->lru_head;
  if (hdr_->lru_head != kNil)
    p[hdr_->lru_head].lru_prev = peer;
  else
    hdr_->lru_tail = peer;
  hdr_->lru_head = peer;
}

void swarm_registry::remove_peer(uint32_t peer) {
  peer_record* p = peers();
  unlink_from_swarm(peer);
  lru_unlink(peer);
  uint32_t* link = &peer_buckets()[p[peer].id_hash & (hdr_->peer_bucket_count - 1)];
  while (*link != kNil && *link != peer) link = &p[*link].hash_next;
  if (*link == peer) *link = p[peer].hash_next;
  p[peer].id_len = 0;
  p[peer].lru_next = hdr_->free_peer;
  hdr_->free_peer = peer;
  --hdr_->peer_count;
}

bool swarm_registry::evictable(uint32_t peer, int64_t now) const {
  int64_t age = now - peers()[peer].last_seen;
  return age >= limits_.peer_ttl || age >= limits_.min_evict_age;
}

int64_t swarm_registry::wait_for(uint32_t peer, int64_t now) const {
  int64_t age = now - peers()[peer].last_seen;
  int64_t wait = limits_.min_evict_age - age;
  return wait < 1 ? 1 : wait;
}

registry_status swarm_registry::announce(const peer_announcement& a, int64_t now,
                                         int64_t* retry_after, announce_refs* refs) {
  if (!ticket_id_valid(a.peer_id) || a.peer_id.size() > kRegistryPeerIdMax ||
      !ticket_id_valid(a.swarm_id) || a.swarm_id.size() > kRegistrySwarmIdMax)
    return registry_status::invalid;
  const uint32_t peer_hash = hash_id(a.peer_id);
  const uint32_t swarm_hash = hash_id(a.swarm_id);
  uint32_t pi = find_peer(a.peer_id, peer_hash);
  uint32_t si = find_swarm(a.swarm_id, swarm_hash);
  const bool joining = (pi == kNil) || (peers()[pi].swarm != si) || si == kNil;
  auto refuse = [&](uint32_t blocking_peer) {
    ++hdr_->refused;
    if (retry_after) *retry_after = wait_for(blocking_peer, now);
    return registry_status::full;
  };

  // The target swarm is at its cap: its stalest member makes room or we refuse.
  if (joining && si != kNil && swarms()[si].count >= limits_.max_peers_per_swarm) {
    uint32_t stalest = swarms()[si].tail;
    if (!evictable(stalest, now)) return refuse(stalest);
    bool was_expired = now - peers()[stalest].last_seen >= limits_.peer_ttl;
    remove_peer(stalest);
    ++(was_expired ? hdr_->expired : hdr_->evicted);
  }

  // A new peer needs a record: reclaim expired ones, then the globally stalest.
  if (pi == kNil && hdr_->free_peer == kNil) {
    expire(now, kReclaimBatch);
    if (hdr_->free_peer == kNil) {
      uint32_t stalest = hdr_->lru_tail;
      if (!evictable(stalest, now)) return refuse(stalest);
      remove_peer(stalest);
      ++hdr_->evicted;
    }
  }

  // Evictions may have freed the target swarm; look again and create it if needed.
  si = find_swarm(a.swarm_id, swarm_hash);
  if (si == kNil) {
    bool frees_own_swarm =
        pi != kNil && peers()[pi].swarm != kNil && swarms()[peers()[pi].swarm].count == 1;
    if (hdr_->free_swarm == kNil && !frees_own_swarm) {
      expire(now, kReclaimBatch);
      frees_own_swarm =
          pi != kNil && peers()[pi].swarm != kNil && swarms()[peers()[pi].swarm].count == 1;
      if (hdr_->free_swarm == kNil && !frees_own_swarm) {
        ++hdr_->refused;
        if (retry_after) *retry_after = hdr_->lru_tail == kNil ? 1 : wait_for(hdr_->lru_tail, now);
        return registry_status::full;
      }
    }
  }

  registry_status result = registry_status::ok;
  if (pi == kNil) {
    pi = hdr_->free_peer;
    peer_record& p = peers()[pi];
    hdr_->free_peer = p.lru_next;
    std::memset(&p, 0, sizeof(p));
    p.swarm = kNil;
    p.id_hash = peer_hash;
    p.id_len = static_cast<uint8_t>(a.peer_id.size());
    std::memcpy(p.id, a.peer_id.data(), a.peer_id.size());
    uint32_t& bucket = peer_buckets()[peer_hash & (hdr_->peer_bucket_count - 1)];
    p.hash_next = bucket;
    bucket = pi;
    ++hdr_->peer_count;
    result = registry_status::added;
  } else {
    lru_unlink(pi);
    if (peers()[pi].swarm != si) {
      result = registry_status::moved;
      unlink_from_swarm(pi);  // relinked below
    }
  }
  // Unlinking may have freed a swarm record: the target one is (re)resolved here.
  si = find_swarm(a.swarm_id, swarm_hash);
  if (si == kNil) si = create_swarm(a.swarm_id, swarm_hash);

  peer_record& p = peers()[pi];
  const bool known = result != registry_status::added;
  const uint8_t network = known && a.keep_network ? p.network : static_cast<uint8_t>(a.network);
  const uint32_t upload = known && a.keep_upload ? p.upload_kbps : a.upload_kbps;
  // A refresh that changes nothing ranking reads leaves the swarm's version alone; one
  // that brings back a peer past its ttl (not yet dropped) does not: copies left it out.
  const bool same = result == registry_status::ok && now - p.last_seen < limits_.peer_ttl &&
                    p.network == network && p.upload_kbps == upload && p.asn == a.asn &&
                    std::memcmp(p.ip, a.address.bytes, 16) == 0 && p.country[0] == a.country[0] &&
                    p.country[1] == a.country[1];
  p.last_seen = now;
  if (!(known && a.keep_customer)) p.customer_hash = a.customer_hash;
  p.upload_kbps = upload;
  p.network = network;
  p.asn = a.asn;
  std::memcpy(p.ip, a.address.bytes, 16);
  p.country[0] = a.country[0];
  p.country[1] = a.country[1];
  lru_push_front(pi);
  if (result == registry_status::ok) {
    move_to_swarm_head(pi);  // freshest first
    if (!same) swarms()[si].version = ++hdr_->generation;
  } else {
    link_into_swarm(pi, si);
  }
  if (refs) *refs = {pi, si, p.customer_hash};
  return result;
}

void swarm_registry::fill_view(uint32_t peer, peer_view* out) const {
  const peer_record& p = peers()[peer];
  std::memcpy(out->peer_id, p.id, p.id_len);
  out->peer_id[p.id_len] = 0;
  out->peer_id_len = p.id_len;
  std::memcpy(out->address.bytes, p.ip, 16);
  out->asn = p.asn;
  out->country[0] = p.country[0];
  out->country[1] = p.country[1];
  out->network = static_cast<network_type>(p.network);
  out->upload_kbps = p.upload_kbps;
  out->last_seen = p.last_seen;
  out->customer_hash = p.customer_hash;
}

bool swarm_registry::find(std::string_view peer_id, peer_view* out, char* swarm_id_out,
                          size_t* swarm_id_len) const {
  if (peer_id.empty() || peer_id.size() > kRegistryPeerIdMax) return false;
  uint32_t pi = find_peer(peer_id, hash_id(peer_id));
  if (pi == kNil) return false;
  if (out) fill_view(pi, out);
  if (swarm_id_out && swarm_id_len) {
    const swarm_record& s = swarms()[peers()[pi].swarm];
    std::memcpy(swarm_id_out, s.id, s.id_len);
    *swarm_id_len = s.id_len;
  }
  return true;
}

bool swarm_registry::remove(std::string_view peer_id) {
  if (peer_id.empty() || peer_id.size() > kRegistryPeerIdMax) return false;
  uint32_t pi = find_peer(peer_id, hash_id(peer_id));
  if (pi == kNil) return false;
  remove_peer(pi);
  return true;
}

size_t swarm_registry::swarm_peers(std::string_view swarm_id, int64_t now, peer_view* out,
                                   size_t max) const {
  if (swarm_id.empty() || swarm_id.size() > kRegistrySwarmIdMax) return 0;
  uint32_t si = find_swarm(swarm_id, hash_id(swarm_id));
  if (si == kNil) return 0;
  const peer_record* p = peers();
  const swarm_link* l = links();
  size_t n = 0;
  for (uint32_t i = swarms()[si].head; i != kNil && n < max; i = l[i].next) {
    // Freshest first: the first expired peer means all after it are expired too.
    if (now - p[i].last_seen >= limits_.peer_ttl) break;
    fill_view(i, &out[n++]);
  }
  return n;
}

uint32_t swarm_registry::swarm_size(const announce_refs& at) const {
  return swarms()[at.swarm].count;
}

uint64_t swarm_registry::swarm_version(const announce_refs& at) const {
  return swarms()[at.swarm].version;
}

size_t swarm_registry::swarm_summaries(const announce_refs& at, int64_t now, peer_summary* out,
                                       size_t max, int64_t* live_until) const {
  const peer_record* p = peers();
  const swarm_link* l = links();
  // First the member indices from the compact link array, prefetching each record,
  // so the record reads below overlap instead of queueing one behind another.
  size_t listed = 0;
  for (uint32_t i = swarms()[at.swarm].head; i != kNil && listed < max; i = l[i].next) {
    // The first line only: it holds every ranking field. The second (the id) is
    // read only when a swarm is copied (id_at).
    __builtin_prefetch(&p[i]);
    out[listed++].ref = i;
  }
  size_t n = 0;
  int64_t oldest = now;
  for (size_t k = 0; k < listed; ++k) {
    uint32_t i = out[k].ref;
    if (now - p[i].last_seen >= limits_.peer_ttl) break;  // freshest first
    oldest = p[i].last_seen;
    peer_summary& s = out[n++];
    s.ref = i;
    std::memcpy(s.address.bytes, p[i].ip, 16);
    s.asn = p[i].asn;
    s.country[0] = p[i].country[0];
    s.country[1] = p[i].country[1];
    s.network = static_cast<network_type>(p[i].network);
    s.upload_kbps = p[i].upload_kbps;
  }
  if (live_until) *live_until = oldest + limits_.peer_ttl;
  return n;
}

std::string_view swarm_registry::id_at(uint32_t ref) const {
  const peer_record& p = peers()[ref];
  return {p.id, p.id_len};
}

uint32_t swarm_registry::swarm_size(std::string_view swarm_id) const {
  if (swarm_id.empty() || swarm_id.size() > kRegistrySwarmIdMax) return 0;
  uint32_t si = find_swarm(swarm_id, hash_id(swarm_id));
  return si == kNil ? 0 : swarms()[si].count;
}

size_t swarm_registry::expire(int64_t now, size_t max_count) {
  size_t n = 0;
  while (n < max_count && hdr_->lru_tail != kNil &&
         now - peers()[hdr_->lru_tail].last_seen >= limits_.peer_ttl) {
    remove_peer(hdr_->lru_tail);
    ++hdr_->expired;
    ++n;
  }
  return n;
}

registry_counters swarm_registry::counters() const {
  registry_counters c;
  c.peer_count = hdr_->peer_count;
  c.swarm_count = hdr_->swarm_count;
  c.peer_capacity = hdr_->peer_capacity;
  c.swarm_capacity = hdr_->swarm_capacity;
  c.expired = hdr_->expired;
  c.evicted = hdr_->evicted;
  c.refused = hdr_->refused;
  return c;
}

double swarm_registry::bytes_per_peer() const {
  return static_cast<double>(hdr_->block_size) / hdr_->peer_capacity;
}

}  // namespace p2p
