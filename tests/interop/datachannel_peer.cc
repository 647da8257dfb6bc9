// Our WebRTC peer as a process for interop tests: signalling is JSON lines on stdin and
// stdout (offer/answer/candidate), so a test driver (Node: node-datachannel, or a
// headless Chromium page) can relay it. Once the data channel is open it sends `--bulk`
// bytes of a seeded pattern in max-message-size chunks and `--messages` small text
// messages, checks byte for byte what the peer sends, and reports "verified".
//
// Usage: datachannel_peer --role=offer|answer [--seed=1] [--peer-seed=2]
//                         [--bulk=1048576] [--messages=1000]
#include <jansson.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <mutex>
#include <string>

#include "client/webrtc/peer_connection.h"

using namespace p2p::webrtc;

namespace {

std::mutex g_output_mutex;

void emit(json_t* object) {
  char* text = json_dumps(object, JSON_COMPACT);
  {
    std::lock_guard<std::mutex> lock(g_output_mutex);
    std::fputs(text, stdout);
    std::fputc('\n', stdout);
    std::fflush(stdout);
  }
  free(text);
  json_decref(object);
}

// The same generator as tests/interop/pattern.js.
class pattern {
 public:
  explicit pattern(uint32_t seed) : state_(seed) {}
  uint8_t next() {
    state_ = state_ * 1664525u + 1013904223u;
    return static_cast<uint8_t>(state_ >> 24);
  }

 private:
  uint32_t state_;
};

std::string small_message(int index, uint32_t seed) {
  return "message " + std::to_string(index) + " from " + std::to_string(seed);
}

struct receive_check {
  std::mutex mutex;
  pattern expected{0};
  uint32_t seed = 0;
  size_t bulk_expected = 0;
  size_t bulk_received = 0;
  int messages_expected = 0;
  int messages_received = 0;
  bool failed = false;
  bool reported = false;
};

std::string option(int argc, char** argv, const char* name, const char* fallback) {
  std::string prefix = std::string("--") + name + "=";
  for (int i = 1; i < argc; ++i)
    if (std::strncmp(argv[i], prefix.c_str(), prefix.size()) == 0) return argv[i] + prefix.size();
  return fallback;
}

}  // namespace

