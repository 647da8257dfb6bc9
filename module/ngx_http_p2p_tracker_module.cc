// ngx_http_p2p_tracker_module: the tracker (init/peers/track), distributor and
// analytics endpoints as content handlers, with swarm and analytics state in shared
// memory zones that every worker maps and that survive `nginx -s reload`.
// Thin glue: the logic lives in tracker/ (nginx-free, unit tested). Directives and
// the JSON contract: tracker/README.md.

extern "C" {
#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
}

#include <openssl/rand.h>

#include <cctype>
#include <cstring>
#include <exception>
#include <new>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "module/ngx_p2p_conf.h"
#include "tracker/analytics_store.h"
#include "tracker/distributor.h"
#include "tracker/ticket.h"
#include "tracker/tracker_api.h"

extern "C" {
extern ngx_module_t ngx_http_p2p_tracker_module;
}

namespace {

// Types

enum class endpoint_role { none, tracker, distributor, analytics };

// One per zone, in the cycle pool. `block` lies inside the zone's slab pool, so it is
// at the same address in every worker and is handed over to the next cycle on reload.
struct zone_ctx {
  void* block;
  size_t block_size;
  ngx_slab_pool_t* shpool;
  size_t zone_size;
  bool analytics;  // which core formats the block
  // This worker's copies of unchanged swarms and scratch (tracker zones); made on first use
  // after the fork, so every worker has its own. Freed with the process.
  p2p::tracker_workspace* workspace;
};

// One distributor setting as written, replayed at merge time so `p2p_distributor_set`
// may come before or after the customers that inherit it.
struct distributor_entry {
  ngx_str_t customer;  // len 0: the defaults
  ngx_str_t key;
  ngx_str_t value;
};

using exclusion_map = std::unordered_map<uint64_t, p2p::exclusion_rules>;

struct tracker_loc_conf {
  endpoint_role role;
  ngx_shm_zone_t* zone;  // tracker or analytics zone of this location
  ngx_str_t secret;
  time_t ticket_lifetime;
  time_t ticket_skew;
  time_t announce_interval;
  time_t peer_ttl;
  time_t min_evict_age;
  ngx_uint_t max_peers_per_swarm;
  ngx_uint_t max_numwant;
  size_t tracker_body_max;
  size_t analytics_body_max;
  ngx_http_complex_value_t* asn;
  ngx_http_complex_value_t* country;
  exclusion_map* exclusions;         // shared with children until they set their own
  ngx_array_t* distributor_entries;  // distributor_entry
  ngx_flag_t kill_switch;
  // Built at merge time, destroyed by the configuration pool's cleanups.
  p2p::tracker_settings* tracker_settings;
  p2p::distributor_settings* distributor_settings;
  // Where the endpoint directive stood, for errors found at merge time.
  ngx_str_t role_file;
  ngx_uint_t role_line;
};

// Prototypes

void* create_loc_conf(ngx_conf_t* cf) noexcept;
char* merge_loc_conf(ngx_conf_t* cf, void* parent, void* child) noexcept;
char* set_zone(ngx_conf_t* cf, ngx_command_t* cmd, void* conf) noexcept;
char* set_endpoint(ngx_conf_t* cf, ngx_command_t* cmd, void* conf) noexcept;
char* set_secret(ngx_conf_t* cf, ngx_command_t* cmd, void* conf) noexcept;
char* set_exclusion(ngx_conf_t* cf, ngx_command_t* cmd, void* conf) noexcept;
char* set_distributor_default(ngx_conf_t* cf, ngx_command_t* cmd, void* conf) noexcept;
char* set_distributor_customer(ngx_conf_t* cf, ngx_command_t* cmd, void* conf) noexcept;
ngx_int_t content_handler(ngx_http_request_t* r) noexcept;
void body_handler(ngx_http_request_t* r) noexcept;

// Directives

constexpr ngx_uint_t kAnyLevel = NGX_HTTP_MAIN_CONF | NGX_HTTP_SRV_CONF | NGX_HTTP_LOC_CONF;

// Tags keep the two kinds of zone apart: one name cannot serve both.
int tracker_zone_tag;
int analytics_zone_tag;

ngx_command_t commands[] = {
    {ngx_string("p2p_tracker_zone"), NGX_HTTP_MAIN_CONF | NGX_CONF_TAKE12, set_zone, 0, 0,
     &tracker_zone_tag},
    {ngx_string("p2p_analytics_zone"), NGX_HTTP_MAIN_CONF | NGX_CONF_TAKE12, set_zone, 0, 0,
     &analytics_zone_tag},
    {ngx_string("p2p_tracker"), NGX_HTTP_LOC_CONF | NGX_CONF_TAKE1, set_endpoint,
     NGX_HTTP_LOC_CONF_OFFSET, 0, &tracker_zone_tag},
    {ngx_string("p2p_analytics"), NGX_HTTP_LOC_CONF | NGX_CONF_TAKE1, set_endpoint,
     NGX_HTTP_LOC_CONF_OFFSET, 0, &analytics_zone_tag},
    {ngx_string("p2p_distributor"), NGX_HTTP_LOC_CONF | NGX_CONF_FLAG, set_endpoint,
     NGX_HTTP_LOC_CONF_OFFSET, 0, nullptr},
    {ngx_string("p2p_tracker_secret"), kAnyLevel | NGX_CONF_TAKE1, set_secret,
     NGX_HTTP_LOC_CONF_OFFSET, offsetof(tracker_loc_conf, secret), nullptr},
    {ngx_string("p2p_tracker_ticket_lifetime"), kAnyLevel | NGX_CONF_TAKE1, ngx_conf_set_sec_slot,
     NGX_HTTP_LOC_CONF_OFFSET, offsetof(tracker_loc_conf, ticket_lifetime), nullptr},
    {ngx_string("p2p_tracker_ticket_skew"), kAnyLevel | NGX_CONF_TAKE1, ngx_conf_set_sec_slot,
     NGX_HTTP_LOC_CONF_OFFSET, offsetof(tracker_loc_conf, ticket_skew), nullptr},
    {ngx_string("p2p_tracker_announce_interval"), kAnyLevel | NGX_CONF_TAKE1, ngx_conf_set_sec_slot,
     NGX_HTTP_LOC_CONF_OFFSET, offsetof(tracker_loc_conf, announce_interval), nullptr},
    {ngx_string("p2p_tracker_peer_ttl"), kAnyLevel | NGX_CONF_TAKE1, ngx_conf_set_sec_slot,
     NGX_HTTP_LOC_CONF_OFFSET, offsetof(tracker_loc_conf, peer_ttl), nullptr},
    {ngx_string("p2p_tracker_min_evict_age"), kAnyLevel | NGX_CONF_TAKE1, ngx_conf_set_sec_slot,
     NGX_HTTP_LOC_CONF_OFFSET, offsetof(tracker_loc_conf, min_evict_age), nullptr},
    {ngx_string("p2p_tracker_max_peers_per_swarm"), kAnyLevel | NGX_CONF_TAKE1,
     ngx_conf_set_num_slot, NGX_HTTP_LOC_CONF_OFFSET,
     offsetof(tracker_loc_conf, max_peers_per_swarm), nullptr},
    {ngx_string("p2p_tracker_max_numwant"), kAnyLevel | NGX_CONF_TAKE1, ngx_conf_set_num_slot,
     NGX_HTTP_LOC_CONF_OFFSET, offsetof(tracker_loc_conf, max_numwant), nullptr},
    {ngx_string("p2p_tracker_body_max"), kAnyLevel | NGX_CONF_TAKE1, ngx_conf_set_size_slot,
     NGX_HTTP_LOC_CONF_OFFSET, offsetof(tracker_loc_conf, tracker_body_max), nullptr},
    {ngx_string("p2p_tracker_asn"), kAnyLevel | NGX_CONF_TAKE1, ngx_http_set_complex_value_slot,
     NGX_HTTP_LOC_CONF_OFFSET, offsetof(tracker_loc_conf, asn), nullptr},
    {ngx_string("p2p_tracker_country"), kAnyLevel | NGX_CONF_TAKE1, ngx_http_set_complex_value_slot,
     NGX_HTTP_LOC_CONF_OFFSET, offsetof(tracker_loc_conf, country), nullptr},
    {ngx_string("p2p_tracker_exclude"), kAnyLevel | NGX_CONF_2MORE, set_exclusion,
     NGX_HTTP_LOC_CONF_OFFSET, 0, nullptr},
    {ngx_string("p2p_distributor_set"), kAnyLevel | NGX_CONF_TAKE2, set_distributor_default,
     NGX_HTTP_LOC_CONF_OFFSET, 0, nullptr},
    {ngx_string("p2p_distributor_customer"), kAnyLevel | NGX_CONF_2MORE, set_distributor_customer,
     NGX_HTTP_LOC_CONF_OFFSET, 0, nullptr},
    {ngx_string("p2p_distributor_kill_switch"), kAnyLevel | NGX_CONF_FLAG, ngx_conf_set_flag_slot,
     NGX_HTTP_LOC_CONF_OFFSET, offsetof(tracker_loc_conf, kill_switch), nullptr},
    {ngx_string("p2p_analytics_body_max"), kAnyLevel | NGX_CONF_TAKE1, ngx_conf_set_size_slot,
     NGX_HTTP_LOC_CONF_OFFSET, offsetof(tracker_loc_conf, analytics_body_max), nullptr},
    ngx_null_command};

// Module context

ngx_http_module_t module_ctx = {
    nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, create_loc_conf, merge_loc_conf,
};

}  // namespace

