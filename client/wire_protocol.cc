#include "client/wire_protocol.h"

#include "common/hex.h"

namespace p2p {

namespace {

void put_u32(std::string* out, uint32_t v) {
  out->push_back(static_cast<char>(v >> 24));
  out->push_back(static_cast<char>(v >> 16));
  out->push_back(static_cast<char>(v >> 8));
  out->push_back(static_cast<char>(v));
}

uint32_t get_u32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

std::string header(wire_type type) {
  std::string out;
  out.push_back(static_cast<char>(wire_version));
  out.push_back(static_cast<char>(type));
  return out;
}

bool swarm_char(uint8_t c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

}  // namespace

const char* wire_error_name(wire_error error) {
  switch (error) {
    case wire_error::ok:
      return "ok";
    case wire_error::too_short:
      return "too short";
    case wire_error::bad_version:
      return "bad version";
    case wire_error::bad_type:
      return "bad type";
    case wire_error::bad_length:
      return "bad length";
    case wire_error::bad_value:
      return "bad value";
  }
  return "unknown";
}

wire_error wire_parse(const uint8_t* data, size_t size, wire_frame* out) {
  if (size < 2) return wire_error::too_short;
  if (data[0] != wire_version) return wire_error::bad_version;
  const uint8_t* p = data + 2;
  size_t n = size - 2;
  *out = wire_frame();
  switch (static_cast<wire_type>(data[1])) {
    case wire_type::hello: {
      if (n < 2) return wire_error::too_short;
      size_t len = p[1];
      if (n != 2 + len) return wire_error::bad_length;
      if (len == 0 || len > wire_max_swarm_id) return wire_error::bad_value;
      for (size_t i = 0; i < len; ++i) {
        if (!swarm_char(p[2 + i])) return wire_error::bad_value;
      }
      out->type = wire_type::hello;
      out->flags = p[0];
      out->swarm_id.assign(reinterpret_cast<const char*>(p + 2), len);
      return wire_error::ok;
    }
    case wire_type::have:
    case wire_type::lost: {
      if (n < 2) return wire_error::too_short;
      size_t count = (size_t{p[0]} << 8) | p[1];
      if (count == 0 || count > wire_max_hashes_per_frame) return wire_error::bad_value;
      if (n != 2 + count * 32) return wire_error::bad_length;
      out->type = static_cast<wire_type>(data[1]);
      out->hashes.resize(count);
      for (size_t i = 0; i < count; ++i) {
        std::copy(p + 2 + i * 32, p + 2 + (i + 1) * 32, out->hashes[i].begin());
      }
      return wire_error::ok;
    }
    case wire_type::request: {
      if (n != 4 + 32) return n < 36 ? wire_error::too_short : wire_error::bad_length;
      out->type = wire_type::request;
      out->request_id = get_u32(p);
      out->hashes.resize(1);
      std::copy(p + 4, p + 36, out->hashes[0].begin());
      return wire_error::ok;
    }
    case wire_type::data: {
      if (n < 12) return wire_error::too_short;
      out->type = wire_type::data;
      out->request_id = get_u32(p);
      out->total_size = get_u32(p + 4);
      out->offset = get_u32(p + 8);
      out->payload = p + 12;
      out->payload_size = n - 12;
      if (out->payload_size > wire_max_chunk) return wire_error::bad_length;
      if (out->total_size == 0 || out->total_size > wire_max_item_size) {
        return wire_error::bad_value;
      }
      // Empty chunks would let a peer keep a request alive forever without progress.
      if (out->payload_size == 0) return wire_error::bad_length;
      if (uint64_t{out->offset} + out->payload_size > out->total_size) {
        return wire_error::bad_value;
      }
      return wire_error::ok;
    }
    case wire_type::cancel:
    case wire_type::absent: {
      if (n != 4) return n < 4 ? wire_error::too_short : wire_error::bad_length;
      out->type = static_cast<wire_type>(data[1]);
      out->request_id = get_u32(p);
      return wire_error::ok;
    }
  }
  return wire_error::bad_type;
}

std::string wire_hello(uint8_t flags, const std::string& swarm_id) {
  std::string out = header(wire_type::hello);
  out.push_back(static_cast<char>(flags));
  out.push_back(static_cast<char>(swarm_id.size()));
  out += swarm_id;
  return out;
}

std::string wire_have(wire_type type, const std::vector<content_hash>& hashes) {
  std::string out = header(type);
  out.push_back(static_cast<char>(hashes.size() >> 8));
  out.push_back(static_cast<char>(hashes.size()));
  for (const auto& hash : hashes) out.append(reinterpret_cast<const char*>(hash.data()), 32);
  return out;
}

std::string wire_request(uint32_t request_id, const content_hash& hash) {
  std::string out = header(wire_type::request);
  put_u32(&out, request_id);
  out.append(reinterpret_cast<const char*>(hash.data()), 32);
  return out;
}

std::string wire_data(uint32_t request_id, uint32_t total_size, uint32_t offset,
                      const uint8_t* bytes, size_t size) {
  std::string out = header(wire_type::data);
  put_u32(&out, request_id);
  put_u32(&out, total_size);
  put_u32(&out, offset);
  out.append(reinterpret_cast<const char*>(bytes), size);
  return out;
}

std::string wire_cancel(uint32_t request_id) {
  std::string out = header(wire_type::cancel);
  put_u32(&out, request_id);
  return out;
}

std::string wire_absent(uint32_t request_id) {
  std::string out = header(wire_type::absent);
  put_u32(&out, request_id);
  return out;
}

bool content_hash_from_hex(const std::string& hex, content_hash* out) {
  if (hex.size() != 64) return false;
  for (size_t i = 0; i < 32; ++i) {
    int hi = hex_digit_value(hex[2 * i]);
    int lo = hex_digit_value(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    (*out)[i] = static_cast<uint8_t>(hi * 16 + lo);
  }
  return true;
}

std::string content_hash_hex(const content_hash& hash) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  for (uint8_t b : hash) {
    out.push_back(digits[b >> 4]);
    out.push_back(digits[b & 15]);
  }
  return out;
}

bool chunk_assembler::add(const wire_frame& frame) {
  if (frame.type != wire_type::data) return false;
  if (!started_) {
    if (frame.total_size > max_size_ || frame.offset != 0) return false;
    started_ = true;
    total_ = frame.total_size;
    bytes_.reserve(total_);
  }
  if (frame.total_size != total_ || frame.offset != bytes_.size()) return false;
  if (bytes_.size() + frame.payload_size > total_) return false;
  bytes_.append(reinterpret_cast<const char*>(frame.payload), frame.payload_size);
  return true;
}

}  // namespace p2p
