#include "client/webrtc/event_loop.h"

#include <glib.h>

#include <atomic>
#include <condition_variable>
#include <mutex>

namespace p2p {
namespace webrtc {

namespace {

struct posted_task {
  std::function<void()> run;
};

gboolean run_posted_task(gpointer data) {
  static_cast<posted_task*>(data)->run();
  return G_SOURCE_REMOVE;
}

void free_posted_task(gpointer data) { delete static_cast<posted_task*>(data); }

struct timer_task {
  std::function<bool()> run;
};

gboolean run_timer_task(gpointer data) {
  return static_cast<timer_task*>(data)->run() ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

void free_timer_task(gpointer data) { delete static_cast<timer_task*>(data); }

}  // namespace

std::shared_ptr<event_loop> event_loop::shared() {
  static std::mutex mutex;
  static std::weak_ptr<event_loop> instance;
  std::lock_guard<std::mutex> lock(mutex);
  std::shared_ptr<event_loop> loop = instance.lock();
  if (!loop) {
    loop = std::make_shared<event_loop>();
    instance = loop;
  }
  return loop;
}

event_loop::event_loop() : context_(g_main_context_new()), loop_(g_main_loop_new(context_, FALSE)) {
  static std::atomic<uint64_t> next_serial{1};
  serial_ = next_serial++;
  std::mutex mutex;
  std::condition_variable started;
  bool running = false;
  // The thread keeps its own references so it can outlive this object when the last
  // reference is dropped on the loop thread itself (then it is detached, not joined).
  GMainContext* context = g_main_context_ref(context_);
  GMainLoop* loop = g_main_loop_ref(loop_);
  thread_ = std::thread([context, loop, &mutex, &started, &running] {
    g_main_context_push_thread_default(context);
    {
      std::lock_guard<std::mutex> lock(mutex);
      running = true;
    }
    started.notify_one();
    g_main_loop_run(loop);
    // Destroy what is still queued (posted tasks own only weak references).
    while (g_main_context_iteration(context, FALSE)) {
    }
    g_main_context_pop_thread_default(context);
    g_main_loop_unref(loop);
    g_main_context_unref(context);
  });
  thread_id_ = thread_.get_id();
  std::unique_lock<std::mutex> lock(mutex);
  started.wait(lock, [&] { return running; });
}

event_loop::~event_loop() {
  g_main_loop_quit(loop_);
  g_main_context_wakeup(context_);
  if (std::this_thread::get_id() == thread_id_) {
    thread_.detach();
  } else {
    thread_.join();
  }
  g_main_loop_unref(loop_);
  g_main_context_unref(context_);
}

bool event_loop::on_loop_thread() const { return std::this_thread::get_id() == thread_id_; }

void event_loop::post(std::function<void()> task) {
  GSource* source = g_idle_source_new();
  g_source_set_priority(source, G_PRIORITY_DEFAULT);
  g_source_set_callback(source, run_posted_task, new posted_task{std::move(task)},
                        free_posted_task);
  g_source_attach(source, context_);
  g_source_unref(source);
}

void event_loop::run_sync(const std::function<void()>& task) {
  if (on_loop_thread()) {
    task();
    return;
  }
  std::mutex mutex;
  std::condition_variable done_cv;
  bool done = false;
  post([&] {
    task();
    std::lock_guard<std::mutex> lock(mutex);
    done = true;
    done_cv.notify_one();
  });
  std::unique_lock<std::mutex> lock(mutex);
  done_cv.wait(lock, [&] { return done; });
}

unsigned event_loop::add_timer(unsigned interval_ms, std::function<bool()> task) {
  GSource* source = g_timeout_source_new(interval_ms);
  g_source_set_callback(source, run_timer_task, new timer_task{std::move(task)}, free_timer_task);
  unsigned id = g_source_attach(source, context_);
  g_source_unref(source);
  return id;
}

void event_loop::cancel_timer(unsigned id) {
  if (id == 0) return;
  GSource* source = g_main_context_find_source_by_id(context_, id);
  if (source) g_source_destroy(source);
}

}  // namespace webrtc
}  // namespace p2p