// Module

extern "C" {
ngx_module_t ngx_http_p2p_tracker_module = {NGX_MODULE_V1,
                                            &module_ctx,
                                            commands,
                                            NGX_HTTP_MODULE,
                                            nullptr,  // init master
                                            nullptr,  // init module
                                            nullptr,  // init process
                                            nullptr,  // init thread
                                            nullptr,  // exit thread
                                            nullptr,  // exit process
                                            nullptr,  // exit master
                                            NGX_MODULE_V1_PADDING};
}

namespace {

// Code

using p2p_conf::view;

char* conf_error() { return static_cast<char*>(NGX_CONF_ERROR); }

// A C++ object owned by an nginx pool: deleted by the pool's cleanup.
template <class T>
T* pool_new(ngx_pool_t* pool) {
  ngx_pool_cleanup_t* cleanup = ngx_pool_cleanup_add(pool, 0);
  if (cleanup == nullptr) throw std::bad_alloc();
  T* object = new T();
  cleanup->handler = [](void* data) { delete static_cast<T*>(data); };
  cleanup->data = object;
  return object;
}

// The zone's slab mutex, as the cores' lock.
class zone_lock final : public p2p::block_lock {
 public:
  explicit zone_lock(ngx_slab_pool_t* shpool) : shpool_(shpool) {}
  void lock() override { ngx_shmtx_lock(&shpool_->mutex); }
  void unlock() override { ngx_shmtx_unlock(&shpool_->mutex); }

