// The caller's mutex over a shared memory block (ngx_shmtx in nginx, a no-op or a
// std::mutex in tests). Cores take it only around block access, never while
// parsing, signing or rendering.
#pragma once

namespace p2p {

class block_lock {
 public:
  virtual ~block_lock() = default;
  virtual void lock() = 0;
  virtual void unlock() = 0;
};

class block_lock_scope {
 public:
  explicit block_lock_scope(block_lock& lock) : lock_(lock) { lock_.lock(); }
  ~block_lock_scope() { lock_.unlock(); }
  block_lock_scope(const block_lock_scope&) = delete;
  block_lock_scope& operator=(const block_lock_scope&) = delete;

 private:
  block_lock& lock_;
};

}  // namespace p2p
