// The one thread that owns the WebRTC stack: a GMainContext run by a dedicated thread.
// libnice, OpenSSL (DTLS) and usrsctp objects are only touched from inside it, so the
// layers need no locks; public API calls marshal onto it (README.md, "Threading").
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <thread>

typedef struct _GMainContext GMainContext;
typedef struct _GMainLoop GMainLoop;

namespace p2p {
namespace webrtc {

class event_loop {
 public:
  // The process-wide loop; created on first use, its thread stops when the last
  // reference goes away.
  static std::shared_ptr<event_loop> shared();

  event_loop();
  ~event_loop();
  event_loop(const event_loop&) = delete;
  event_loop& operator=(const event_loop&) = delete;

  GMainContext* context() const { return context_; }
  // Unique per loop ever created in this process (addresses can be reused).
  uint64_t serial() const { return serial_; }
  bool on_loop_thread() const;

  // Runs `task` on the loop thread soon (never inline).
  void post(std::function<void()> task);
  // Runs `task` on the loop thread and waits for it; inline when already on it.
  void run_sync(const std::function<void()>& task);
  // Runs `task` every `interval_ms` until it returns false or the timer is cancelled.
  // Loop thread only. Returns a timer id (never 0).
  unsigned add_timer(unsigned interval_ms, std::function<bool()> task);
  // Loop thread only; 0 is ignored.
  void cancel_timer(unsigned id);

 private:
  GMainContext* context_;
  GMainLoop* loop_;
  std::thread thread_;
  std::thread::id thread_id_;
  uint64_t serial_;
};

}  // namespace webrtc
}  // namespace p2p