 private:
  ngx_slab_pool_t* shpool_;
};

// Stored in the slab pool (shpool->data) so a process that finds the zone already
// existing (shm.exists) can locate the block.
struct zone_anchor {
  void* block;
  size_t block_size;
};

ngx_int_t init_zone(ngx_shm_zone_t* shm_zone, void* data) noexcept {
  auto* ctx = static_cast<zone_ctx*>(shm_zone->data);
  auto* previous = static_cast<zone_ctx*>(data);
  auto* shpool = reinterpret_cast<ngx_slab_pool_t*>(shm_zone->shm.addr);
  ctx->shpool = shpool;
  ctx->zone_size = shm_zone->shm.size;
  if (previous || shm_zone->shm.exists) {
    // Reload with an unchanged zone: same mapping, same block; the cores check the
    // block's magic and layout version before using it.
    auto* anchor = static_cast<zone_anchor*>(shpool->data);
    ctx->block = previous ? previous->block : anchor->block;
    ctx->block_size = previous ? previous->block_size : anchor->block_size;
    bool valid = ctx->analytics ? p2p::analytics_store().open(ctx->block, ctx->block_size)
                                : p2p::swarm_registry().open(ctx->block, ctx->block_size);
    if (valid) return NGX_OK;
    // A new binary with another layout: the soft state is dropped, the zone kept.
    ngx_log_error(NGX_LOG_NOTICE, shm_zone->shm.log, 0,
                  "p2p zone \"%V\" has an older layout, starting empty", &shm_zone->shm.name);
    bool reused = false;
    bool ok = ctx->analytics
                  ? p2p::analytics_store().attach(ctx->block, ctx->block_size, 1, &reused)
                  : p2p::swarm_registry().attach(ctx->block, ctx->block_size, 1, &reused);
    return ok ? NGX_OK : NGX_ERROR;
  }

  size_t name_len = sizeof(" in p2p zone \"\"") + shm_zone->shm.name.len;
  shpool->log_ctx = static_cast<u_char*>(ngx_slab_alloc(shpool, name_len));
  if (shpool->log_ctx == nullptr) return NGX_ERROR;
  ngx_sprintf(shpool->log_ctx, " in p2p zone \"%V\"%Z", &shm_zone->shm.name);
  auto* anchor = static_cast<zone_anchor*>(ngx_slab_alloc(shpool, sizeof(zone_anchor)));
  if (anchor == nullptr) return NGX_ERROR;

  // The rest of the zone, as one run of pages: the block the cores lay out.
  size_t block_size = shpool->pfree << ngx_pagesize_shift;
  void* block = ngx_slab_alloc(shpool, block_size);
  if (block == nullptr) return NGX_ERROR;
  uint64_t seed = 0;
  if (RAND_bytes(reinterpret_cast<unsigned char*>(&seed), sizeof seed) != 1)
    seed = static_cast<uint64_t>(ngx_time()) ^ reinterpret_cast<uintptr_t>(block);
  bool reused = false;
  bool ok = ctx->analytics ? p2p::analytics_store().attach(block, block_size, seed, &reused)
                           : p2p::swarm_registry().attach(block, block_size, seed, &reused);
  if (!ok) {
    ngx_log_error(NGX_LOG_EMERG, shm_zone->shm.log, 0, "p2p zone \"%V\" is too small",
                  &shm_zone->shm.name);
    return NGX_ERROR;
  }
  anchor->block = block;
  anchor->block_size = block_size;
  shpool->data = anchor;
  ctx->block = block;
  ctx->block_size = block_size;
  return NGX_OK;
}

// p2p_tracker_zone / p2p_analytics_zone name size (or name:size)
char* set_zone(ngx_conf_t* cf, ngx_command_t* cmd, void* conf) noexcept {
  ngx_str_t name;
  ssize_t size;
  if (!p2p_conf::zone_args(cf, &name, &size)) return conf_error();
  ngx_shm_zone_t* shm_zone = ngx_shared_memory_add(cf, &name, size, cmd->post);
  if (shm_zone == nullptr) return conf_error();
  if (shm_zone->data) {
    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "duplicate zone \"%V\"", &name);
    return conf_error();
  }
  auto* ctx = static_cast<zone_ctx*>(ngx_pcalloc(cf->pool, sizeof(zone_ctx)));
  if (ctx == nullptr) return conf_error();
  ctx->analytics = cmd->post == &analytics_zone_tag;
  shm_zone->init = init_zone;
  shm_zone->data = ctx;
  return NGX_CONF_OK;
}

