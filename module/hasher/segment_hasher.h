// SHA-256 of a segment file (or a byte range of it) for the hints filter, with the
// rule that keeps a live segment still being written from ever getting a wrong hash:
//   * a file modified less than `settle_ms` ago gets no hash (clients fetch it over
//     HTTP; the next playlist refresh carries its hash);
//   * the file's identity (device, inode, size, mtime) is taken before reading and
//     checked again on the open descriptor before and after reading; any change
//     means no hash.
// stat_segment runs on the event loop (metadata only); hash_segment reads the bytes
// and runs in a thread pool thread. Nothing here knows nginx.
#pragma once

#include <cstdint>
#include <string>

#include "common/hmac_sha256.h"

namespace p2p {

struct file_identity {
  uint64_t dev = 0;
  uint64_t ino = 0;
  int64_t size = 0;
  int64_t mtime_sec = 0;
  int64_t mtime_nsec = 0;
  bool operator==(const file_identity& o) const {
    return dev == o.dev && ino == o.ino && size == o.size && mtime_sec == o.mtime_sec &&
           mtime_nsec == o.mtime_nsec;
  }
};

enum class segment_hash_result {
  skipped,    // not a local file (no job)
  pending,    // stat done, bytes not hashed yet
  ok,         // digest is the SHA-256 of the bytes
  unsettled,  // modified within the settle time
  missing,    // no such regular file, or the range is outside it
  changed,    // the file changed while it was being hashed
  io_error,
};

const char* segment_hash_result_name(segment_hash_result result);

struct segment_hash_job {
  std::string path;
  uint64_t offset = 0;
  uint64_t length = UINT64_MAX;  // UINT64_MAX: to the end of the file
  int64_t settle_ms = 1000;
  int64_t now_unix_ms = 0;
  file_identity identity;
  segment_hash_result result = segment_hash_result::skipped;
  sha256_digest digest{};
  bool fresh = false;  // computed by hash_segment (not from a cache)
};

// Fills identity; false (and result set) when the file cannot be hashed now.
bool stat_segment(segment_hash_job* job);

// Reads and hashes; sets result to ok and fresh, or to why not.
void hash_segment(segment_hash_job* job);

}  // namespace p2p
