// p2p-token: mints and checks access tokens and P2P session credentials with the same
// core the nginx module uses (module/access/access_token.h).
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "module/access/access_token.h"

namespace {

constexpr const char* kUsage =
    "usage:\n"
    "  p2p-token mint --key-id ID SECRET_SOURCE --scope PATTERN (--ttl S | --expires T)\n"
    "                 [--not-before T] [--ip ADDR[/BITS]] [--sid ID] [--now T]\n"
    "  p2p-token credential --key-id ID SECRET_SOURCE --content ID (--ttl S | --expires T)\n"
    "                 [--sid ID] [--now T]\n"
    "  p2p-token verify --key ID:SECRET... --path PATH [--client-ip ADDR] [--now T]\n"
    "                 [--skew S] TOKEN\n"
    "  p2p-token verify-credential --key ID:SECRET... [--now T] [--skew S] CREDENTIAL\n"
    "SECRET_SOURCE: --secret-file FILE (first line), the environment variable\n"
    "  P2P_TOKEN_SECRET, or --secret TEXT (visible to other users in ps).\n"
    "mint/credential print the result; verify prints the verdict (\"ok\", \"expired\",\n"
    "...) and exits 0 only for ok. Exit 2 on usage errors.\n";

struct options {
  std::string command, key_id, secret, scope, ip, sid, content, path, client_ip = "127.0.0.1";
  std::vector<std::string> keys;  // "id:secret"
  std::vector<std::string> positional;
  int64_t ttl = -1, expires = 0, not_before = 0, skew = 30;
  int64_t now = int64_t(std::time(nullptr));
  bool secret_given = false;
};

[[noreturn]] void usage_error(const std::string& why) {
  std::fprintf(stderr, "p2p-token: %s\n%s", why.c_str(), kUsage);
  std::exit(2);
}

int64_t parse_number(const std::string& flag, const std::string& text) {
  char* end = nullptr;
  errno = 0;
  long long v = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno != 0 || v < 0)
    usage_error(flag + " needs a non-negative integer");
  return v;
}

std::string read_secret_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) usage_error("cannot read " + path);
  std::string line;
  std::getline(in, line);
  return line;
}

options parse(int argc, char** argv) {
  options o;
  if (argc < 2) usage_error("no command");
  o.command = argv[1];
  for (int i = 2; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage_error(arg + " needs a value");
      return argv[++i];
    };
    if (arg == "--key-id")
      o.key_id = value();
    else if (arg == "--secret")
      o.secret = value(), o.secret_given = true;
    else if (arg == "--secret-file")
      o.secret = read_secret_file(value()), o.secret_given = true;
    else if (arg == "--scope")
      o.scope = value();
    else if (arg == "--ip")
      o.ip = value();
    else if (arg == "--sid")
      o.sid = value();
    else if (arg == "--content")
      o.content = value();
    else if (arg == "--path")
      o.path = value();
    else if (arg == "--client-ip")
      o.client_ip = value();
    else if (arg == "--key")
      o.keys.push_back(value());
    else if (arg == "--ttl")
      o.ttl = parse_number(arg, value());
    else if (arg == "--expires")
      o.expires = parse_number(arg, value());
    else if (arg == "--not-before")
      o.not_before = parse_number(arg, value());
    else if (arg == "--skew")
      o.skew = parse_number(arg, value());
    else if (arg == "--now")
      o.now = parse_number(arg, value());
    else if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      std::exit(0);
    } else if (arg.size() > 1 && arg[0] == '-')
      usage_error("unknown option " + arg);
    else
      o.positional.push_back(arg);
  }
  if (!o.secret_given) {
    if (const char* env = std::getenv("P2P_TOKEN_SECRET")) o.secret = env;
  }
  return o;
}

int64_t expiry_of(const options& o) {
  if ((o.ttl >= 0) == (o.expires != 0)) usage_error("give exactly one of --ttl and --expires");
  return o.expires ? o.expires : o.now + o.ttl;
}

void check_key(const options& o) {
  if (!p2p::key_id_valid(o.key_id)) usage_error("--key-id must be 1..32 of [A-Za-z0-9_-]");
  if (o.secret.size() < p2p::kMinSecretLength) usage_error("the secret must be at least 16 bytes");
}

int mint(const options& o) {
  check_key(o);
  p2p::access_token_claims claims;
  claims.expires = expiry_of(o);
  claims.not_before = o.not_before;
  claims.scope = o.scope;
  claims.client_ip = o.ip;
  claims.session_id = o.sid;
  if (!p2p::scope_valid(o.scope)) usage_error("--scope must start with '/' (no control bytes)");
  if (!o.ip.empty() && !p2p::ip_binding_valid(o.ip)) usage_error("--ip is not an address/net");
  if (!o.sid.empty() && !p2p::session_id_valid(o.sid)) usage_error("--sid: 1..64 [A-Za-z0-9_-]");
  std::string token = p2p::mint_access_token({o.key_id, o.secret}, claims);
  if (token.empty()) usage_error("invalid claims");
  std::printf("%s\n", token.c_str());
  return 0;
}

int mint_credential(const options& o) {
  check_key(o);
  p2p::session_credential_claims claims;
  claims.expires = expiry_of(o);
  claims.content = o.content;
  claims.session_id = o.sid;
  std::string credential = p2p::mint_session_credential({o.key_id, o.secret}, claims);
  if (credential.empty()) usage_error("invalid --content, --sid or expiry");
  std::printf("%s\n", credential.c_str());
  return 0;
}

struct ring_storage {
  std::vector<p2p::hmac_key> keys;
  explicit ring_storage(const std::vector<std::string>& specs) {
    if (specs.empty()) usage_error("give at least one --key ID:SECRET");
    for (const auto& spec : specs) {
      size_t colon = spec.find(':');
      if (colon == std::string::npos) usage_error("--key needs ID:SECRET");
      std::string_view all(spec);
      keys.push_back({all.substr(0, colon), all.substr(colon + 1)});
    }
  }
  p2p::hmac_key_ring ring() const { return {keys.data(), keys.size()}; }
};

int verify(const options& o) {
  if (o.positional.size() != 1) usage_error("give one token");
  if (o.path.empty()) usage_error("--path is required");
  ring_storage keys(o.keys);
  p2p::access_token_claims claims;
  auto verdict = p2p::verify_access_token(o.positional[0], keys.ring(), o.path, o.client_ip, o.now,
                                          o.skew, &claims);
  std::printf("%s\n", p2p::access_verdict_reason(verdict));
  return verdict == p2p::access_verdict::ok ? 0 : 1;
}

int verify_credential(const options& o) {
  if (o.positional.size() != 1) usage_error("give one credential");
  ring_storage keys(o.keys);
  p2p::session_credential_claims claims;
  auto verdict =
      p2p::verify_session_credential(o.positional[0], keys.ring(), o.now, o.skew, &claims);
  std::printf("%s\n", p2p::access_verdict_reason(verdict));
  if (verdict == p2p::access_verdict::ok)
    std::printf("content=%s\nexp=%lld\nsid=%s\n", claims.content.c_str(),
                static_cast<long long>(claims.expires), claims.session_id.c_str());
  return verdict == p2p::access_verdict::ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  options o = parse(argc, argv);
  if (o.command == "mint") return mint(o);
  if (o.command == "credential") return mint_credential(o);
  if (o.command == "verify") return verify(o);
  if (o.command == "verify-credential") return verify_credential(o);
  usage_error("unknown command " + o.command);
}