// p2p_tracker zone | off; p2p_analytics zone | off; p2p_distributor on | off
char* set_endpoint(ngx_conf_t* cf, ngx_command_t* cmd, void* conf) noexcept {
  auto* lcf = static_cast<tracker_loc_conf*>(conf);
  auto* args = static_cast<ngx_str_t*>(cf->args->elts);
  endpoint_role role = cmd->post == &tracker_zone_tag     ? endpoint_role::tracker
                       : cmd->post == &analytics_zone_tag ? endpoint_role::analytics
                                                          : endpoint_role::distributor;
  if (lcf->role != endpoint_role::none) {
    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "one location serves one of p2p_tracker, p2p_distributor, p2p_analytics");
    return conf_error();
  }
  bool off = ngx_strcmp(args[1].data, "off") == 0;
  if (role == endpoint_role::distributor && !off && ngx_strcmp(args[1].data, "on") != 0) {
    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid value \"%V\", expected on or off", &args[1]);
    return conf_error();
  }
  if (off) return NGX_CONF_OK;
  if (role != endpoint_role::distributor) {
    lcf->zone = ngx_shared_memory_add(cf, &args[1], 0, cmd->post);
    if (lcf->zone == nullptr) return conf_error();
  }
  lcf->role = role;
  lcf->role_file = cf->conf_file->file.name;
  lcf->role_line = cf->conf_file->line;
  auto* clcf = static_cast<ngx_http_core_loc_conf_t*>(
      ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module));
  clcf->handler = content_handler;
  return NGX_CONF_OK;
}

char* set_secret(ngx_conf_t* cf, ngx_command_t* cmd, void* conf) noexcept {
  auto* lcf = static_cast<tracker_loc_conf*>(conf);
  if (lcf->secret.data) return const_cast<char*>("is duplicate");
  auto* args = static_cast<ngx_str_t*>(cf->args->elts);
  if (args[1].len < 16) {
    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "\"%V\" must be at least 16 bytes (it signs tickets)",
                       &cmd->name);
    return conf_error();
  }
  lcf->secret = args[1];
  return NGX_CONF_OK;
}

bool split_list(std::string_view list, std::vector<std::string_view>* out) {
  size_t start = 0;
  while (start <= list.size()) {
    size_t comma = list.find(',', start);
    if (comma == std::string_view::npos) comma = list.size();
    std::string_view item = list.substr(start, comma - start);
    if (item.empty()) return false;
    out->push_back(item);
    start = comma + 1;
  }
  return !out->empty();
}

// p2p_tracker_exclude customer rule...; rules: country=RU,BY asn=64500,AS13335 same_country
char* set_exclusion(ngx_conf_t* cf, ngx_command_t* cmd, void* conf) noexcept {
  try {
    auto* lcf = static_cast<tracker_loc_conf*>(conf);
    auto* args = static_cast<ngx_str_t*>(cf->args->elts);
    if (!p2p::ticket_id_valid(view(args[1]))) {
      ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid customer id \"%V\"", &args[1]);
      return conf_error();
    }
    if (lcf->exclusions == NGX_CONF_UNSET_PTR) lcf->exclusions = pool_new<exclusion_map>(cf->pool);
    p2p::exclusion_rules& rules = (*lcf->exclusions)[p2p::customer_hash(view(args[1]))];
    for (ngx_uint_t i = 2; i < cf->args->nelts; ++i) {
      std::string_view rule = view(args[i]);
      std::vector<std::string_view> items;
      if (rule == "same_country") {
        rules.same_country_only = true;
      } else if (rule.substr(0, 8) == "country=" && split_list(rule.substr(8), &items)) {
        for (std::string_view c : items) {
          if (c.size() != 2 || !std::isupper(static_cast<unsigned char>(c[0])) ||
              !std::isupper(static_cast<unsigned char>(c[1]))) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid country in \"%V\" (two upper-case letters)", &args[i]);
            return conf_error();
          }
          rules.excluded_countries.push_back(p2p::country_code(c.data()));
        }
      } else if (rule.substr(0, 4) == "asn=" && split_list(rule.substr(4), &items)) {
        for (std::string_view a : items) {
          if (a.substr(0, 2) == "AS") a.remove_prefix(2);
          ngx_int_t n = ngx_atoi(reinterpret_cast<u_char*>(const_cast<char*>(a.data())), a.size());
          if (n <= 0 || n > 0xffffffffLL) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid ASN in \"%V\"", &args[i]);
            return conf_error();
          }
          rules.excluded_asns.push_back(static_cast<uint32_t>(n));
        }
      } else {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid rule \"%V\" in \"%V\" (country=.. asn=.. same_country)",
                           &args[i], &cmd->name);
        return conf_error();
      }
    }
    return NGX_CONF_OK;
  } catch (const std::exception& e) {
    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "p2p tracker: %s", e.what());
    return conf_error();
  }
}

char* add_distributor_entry(ngx_conf_t* cf, tracker_loc_conf* lcf, ngx_str_t customer,
                            ngx_str_t key, ngx_str_t value) {
  // Checked here against a scratch policy, so a bad value is refused with this line.
  p2p::distributor_policy scratch;
  std::string error;
  if (!p2p::distributor_policy_set(&scratch, view(key), view(value), &error)) {
    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "%s", error.c_str());
    return conf_error();
  }
  if (lcf->distributor_entries == NGX_CONF_UNSET_PTR) {
    lcf->distributor_entries = ngx_array_create(cf->pool, 8, sizeof(distributor_entry));
    if (lcf->distributor_entries == nullptr) return conf_error();
  }
  auto* e = static_cast<distributor_entry*>(ngx_array_push(lcf->distributor_entries));
  if (e == nullptr) return conf_error();
  *e = {customer, key, value};
  return NGX_CONF_OK;
}

