#include "module/hasher/segment_hasher.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <vector>

namespace p2p {
namespace {

// Large enough that read syscalls cost little next to SHA-256 (~2 GB/s), small
// enough to stay in L2 cache.
constexpr size_t kReadChunk = 256 * 1024;

file_identity identity_of(const struct stat& st) {
  file_identity id;
  id.dev = static_cast<uint64_t>(st.st_dev);
  id.ino = static_cast<uint64_t>(st.st_ino);
  id.size = static_cast<int64_t>(st.st_size);
  id.mtime_sec = static_cast<int64_t>(st.st_mtim.tv_sec);
  id.mtime_nsec = static_cast<int64_t>(st.st_mtim.tv_nsec);
  return id;
}

struct fd_closer {
  int fd;
  ~fd_closer() {
    if (fd >= 0) close(fd);
  }
};

struct md_ctx_deleter {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};

}  // namespace

const char* segment_hash_result_name(segment_hash_result result) {
  switch (result) {
    case segment_hash_result::skipped:
      return "skipped";
    case segment_hash_result::pending:
      return "pending";
    case segment_hash_result::ok:
      return "ok";
    case segment_hash_result::unsettled:
      return "unsettled";
    case segment_hash_result::missing:
      return "missing";
    case segment_hash_result::changed:
      return "changed";
    case segment_hash_result::io_error:
      return "io error";
  }
  return "unknown";
}

bool stat_segment(segment_hash_job* job) {
  struct stat st;
  if (stat(job->path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
    job->result = segment_hash_result::missing;
    return false;
  }
  job->identity = identity_of(st);
  uint64_t size = static_cast<uint64_t>(st.st_size);
  if (job->offset > size || (job->length != UINT64_MAX && job->length > size - job->offset)) {
    job->result = segment_hash_result::missing;
    return false;
  }
  int64_t mtime_ms = job->identity.mtime_sec * 1000 + job->identity.mtime_nsec / 1000000;
  // A future mtime is as untrustworthy as a recent one.
  if (job->now_unix_ms - mtime_ms < job->settle_ms) {
    job->result = segment_hash_result::unsettled;
    return false;
  }
  job->result = segment_hash_result::pending;
  return true;
}

void hash_segment(segment_hash_job* job) {
  fd_closer f{open(job->path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW)};
  if (f.fd < 0) {
    job->result = errno == ENOENT ? segment_hash_result::missing : segment_hash_result::io_error;
    return;
  }
  struct stat st;
  if (fstat(f.fd, &st) != 0 || !(identity_of(st) == job->identity)) {
    job->result = segment_hash_result::changed;
    return;
  }
  uint64_t remaining = job->length == UINT64_MAX
                           ? static_cast<uint64_t>(job->identity.size) - job->offset
                           : job->length;
  std::unique_ptr<EVP_MD_CTX, md_ctx_deleter> md(EVP_MD_CTX_new());
  if (!md || EVP_DigestInit_ex(md.get(), EVP_sha256(), nullptr) != 1) {
    job->result = segment_hash_result::io_error;
    return;
  }
  std::vector<unsigned char> buf(kReadChunk);
  off_t pos = static_cast<off_t>(job->offset);
  while (remaining > 0) {
    size_t want = remaining < kReadChunk ? static_cast<size_t>(remaining) : kReadChunk;
    ssize_t n = pread(f.fd, buf.data(), want, pos);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {  // shorter than it was a moment ago: truncated under us
      job->result = n == 0 ? segment_hash_result::changed : segment_hash_result::io_error;
      return;
    }
    EVP_DigestUpdate(md.get(), buf.data(), static_cast<size_t>(n));
    pos += n;
    remaining -= static_cast<uint64_t>(n);
  }
  if (fstat(f.fd, &st) != 0 || !(identity_of(st) == job->identity)) {
    job->result = segment_hash_result::changed;
    return;
  }
  unsigned int len = 0;
  EVP_DigestFinal_ex(md.get(), job->digest.data(), &len);
  job->result = segment_hash_result::ok;
  job->fresh = true;
}

}  // namespace p2p
