// Time as the scheduler sees it: injected, so tests run on a simulated clock.
#pragma once

#include <chrono>
#include <cstdint>

namespace p2p {

class clock_source {
 public:
  virtual ~clock_source() = default;
  virtual int64_t now_ms() const = 0;
};

class steady_clock_source : public clock_source {
 public:
  int64_t now_ms() const override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }
};

// Wall-clock Unix time, for what is dated in it (DASH availability times, credential
// expiry); everything scheduled uses a clock_source instead.
inline int64_t unix_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class manual_clock : public clock_source {
 public:
  int64_t now_ms() const override { return now_; }
  void advance(int64_t ms) { now_ += ms; }
  void set(int64_t ms) { now_ = ms; }

 private:
  int64_t now_ = 1000000;
};

}  // namespace p2p