// p2p_distributor_set key value
char* set_distributor_default(ngx_conf_t* cf, ngx_command_t* cmd, void* conf) noexcept {
  try {
    auto* args = static_cast<ngx_str_t*>(cf->args->elts);
    return add_distributor_entry(cf, static_cast<tracker_loc_conf*>(conf), ngx_str_t{0, nullptr},
                                 args[1], args[2]);
  } catch (const std::exception& e) {
    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "p2p distributor: %s", e.what());
    return conf_error();
  }
}

// p2p_distributor_customer id key=value...
char* set_distributor_customer(ngx_conf_t* cf, ngx_command_t* cmd, void* conf) noexcept {
  try {
    auto* args = static_cast<ngx_str_t*>(cf->args->elts);
    if (!p2p::ticket_id_valid(view(args[1]))) {
      ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid customer id \"%V\"", &args[1]);
      return conf_error();
    }
    for (ngx_uint_t i = 2; i < cf->args->nelts; ++i) {
      u_char* eq = static_cast<u_char*>(memchr(args[i].data, '=', args[i].len));
      if (eq == nullptr) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "\"%V\" is not key=value", &args[i]);
        return conf_error();
      }
      ngx_str_t key{static_cast<size_t>(eq - args[i].data), args[i].data};
      ngx_str_t value{args[i].len - key.len - 1, eq + 1};
      char* rc =
          add_distributor_entry(cf, static_cast<tracker_loc_conf*>(conf), args[1], key, value);
      if (rc != NGX_CONF_OK) return rc;
    }
    return NGX_CONF_OK;
  } catch (const std::exception& e) {
    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "p2p distributor: %s", e.what());
    return conf_error();
  }
}

void* create_loc_conf(ngx_conf_t* cf) noexcept {
  auto* conf = static_cast<tracker_loc_conf*>(ngx_pcalloc(cf->pool, sizeof(tracker_loc_conf)));
  if (conf == nullptr) return nullptr;
  // ngx_pcalloc() set: role = none, zone = NULL, secret = {0, NULL} (unset),
  // tracker_settings = distributor_settings = NULL, role_file = {0, NULL}, role_line = 0.
  conf->ticket_lifetime = NGX_CONF_UNSET;
  conf->ticket_skew = NGX_CONF_UNSET;
  conf->announce_interval = NGX_CONF_UNSET;
  conf->peer_ttl = NGX_CONF_UNSET;
  conf->min_evict_age = NGX_CONF_UNSET;
  conf->max_peers_per_swarm = NGX_CONF_UNSET_UINT;
  conf->max_numwant = NGX_CONF_UNSET_UINT;
  conf->tracker_body_max = NGX_CONF_UNSET_SIZE;
  conf->analytics_body_max = NGX_CONF_UNSET_SIZE;
  conf->asn = static_cast<ngx_http_complex_value_t*>(NGX_CONF_UNSET_PTR);
  conf->country = static_cast<ngx_http_complex_value_t*>(NGX_CONF_UNSET_PTR);
  conf->exclusions = static_cast<exclusion_map*>(NGX_CONF_UNSET_PTR);
  conf->distributor_entries = static_cast<ngx_array_t*>(NGX_CONF_UNSET_PTR);
  conf->kill_switch = NGX_CONF_UNSET;
  return conf;
}

char* merge_error(ngx_conf_t* cf, const tracker_loc_conf* conf, const char* message) {
  ngx_log_error(NGX_LOG_EMERG, cf->log, 0, "%s in %V:%ui", message, &conf->role_file,
                conf->role_line);
  return conf_error();
}

char* build_tracker_settings(ngx_conf_t* cf, tracker_loc_conf* conf) {
  if (conf->secret.len == 0)
    return merge_error(cf, conf, "\"p2p_tracker\" needs \"p2p_tracker_secret\"");
  if (conf->peer_ttl <= conf->announce_interval)
    return merge_error(cf, conf,
                       "\"p2p_tracker_peer_ttl\" must be longer than "
                       "\"p2p_tracker_announce_interval\"");
  if (conf->ticket_lifetime < 2 * conf->announce_interval)
    return merge_error(cf, conf,
                       "\"p2p_tracker_ticket_lifetime\" must be at least twice "
                       "\"p2p_tracker_announce_interval\"");
  if (conf->max_peers_per_swarm < 1 || conf->max_peers_per_swarm > 100000)
    return merge_error(cf, conf, "\"p2p_tracker_max_peers_per_swarm\" must be 1..100000");
  if (conf->max_numwant > p2p::kMaxNumwant)
    return merge_error(cf, conf, "\"p2p_tracker_max_numwant\" must be 0..200");
  if (conf->tracker_body_max < 64 || conf->tracker_body_max > 1024 * 1024)
    return merge_error(cf, conf, "\"p2p_tracker_body_max\" must be 64..1m");
  auto* s = pool_new<p2p::tracker_settings>(cf->pool);
  s->secret.assign(view(conf->secret));
  s->ticket_lifetime = conf->ticket_lifetime;
  s->ticket_skew = conf->ticket_skew;
  s->announce_interval = conf->announce_interval;
  s->max_numwant = static_cast<uint32_t>(conf->max_numwant);
  s->default_numwant = s->max_numwant < 20 ? s->max_numwant : 20;
  s->caps.max_bytes = conf->tracker_body_max;
  if (conf->exclusions) s->exclusions = *conf->exclusions;
  conf->tracker_settings = s;
  return NGX_CONF_OK;
}