int main(int argc, char** argv) {
  alarm(120);  // never outlive a broken test driver
  std::string role = option(argc, argv, "role", "offer");
  uint32_t seed = static_cast<uint32_t>(std::stoul(option(argc, argv, "seed", "1")));
  uint32_t peer_seed = static_cast<uint32_t>(std::stoul(option(argc, argv, "peer-seed", "2")));
  size_t bulk = std::stoul(option(argc, argv, "bulk", "1048576"));
  int messages = std::stoi(option(argc, argv, "messages", "1000"));

  peer_configuration configuration;
  configuration.local_addresses = {"127.0.0.1"};
  configuration.connect_timeout_ms = 20000;
  std::shared_ptr<peer_connection> connection = peer_connection::create(configuration);
  if (!connection) return 2;

  receive_check check;
  check.expected = pattern(peer_seed);
  check.seed = peer_seed;
  check.bulk_expected = bulk;
  check.messages_expected = messages;
  std::atomic<bool> verified{false};
  std::atomic<bool> failed{false};

  auto report_failure = [&failed](const std::string& reason) {
    failed = true;
    json_t* out = json_object();
    json_object_set_new(out, "type", json_string("failed"));
    json_object_set_new(out, "reason", json_string(reason.c_str()));
    emit(out);
  };

  auto on_message = [&](const uint8_t* data, size_t size, bool text) {
    std::lock_guard<std::mutex> lock(check.mutex);
    if (check.failed) return;
    if (!text) {
      for (size_t i = 0; i < size; ++i) {
        if (check.bulk_received + i >= check.bulk_expected || data[i] != check.expected.next()) {
          check.failed = true;
          report_failure("bulk byte " + std::to_string(check.bulk_received + i) + " differs");
          return;
        }
      }
      check.bulk_received += size;
    } else {
      std::string got(reinterpret_cast<const char*>(data), size);
      if (got != small_message(check.messages_received, check.seed)) {
        check.failed = true;
        report_failure("message " + std::to_string(check.messages_received) + " differs: " + got);
        return;
      }
      ++check.messages_received;
    }
    if (!check.reported && check.bulk_received == check.bulk_expected &&
        check.messages_received == check.messages_expected) {
      check.reported = true;
      verified = true;
      json_t* out = json_object();
      json_object_set_new(out, "type", json_string("verified"));
      json_object_set_new(out, "bulk", json_integer(static_cast<json_int_t>(check.bulk_received)));
      json_object_set_new(out, "messages", json_integer(check.messages_received));
      emit(out);
    }
  };

  auto start_channel = [&](const std::shared_ptr<data_channel>& channel) {
    json_t* out = json_object();
    json_object_set_new(out, "type", json_string("open"));
    json_object_set_new(out, "label", json_string(channel->label().c_str()));
    json_object_set_new(out, "stream", json_integer(channel->stream_id()));
    json_object_set_new(out, "max_message_size",
                        json_integer(static_cast<json_int_t>(channel->max_message_size())));
    emit(out);
    pattern source(seed);
    size_t chunk = channel->max_message_size();
    std::vector<uint8_t> data(chunk);
    for (size_t offset = 0; offset < bulk; offset += chunk) {
      size_t size = std::min(chunk, bulk - offset);
      for (size_t i = 0; i < size; ++i) data[i] = source.next();
      if (!channel->send(data.data(), size)) report_failure("send refused");
    }
    for (int i = 0; i < messages; ++i)
      if (!channel->send_text(small_message(i, seed))) report_failure("send_text refused");
  };

  std::shared_ptr<data_channel> channel;
  connection->on_local_description([&role](const std::string& sdp) {
    json_t* out = json_object();
    json_object_set_new(out, "type", json_string(role == "offer" ? "offer" : "answer"));
    json_object_set_new(out, "sdp", json_string(sdp.c_str()));
    emit(out);
  });
  connection->on_local_candidate([](const std::string& candidate) {
    json_t* out = json_object();
    json_object_set_new(out, "type", json_string("candidate"));
    json_object_set_new(out, "candidate", json_string(candidate.c_str()));
    emit(out);
  });
  connection->on_state([&](peer_state state) {
    json_t* out = json_object();
    json_object_set_new(out, "type", json_string("state"));
    json_object_set_new(out, "state", json_string(peer_state_name(state)));
    emit(out);
    if (state == peer_state::failed) report_failure("connection failed: " + connection->error());
  });
  connection->on_data_channel([&](std::shared_ptr<data_channel> incoming) {
    channel = incoming;
    incoming->on_message(on_message);
    start_channel(incoming);
  });
  if (role == "offer") {
    channel = connection->create_data_channel("interop");
    std::weak_ptr<data_channel> weak = channel;
    channel->on_message(on_message);
    channel->on_open([&, weak] {
      if (auto opened = weak.lock()) start_channel(opened);
    });
    connection->create_offer();  // emitted by on_local_description
  }

  std::string line;
  while (std::getline(std::cin, line)) {
    json_error_t error;
    json_t* in = json_loads(line.c_str(), 0, &error);
    if (!in) continue;
    std::string type = json_string_value(json_object_get(in, "type"))
                           ? json_string_value(json_object_get(in, "type"))
                           : "";
    const char* sdp = json_string_value(json_object_get(in, "sdp"));
    const char* candidate = json_string_value(json_object_get(in, "candidate"));
    std::string reason;
    if (type == "offer" && sdp && role == "answer") {
      if (connection->create_answer(sdp, &reason).empty()) report_failure("bad offer: " + reason);
    } else if (type == "answer" && sdp && role == "offer") {
      if (!connection->set_remote_answer(sdp, &reason)) report_failure("bad answer: " + reason);
    } else if (type == "candidate") {
      connection->add_remote_candidate(candidate ? candidate : "");
    } else if (type == "close") {
      json_decref(in);
      break;
    }
    json_decref(in);
  }
  connection->close();
  connection.reset();
  channel.reset();
  return verified && !failed ? 0 : 1;
}