char* build_distributor_settings(ngx_conf_t* cf, tracker_loc_conf* conf) {
  auto* s = pool_new<p2p::distributor_settings>(cf->pool);
  s->kill_switch = conf->kill_switch;
  std::string error;
  auto* entries = conf->distributor_entries
                      ? static_cast<distributor_entry*>(conf->distributor_entries->elts)
                      : nullptr;
  size_t count = conf->distributor_entries ? conf->distributor_entries->nelts : 0;
  for (size_t i = 0; i < count; ++i)
    if (entries[i].customer.len == 0 &&
        !p2p::distributor_policy_set(&s->defaults, view(entries[i].key), view(entries[i].value),
                                     &error))
      return merge_error(cf, conf, error.c_str());
  for (size_t i = 0; i < count; ++i) {
    if (entries[i].customer.len == 0) continue;
    std::string customer(view(entries[i].customer));
    auto it = s->customers.find(customer);
    if (it == s->customers.end()) it = s->customers.emplace(customer, s->defaults).first;
    // A customer's stun list replaces the default one rather than adding to it.
    if (view(entries[i].key) == "stun" && it->second.stun_servers == s->defaults.stun_servers)
      it->second.stun_servers.clear();
    if (!p2p::distributor_policy_set(&it->second, view(entries[i].key), view(entries[i].value),
                                     &error))
      return merge_error(cf, conf, error.c_str());
  }
  conf->distributor_settings = s;
  return NGX_CONF_OK;
}

char* merge_loc_conf(ngx_conf_t* cf, void* parent, void* child) noexcept {
  try {
    auto* prev = static_cast<tracker_loc_conf*>(parent);
    auto* conf = static_cast<tracker_loc_conf*>(child);
    if (conf->secret.data == nullptr) conf->secret = prev->secret;
    ngx_conf_merge_sec_value(conf->ticket_lifetime, prev->ticket_lifetime, 3600);
    ngx_conf_merge_sec_value(conf->ticket_skew, prev->ticket_skew, 30);
    ngx_conf_merge_sec_value(conf->announce_interval, prev->announce_interval, 30);
    ngx_conf_merge_sec_value(conf->peer_ttl, prev->peer_ttl, 90);
    ngx_conf_merge_sec_value(conf->min_evict_age, prev->min_evict_age, 30);
    ngx_conf_merge_uint_value(conf->max_peers_per_swarm, prev->max_peers_per_swarm, 1000);
    ngx_conf_merge_uint_value(conf->max_numwant, prev->max_numwant, 50);
    ngx_conf_merge_size_value(conf->tracker_body_max, prev->tracker_body_max, 4096);
    ngx_conf_merge_size_value(conf->analytics_body_max, prev->analytics_body_max, 4096);
    ngx_conf_merge_ptr_value(conf->asn, prev->asn, nullptr);
    ngx_conf_merge_ptr_value(conf->country, prev->country, nullptr);
    ngx_conf_merge_ptr_value(conf->exclusions, prev->exclusions, nullptr);
    ngx_conf_merge_ptr_value(conf->distributor_entries, prev->distributor_entries, nullptr);
    ngx_conf_merge_value(conf->kill_switch, prev->kill_switch, 0);

    switch (conf->role) {
      case endpoint_role::tracker:
        return build_tracker_settings(cf, conf);
      case endpoint_role::distributor:
        return build_distributor_settings(cf, conf);
      case endpoint_role::analytics:
        if (conf->analytics_body_max < 64 || conf->analytics_body_max > 1024 * 1024)
          return merge_error(cf, conf, "\"p2p_analytics_body_max\" must be 64..1m");
        return NGX_CONF_OK;
      case endpoint_role::none:
        break;
    }
    return NGX_CONF_OK;
  } catch (const std::exception& e) {
    ngx_log_error(NGX_LOG_EMERG, cf->log, 0, "p2p tracker: %s", e.what());
    return conf_error();
  }
}

// Request handling

std::string_view last_segment(const ngx_str_t& uri) {
  std::string_view path = view(uri);
  size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

bool push_header(ngx_http_request_t* r, std::string_view name, std::string_view value) {
  auto* h = static_cast<ngx_table_elt_t*>(ngx_list_push(&r->headers_out.headers));
  if (h == nullptr) return false;
  auto* data = static_cast<u_char*>(ngx_pnalloc(r->pool, name.size() + value.size()));
  if (data == nullptr) return false;
  ngx_memcpy(data, name.data(), name.size());
  ngx_memcpy(data + name.size(), value.data(), value.size());
  h->hash = 1;
  h->key = {name.size(), data};
  h->value = {value.size(), data + name.size()};
  return true;
}

const char* role_name(endpoint_role role) {
  switch (role) {
    case endpoint_role::tracker:
      return "tracker";
    case endpoint_role::distributor:
      return "distributor";
    case endpoint_role::analytics:
      return "analytics";
    case endpoint_role::none:
      break;
  }
  return "endpoint";
}

ngx_int_t send_response(ngx_http_request_t* r, const p2p::api_response& response,
                        endpoint_role role, const char* allow = nullptr) {
  if (!response.log_reason.empty()) {
    // One line per refused request; the reason never carries a ticket or body bytes.
    ngx_uint_t level = response.http_status >= 500 ? NGX_LOG_WARN : NGX_LOG_INFO;
    ngx_log_error(level, r->connection->log, 0, "p2p %s: %d %s", role_name(role),
                  response.http_status, response.log_reason.c_str());
  }
  r->headers_out.status = static_cast<ngx_uint_t>(response.http_status);
  auto* type = static_cast<u_char*>(ngx_pnalloc(r->pool, response.content_type.size()));
  if (type == nullptr) return NGX_HTTP_INTERNAL_SERVER_ERROR;
  ngx_memcpy(type, response.content_type.data(), response.content_type.size());
  r->headers_out.content_type = {response.content_type.size(), type};
  r->headers_out.content_type_len = response.content_type.size();
  if (!push_header(r, "Cache-Control", response.cache_control))
    return NGX_HTTP_INTERNAL_SERVER_ERROR;
  if (response.retry_after > 0 &&
      !push_header(r, "Retry-After", std::to_string(response.retry_after)))
    return NGX_HTTP_INTERNAL_SERVER_ERROR;
  if (allow && !push_header(r, "Allow", allow)) return NGX_HTTP_INTERNAL_SERVER_ERROR;

  if (response.body.empty()) {
    r->header_only = 1;
    r->headers_out.content_length_n = 0;
    return ngx_http_send_header(r);
  }
  r->headers_out.content_length_n = static_cast<off_t>(response.body.size());
  ngx_buf_t* b = ngx_create_temp_buf(r->pool, response.body.size());
  if (b == nullptr) return NGX_HTTP_INTERNAL_SERVER_ERROR;
  b->last = ngx_cpymem(b->pos, response.body.data(), response.body.size());
  b->last_buf = (r == r->main) ? 1 : 0;
  b->last_in_chain = 1;
  ngx_int_t rc = ngx_http_send_header(r);
  if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) return rc;
  ngx_chain_t out{b, nullptr};
  return ngx_http_output_filter(r, &out);
}

p2p::requester_facts requester_facts_of(ngx_http_request_t* r, const tracker_loc_conf* lcf) {
  p2p::requester_facts facts;
  sockaddr* sa = r->connection->sockaddr;
  if (sa->sa_family == AF_INET) {
    auto* sin = reinterpret_cast<sockaddr_in*>(sa);
    facts.address =
        p2p::peer_address::from_v4(reinterpret_cast<const uint8_t*>(&sin->sin_addr.s_addr));
  } else if (sa->sa_family == AF_INET6) {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(sa);
    facts.address = p2p::peer_address::from_v6(sin6->sin6_addr.s6_addr);
  }
  ngx_str_t value;
  // "AS64500" or "64500" (geoip2's autonomous_system_number, a map, geo); else unknown.
  if (lcf->asn && ngx_http_complex_value(r, lcf->asn, &value) == NGX_OK && value.len > 0) {
    std::string_view v = view(value);
    if (v.size() > 2 && (v[0] == 'A' || v[0] == 'a') && (v[1] == 'S' || v[1] == 's'))
      v.remove_prefix(2);
    ngx_int_t n = ngx_atoi(reinterpret_cast<u_char*>(const_cast<char*>(v.data())), v.size());
    if (n > 0 && n <= 0xffffffffLL) facts.asn = static_cast<uint32_t>(n);
  }
  // Two letters, any case ("de" from a map, "DE" from geoip2); "--" or "" is unknown.
  if (lcf->country && ngx_http_complex_value(r, lcf->country, &value) == NGX_OK && value.len == 2 &&
      std::isalpha(value.data[0]) && std::isalpha(value.data[1])) {
    facts.country[0] = static_cast<char>(ngx_toupper(value.data[0]));
    facts.country[1] = static_cast<char>(ngx_toupper(value.data[1]));
  }
  return facts;
}

size_t body_max_of(const tracker_loc_conf* lcf) {
  return lcf->role == endpoint_role::analytics ? lcf->analytics_body_max : lcf->tracker_body_max;
}

p2p::api_response too_large(size_t max) {
  return p2p::error_response(
      {413, "body_too_large", "body larger than " + std::to_string(max) + " bytes"});
}

p2p::api_response handle_body(ngx_http_request_t* r, const tracker_loc_conf* lcf,
                              std::string_view body) {
  auto* ctx = static_cast<zone_ctx*>(lcf->zone->data);
  zone_lock lock(ctx->shpool);
  std::string_view action = last_segment(r->uri);
  if (lcf->role == endpoint_role::analytics) {
    p2p::analytics_store store;
    if (!store.open(ctx->block, ctx->block_size)) throw std::runtime_error("analytics zone lost");
    p2p::json_caps caps;
    caps.max_bytes = lcf->analytics_body_max;
    return p2p::analytics_handle_report(action, body, store, lock, caps);
  }
  p2p::swarm_registry registry;
  if (!registry.open(ctx->block, ctx->block_size)) throw std::runtime_error("tracker zone lost");
  registry.set_limits(
      {static_cast<uint32_t>(lcf->max_peers_per_swarm), lcf->peer_ttl, lcf->min_evict_age});
  if (ctx->workspace == nullptr)
    // Bounded by what the zone can hold: at most one copy of every peer, plus a swarm.
    ctx->workspace =
        new p2p::tracker_workspace(registry.counters().peer_capacity + lcf->max_peers_per_swarm);
  return p2p::tracker_handle(action, body, requester_facts_of(r, lcf), registry, lock,
                             *lcf->tracker_settings, ngx_time(), ctx->workspace);
}

void body_handler(ngx_http_request_t* r) noexcept {
  ngx_int_t rc = NGX_HTTP_INTERNAL_SERVER_ERROR;
  try {
    auto* lcf = static_cast<tracker_loc_conf*>(
        ngx_http_get_module_loc_conf(r, ngx_http_p2p_tracker_module));
    size_t max = body_max_of(lcf);
    std::string copy;
    std::string_view body;
    bool over = false;
    ngx_chain_t* bufs = r->request_body ? r->request_body->bufs : nullptr;
    if (bufs && !bufs->next && !bufs->buf->in_file) {
      // request_body_in_single_buf: the usual case is one memory buffer, used as is.
      body = std::string_view(reinterpret_cast<const char*>(bufs->buf->pos),
                              static_cast<size_t>(bufs->buf->last - bufs->buf->pos));
      over = body.size() > max;
    } else {
      for (ngx_chain_t* cl = bufs; cl; cl = cl->next) {
        // A body that went to a temporary file is larger than client_body_buffer_size,
        // which the documented configuration keeps above the cap: refused, never read
        // from disk on the event loop.
        if (cl->buf->in_file || copy.size() + ngx_buf_size(cl->buf) > max) {
          over = true;
          break;
        }
        copy.append(reinterpret_cast<const char*>(cl->buf->pos),
                    static_cast<size_t>(cl->buf->last - cl->buf->pos));
      }
      body = copy;
    }
    p2p::api_response response = over ? too_large(max) : handle_body(r, lcf, body);
    rc = send_response(r, response, lcf->role);
  } catch (const std::exception& e) {
    ngx_log_error(NGX_LOG_ERR, r->connection->log, 0, "p2p tracker: %s", e.what());
    rc = NGX_HTTP_INTERNAL_SERVER_ERROR;
  }
  ngx_http_finalize_request(r, rc);
}

ngx_int_t respond_without_body(ngx_http_request_t* r, const p2p::api_response& response,
                               endpoint_role role, const char* allow = nullptr) {
  ngx_int_t rc = ngx_http_discard_request_body(r);
  if (rc != NGX_OK) return rc;
  return send_response(r, response, role, allow);
}

ngx_int_t content_handler(ngx_http_request_t* r) noexcept {
  try {
    auto* lcf = static_cast<tracker_loc_conf*>(
        ngx_http_get_module_loc_conf(r, ngx_http_p2p_tracker_module));
    const bool get = (r->method & (NGX_HTTP_GET | NGX_HTTP_HEAD)) != 0;
    const bool post = (r->method & NGX_HTTP_POST) != 0;
    std::string_view action = last_segment(r->uri);

    if (lcf->role == endpoint_role::distributor) {
      if (!get)
        return respond_without_body(r, p2p::error_response({405, "method_not_allowed", "use GET"}),
                                    lcf->role, "GET, HEAD");
      return respond_without_body(
          r, p2p::distributor_handle(*lcf->distributor_settings, view(r->args)), lcf->role);
    }

    auto* ctx = static_cast<zone_ctx*>(lcf->zone->data);
    // Views: GET <location>/stats (tracker), /metrics and /status (analytics).
    if (get) {
      zone_lock lock(ctx->shpool);
      if (lcf->role == endpoint_role::tracker && action == "stats") {
        p2p::swarm_registry registry;
        if (!registry.open(ctx->block, ctx->block_size))
          throw std::runtime_error("tracker zone lost");
        return respond_without_body(r, p2p::tracker_stats(registry, lock, ctx->zone_size),
                                    lcf->role);
      }
      if (lcf->role == endpoint_role::analytics && (action == "metrics" || action == "status")) {
        p2p::analytics_store store;
        if (!store.open(ctx->block, ctx->block_size))
          throw std::runtime_error("analytics zone lost");
        return respond_without_body(r, p2p::analytics_handle_view(action, store, lock), lcf->role);
      }
    }
    if (!post)
      return respond_without_body(r, p2p::error_response({405, "method_not_allowed", "use POST"}),
                                  lcf->role, "POST");

    size_t max = body_max_of(lcf);
    if (r->headers_in.content_length_n > static_cast<off_t>(max))
      return respond_without_body(r, too_large(max), lcf->role);
    r->request_body_in_single_buf = 1;
    ngx_int_t rc = ngx_http_read_client_request_body(r, body_handler);
    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) return rc;
    return NGX_DONE;
  } catch (const std::exception& e) {
    ngx_log_error(NGX_LOG_ERR, r->connection->log, 0, "p2p tracker: %s", e.what());
  }
  return NGX_HTTP_INTERNAL_SERVER_ERROR;
}

}  // namespace
