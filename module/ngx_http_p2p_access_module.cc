// ngx_http_p2p_access_module: token, domain and geo restrictions in the access phase,
// the P2P session credential ($p2p_session_credential) and the check the P2P endpoints
// use (p2p_session_require). Thin glue: the decisions live in module/access/.
// Directives and formats: module/access/README.md.

extern "C" {
#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
}

#include <exception>
#include <string>
#include <string_view>

#include "module/access/access_token.h"
#include "module/access/country_rule.h"
#include "module/access/keyed_hmac.h"
#include "module/access/origin_allowlist.h"
#include "module/ngx_p2p_conf.h"

extern "C" {
extern ngx_module_t ngx_http_p2p_access_module;
}

namespace {

// Types

enum : ngx_uint_t { policy_deny = 0, policy_allow = 1 };

struct access_loc_conf {
  ngx_array_t* token_sources;  // ngx_http_complex_value_t; nullptr = off
  ngx_array_t* token_keys;     // p2p::hmac_key
  time_t skew;
  ngx_str_t token_cookie;  // cookie name; len 0 = no cookie
  ngx_array_t* domains;    // std::string_view patterns; nullptr = off
  ngx_uint_t domain_missing;
  ngx_http_complex_value_t* country;  // nullptr = no geo check
  ngx_array_t* country_codes;         // std::string_view
  ngx_uint_t country_list;            // policy_allow: allow list, policy_deny: deny list
  ngx_uint_t country_unknown;
  ngx_array_t* session_keys;  // p2p::hmac_key; the first signs
  time_t session_ttl;
  ngx_http_complex_value_t* session_content;
  ngx_array_t* session_sources;  // ngx_http_complex_value_t; nullptr = off
  ngx_uint_t deny_status;
  ngx_uint_t log_level;
  // Where p2p_token / p2p_session_require stood: the key checks run at merge time,
  // when nginx's own file:line is the end of the block, not the directive.
  ngx_str_t token_file;
  ngx_uint_t token_line;
  ngx_str_t session_file;
  ngx_uint_t session_line;
};

// Per request: what the checks learned, for the variables. Plain data in the pool.
struct access_request_ctx {
  int64_t token_expires;  // 0 = no token was checked
  ngx_str_t token_session_id;
  ngx_str_t credential_content;  // set by p2p_session_require
  ngx_str_t credential_session_id;
  ngx_str_t minted_credential;
};

// Prototypes

ngx_int_t preconfiguration(ngx_conf_t* cf) noexcept;
ngx_int_t postconfiguration(ngx_conf_t* cf) noexcept;
void* create_loc_conf(ngx_conf_t* cf) noexcept;
char* merge_loc_conf(ngx_conf_t* cf, void* parent, void* child) noexcept;

char* set_value_list(ngx_conf_t* cf, ngx_command_t* cmd, void* conf) noexcept;
char* set_key(ngx_conf_t* cf, ngx_command_t* cmd, void* conf) noexcept;
char* set_cookie_name(ngx_conf_t* cf, ngx_command_t* cmd, void* conf) noexcept;
char* set_domains(ngx_conf_t* cf, ngx_command_t* cmd, void* conf) noexcept;
char* set_geo(ngx_conf_t* cf, ngx_command_t* cmd, void* conf) noexcept;
char* check_deny_status(ngx_conf_t* cf, void* post, void* data) noexcept;

ngx_int_t init_process(ngx_cycle_t* cycle) noexcept;
ngx_int_t access_handler(ngx_http_request_t* r) noexcept;
ngx_int_t session_credential_variable(ngx_http_request_t* r, ngx_http_variable_value_t* v,
                                      uintptr_t data) noexcept;
ngx_int_t credential_claim_variable(ngx_http_request_t* r, ngx_http_variable_value_t* v,
                                    uintptr_t data) noexcept;

// Directives

ngx_conf_enum_t policies[] = {
    {ngx_string("deny"), policy_deny}, {ngx_string("allow"), policy_allow}, {ngx_null_string, 0}};

ngx_conf_enum_t log_levels[] = {{ngx_string("info"), NGX_LOG_INFO},
                                {ngx_string("notice"), NGX_LOG_NOTICE},
                                {ngx_string("warn"), NGX_LOG_WARN},
                                {ngx_string("error"), NGX_LOG_ERR},
                                {ngx_null_string, 0}};

ngx_conf_post_t deny_status_post = {check_deny_status};

constexpr ngx_uint_t kAnyLevel = NGX_HTTP_MAIN_CONF | NGX_HTTP_SRV_CONF | NGX_HTTP_LOC_CONF;

ngx_command_t commands[] = {
    {ngx_string("p2p_token"), kAnyLevel | NGX_CONF_1MORE, set_value_list, NGX_HTTP_LOC_CONF_OFFSET,
     offsetof(access_loc_conf, token_sources), nullptr},
    {ngx_string("p2p_token_key"), kAnyLevel | NGX_CONF_TAKE2, set_key, NGX_HTTP_LOC_CONF_OFFSET,
     offsetof(access_loc_conf, token_keys), nullptr},
    {ngx_string("p2p_token_skew"), kAnyLevel | NGX_CONF_TAKE1, ngx_conf_set_sec_slot,
     NGX_HTTP_LOC_CONF_OFFSET, offsetof(access_loc_conf, skew), nullptr},
    {ngx_string("p2p_token_cookie"), kAnyLevel | NGX_CONF_TAKE1, set_cookie_name,
     NGX_HTTP_LOC_CONF_OFFSET, offsetof(access_loc_conf, token_cookie), nullptr},
    {ngx_string("p2p_domain"), kAnyLevel | NGX_CONF_1MORE, set_domains, NGX_HTTP_LOC_CONF_OFFSET, 0,
     nullptr},
    {ngx_string("p2p_domain_missing"), kAnyLevel | NGX_CONF_TAKE1, ngx_conf_set_enum_slot,
     NGX_HTTP_LOC_CONF_OFFSET, offsetof(access_loc_conf, domain_missing), policies},
    {ngx_string("p2p_geo"), kAnyLevel | NGX_CONF_1MORE, set_geo, NGX_HTTP_LOC_CONF_OFFSET, 0,
     nullptr},
    {ngx_string("p2p_geo_unknown"), kAnyLevel | NGX_CONF_TAKE1, ngx_conf_set_enum_slot,
     NGX_HTTP_LOC_CONF_OFFSET, offsetof(access_loc_conf, country_unknown), policies},
    {ngx_string("p2p_session_key"), kAnyLevel | NGX_CONF_TAKE2, set_key, NGX_HTTP_LOC_CONF_OFFSET,
     offsetof(access_loc_conf, session_keys), nullptr},
    {ngx_string("p2p_session_ttl"), kAnyLevel | NGX_CONF_TAKE1, ngx_conf_set_sec_slot,
     NGX_HTTP_LOC_CONF_OFFSET, offsetof(access_loc_conf, session_ttl), nullptr},
    {ngx_string("p2p_session_content"), kAnyLevel | NGX_CONF_TAKE1, ngx_http_set_complex_value_slot,
     NGX_HTTP_LOC_CONF_OFFSET, offsetof(access_loc_conf, session_content), nullptr},
    {ngx_string("p2p_session_require"), kAnyLevel | NGX_CONF_1MORE, set_value_list,
     NGX_HTTP_LOC_CONF_OFFSET, offsetof(access_loc_conf, session_sources), nullptr},
    {ngx_string("p2p_access_deny_status"), kAnyLevel | NGX_CONF_TAKE1, ngx_conf_set_num_slot,
     NGX_HTTP_LOC_CONF_OFFSET, offsetof(access_loc_conf, deny_status), &deny_status_post},
    {ngx_string("p2p_access_log_level"), kAnyLevel | NGX_CONF_TAKE1, ngx_conf_set_enum_slot,
     NGX_HTTP_LOC_CONF_OFFSET, offsetof(access_loc_conf, log_level), log_levels},
    ngx_null_command};

// Module context

ngx_http_module_t module_ctx = {
    preconfiguration, postconfiguration, nullptr,         nullptr,
    nullptr,          nullptr,           create_loc_conf, merge_loc_conf,
};

}  // namespace

// Module

extern "C" {
ngx_module_t ngx_http_p2p_access_module = {NGX_MODULE_V1,
                                           &module_ctx,
                                           commands,
                                           NGX_HTTP_MODULE,
                                           nullptr,       // init master
                                           nullptr,       // init module
                                           init_process,  // init process: the verified-token cache
                                           nullptr,       // init thread
                                           nullptr,       // exit thread
                                           nullptr,       // exit process
                                           nullptr,       // exit master
                                           NGX_MODULE_V1_PADDING};
}

namespace {

// Code

// Per worker process: tokens whose signature was verified (access_token.h). Created in
// init_process, destroyed by the cycle pool's cleanup; the master never holds one, so a
// reload starts every new worker empty.
p2p::verified_token_cache* token_cache = nullptr;

void destroy_token_cache(void* data) {
  delete static_cast<p2p::verified_token_cache*>(data);
  token_cache = nullptr;
}

ngx_int_t init_process(ngx_cycle_t* cycle) noexcept {
  try {
    ngx_pool_cleanup_t* cleanup = ngx_pool_cleanup_add(cycle->pool, 0);
    if (cleanup == nullptr) return NGX_ERROR;
    token_cache = new p2p::verified_token_cache();
    cleanup->handler = destroy_token_cache;
    cleanup->data = token_cache;
    return NGX_OK;
  } catch (const std::exception& e) {
    ngx_log_error(NGX_LOG_ALERT, cycle->log, 0, "p2p access: %s", e.what());
  }
  return NGX_ERROR;
}

using p2p_conf::view;

ngx_str_t copy_to_pool(ngx_pool_t* pool, std::string_view s) {
  ngx_str_t out{0, nullptr};
  if (s.empty()) return out;
  out.data = static_cast<u_char*>(ngx_pnalloc(pool, s.size()));
  if (out.data == nullptr) throw std::bad_alloc();
  ngx_memcpy(out.data, s.data(), s.size());
  out.len = s.size();
  return out;
}

ngx_http_variable_t variables[] = {
    {ngx_string("p2p_session_credential"), nullptr, session_credential_variable, 0, 0, 0},
    {ngx_string("p2p_session_content"), nullptr, credential_claim_variable,
     offsetof(access_request_ctx, credential_content), 0, 0},
    {ngx_string("p2p_session_id"), nullptr, credential_claim_variable,
     offsetof(access_request_ctx, credential_session_id), 0, 0},
};

ngx_int_t preconfiguration(ngx_conf_t* cf) noexcept {
  for (auto& v : variables) {
    ngx_http_variable_t* var = ngx_http_add_variable(cf, &v.name, v.flags);
    if (var == nullptr) return NGX_ERROR;
    var->get_handler = v.get_handler;
    var->data = v.data;
  }
  return NGX_OK;
}

ngx_int_t postconfiguration(ngx_conf_t* cf) noexcept {
  auto* cmcf = static_cast<ngx_http_core_main_conf_t*>(
      ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module));
  auto* h = static_cast<ngx_http_handler_pt*>(
      ngx_array_push(&cmcf->phases[NGX_HTTP_ACCESS_PHASE].handlers));
  if (h == nullptr) return NGX_ERROR;
  *h = access_handler;
  return NGX_OK;
}

void* create_loc_conf(ngx_conf_t* cf) noexcept {
  auto* conf = static_cast<access_loc_conf*>(ngx_pcalloc(cf->pool, sizeof(access_loc_conf)));
  if (conf == nullptr) return nullptr;
  // ngx_pcalloc() set: token_cookie = {0, NULL} (unset while data is NULL),
  // token_file/session_file = {0, NULL} with their lines 0 (directive not seen),
  // country_codes = NULL, country_list = 0 (read only together with country).
  conf->token_sources = static_cast<ngx_array_t*>(NGX_CONF_UNSET_PTR);
  conf->token_keys = static_cast<ngx_array_t*>(NGX_CONF_UNSET_PTR);
  conf->skew = NGX_CONF_UNSET;
  conf->domains = static_cast<ngx_array_t*>(NGX_CONF_UNSET_PTR);
  conf->domain_missing = NGX_CONF_UNSET_UINT;
  conf->country = static_cast<ngx_http_complex_value_t*>(NGX_CONF_UNSET_PTR);
  conf->country_unknown = NGX_CONF_UNSET_UINT;
  conf->session_keys = static_cast<ngx_array_t*>(NGX_CONF_UNSET_PTR);
  conf->session_ttl = NGX_CONF_UNSET;
  conf->session_content = static_cast<ngx_http_complex_value_t*>(NGX_CONF_UNSET_PTR);
  conf->session_sources = static_cast<ngx_array_t*>(NGX_CONF_UNSET_PTR);
  conf->deny_status = NGX_CONF_UNSET_UINT;
  conf->log_level = NGX_CONF_UNSET_UINT;
  return conf;
}

char* merge_loc_conf(ngx_conf_t* cf, void* parent, void* child) noexcept {
  auto* prev = static_cast<access_loc_conf*>(parent);
  auto* conf = static_cast<access_loc_conf*>(child);
  ngx_conf_merge_ptr_value(conf->token_sources, prev->token_sources, nullptr);
  ngx_conf_merge_ptr_value(conf->token_keys, prev->token_keys, nullptr);
  ngx_conf_merge_sec_value(conf->skew, prev->skew, 30);
  if (conf->token_cookie.data == nullptr) conf->token_cookie = prev->token_cookie;
  ngx_conf_merge_ptr_value(conf->domains, prev->domains, nullptr);
  ngx_conf_merge_uint_value(conf->domain_missing, prev->domain_missing, policy_allow);
  if (conf->country == NGX_CONF_UNSET_PTR) {
    conf->country = prev->country == NGX_CONF_UNSET_PTR ? nullptr : prev->country;
    conf->country_codes = prev->country_codes;
    conf->country_list = prev->country_list;
  }
  // Left unset here when nobody set it: the default depends on the list in force
  // (allow list: refuse unknown; deny list: let it through), see check_country().
  if (conf->country_unknown == NGX_CONF_UNSET_UINT) conf->country_unknown = prev->country_unknown;
  ngx_conf_merge_ptr_value(conf->session_keys, prev->session_keys, nullptr);
  ngx_conf_merge_sec_value(conf->session_ttl, prev->session_ttl, 600);
  ngx_conf_merge_ptr_value(conf->session_content, prev->session_content, nullptr);
  ngx_conf_merge_ptr_value(conf->session_sources, prev->session_sources, nullptr);
  ngx_conf_merge_uint_value(conf->deny_status, prev->deny_status, NGX_HTTP_FORBIDDEN);
  ngx_conf_merge_uint_value(conf->log_level, prev->log_level, NGX_LOG_WARN);

  if (conf->token_file.data == nullptr) {
    conf->token_file = prev->token_file;
    conf->token_line = prev->token_line;
  }
  if (conf->session_file.data == nullptr) {
    conf->session_file = prev->session_file;
    conf->session_line = prev->session_line;
  }
  if (conf->token_sources && (conf->token_keys == nullptr || conf->token_keys->nelts == 0)) {
    ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                  "\"p2p_token\" needs at least one \"p2p_token_key\" in %V:%ui", &conf->token_file,
                  conf->token_line);
    return static_cast<char*>(NGX_CONF_ERROR);
  }
  if (conf->session_sources && (conf->session_keys == nullptr || conf->session_keys->nelts == 0)) {
    ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                  "\"p2p_session_require\" needs at least one \"p2p_session_key\" in %V:%ui",
                  &conf->session_file, conf->session_line);
    return static_cast<char*>(NGX_CONF_ERROR);
  }
  return NGX_CONF_OK;
}

// "off" or one or more complex values, the first non-empty of which is used.
char* set_value_list(ngx_conf_t* cf, ngx_command_t* cmd, void* conf) noexcept {
  auto** field = reinterpret_cast<ngx_array_t**>(static_cast<char*>(conf) + cmd->offset);
  if (*field != NGX_CONF_UNSET_PTR) return const_cast<char*>("is duplicate");
  auto* lcf = static_cast<access_loc_conf*>(conf);
  bool token = cmd->offset == offsetof(access_loc_conf, token_sources);
  (token ? lcf->token_file : lcf->session_file) = cf->conf_file->file.name;
  (token ? lcf->token_line : lcf->session_line) = cf->conf_file->line;
  auto* args = static_cast<ngx_str_t*>(cf->args->elts);
  if (cf->args->nelts == 2 && ngx_strcmp(args[1].data, "off") == 0) {
    *field = nullptr;
    return NGX_CONF_OK;
  }
  *field = ngx_array_create(cf->pool, cf->args->nelts - 1, sizeof(ngx_http_complex_value_t));
  if (*field == nullptr) return static_cast<char*>(NGX_CONF_ERROR);
  for (ngx_uint_t i = 1; i < cf->args->nelts; ++i) {
    auto* cv = static_cast<ngx_http_complex_value_t*>(ngx_array_push(*field));
    if (cv == nullptr) return static_cast<char*>(NGX_CONF_ERROR);
    ngx_http_compile_complex_value_t ccv;
    ngx_memzero(&ccv, sizeof(ccv));
    ccv.cf = cf;
    ccv.value = &args[i];
    ccv.complex_value = cv;
    if (ngx_http_compile_complex_value(&ccv) != NGX_OK) return static_cast<char*>(NGX_CONF_ERROR);
  }
  return NGX_CONF_OK;
}

void destroy_keyed_hmac(void* data) { delete static_cast<p2p::keyed_hmac_sha256*>(data); }

// p2p_token_key / p2p_session_key <id> <secret>: repeated to hold several keys.
char* set_key(ngx_conf_t* cf, ngx_command_t* cmd, void* conf) noexcept {
  auto** field = reinterpret_cast<ngx_array_t**>(static_cast<char*>(conf) + cmd->offset);
  auto* args = static_cast<ngx_str_t*>(cf->args->elts);
  std::string_view id = view(args[1]), secret = view(args[2]);
  if (!p2p::key_id_valid(id)) {
    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid key id \"%V\" in \"%V\" (1..32 of A-Za-z0-9_-)", &args[1],
                       &cmd->name);
    return static_cast<char*>(NGX_CONF_ERROR);
  }
  if (secret.size() < p2p::kMinSecretLength) {
    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "secret of key \"%V\" in \"%V\" is shorter than %uz bytes", &args[1],
                       &cmd->name, p2p::kMinSecretLength);
    return static_cast<char*>(NGX_CONF_ERROR);
  }
  if (*field == NGX_CONF_UNSET_PTR) {
    *field = ngx_array_create(cf->pool, 2, sizeof(p2p::hmac_key));
    if (*field == nullptr) return static_cast<char*>(NGX_CONF_ERROR);
  }
  auto* keys = static_cast<p2p::hmac_key*>((*field)->elts);
  for (ngx_uint_t i = 0; i < (*field)->nelts; ++i) {
    if (keys[i].id == id) {
      ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "duplicate key id \"%V\" in \"%V\"", &args[1],
                         &cmd->name);
      return static_cast<char*>(NGX_CONF_ERROR);
    }
  }
  auto* key = static_cast<p2p::hmac_key*>(ngx_array_push(*field));
  if (key == nullptr) return static_cast<char*>(NGX_CONF_ERROR);
  *key = p2p::hmac_key{id, secret, nullptr};
  // The key schedule lives as long as the configuration: freed by the pool's cleanup.
  ngx_pool_cleanup_t* cleanup = ngx_pool_cleanup_add(cf->pool, 0);
  if (cleanup == nullptr) return static_cast<char*>(NGX_CONF_ERROR);
  try {
    auto* precomputed = new p2p::keyed_hmac_sha256(secret);
    cleanup->handler = destroy_keyed_hmac;
    cleanup->data = precomputed;
    key->precomputed = precomputed;
  } catch (const std::exception& e) {
    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "key \"%V\": %s", &args[1], e.what());
    return static_cast<char*>(NGX_CONF_ERROR);
  }
  return NGX_CONF_OK;
}

bool cookie_name_char(u_char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
}

char* set_cookie_name(ngx_conf_t* cf, ngx_command_t*, void* conf) noexcept {
  auto* lcf = static_cast<access_loc_conf*>(conf);
  if (lcf->token_cookie.data != nullptr) return const_cast<char*>("is duplicate");
  auto* args = static_cast<ngx_str_t*>(cf->args->elts);
  if (ngx_strcmp(args[1].data, "off") == 0) {
    lcf->token_cookie.data = args[1].data;  // set, with len 0: explicitly off
    lcf->token_cookie.len = 0;
    return NGX_CONF_OK;
  }
  for (size_t i = 0; i < args[1].len; ++i) {
    if (!cookie_name_char(args[1].data[i])) {
      ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid cookie name \"%V\"", &args[1]);
      return static_cast<char*>(NGX_CONF_ERROR);
    }
  }
  lcf->token_cookie = args[1];
  return NGX_CONF_OK;
}

char* set_domains(ngx_conf_t* cf, ngx_command_t*, void* conf) noexcept {
  auto* lcf = static_cast<access_loc_conf*>(conf);
  if (lcf->domains != NGX_CONF_UNSET_PTR) return const_cast<char*>("is duplicate");
  auto* args = static_cast<ngx_str_t*>(cf->args->elts);
  if (cf->args->nelts == 2 && ngx_strcmp(args[1].data, "off") == 0) {
    lcf->domains = nullptr;
    return NGX_CONF_OK;
  }
  lcf->domains = ngx_array_create(cf->pool, cf->args->nelts - 1, sizeof(std::string_view));
  if (lcf->domains == nullptr) return static_cast<char*>(NGX_CONF_ERROR);
  for (ngx_uint_t i = 1; i < cf->args->nelts; ++i) {
    if (!p2p::domain_pattern_valid(view(args[i]))) {
      ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                         "invalid domain \"%V\" (a host, \"*.host\" or \".host\")", &args[i]);
      return static_cast<char*>(NGX_CONF_ERROR);
    }
    auto* pattern = static_cast<std::string_view*>(ngx_array_push(lcf->domains));
    if (pattern == nullptr) return static_cast<char*>(NGX_CONF_ERROR);
    *pattern = view(args[i]);
  }
  return NGX_CONF_OK;
}

// p2p_geo <value> allow|deny <CC>... | off
char* set_geo(ngx_conf_t* cf, ngx_command_t*, void* conf) noexcept {
  auto* lcf = static_cast<access_loc_conf*>(conf);
  if (lcf->country != NGX_CONF_UNSET_PTR) return const_cast<char*>("is duplicate");
  auto* args = static_cast<ngx_str_t*>(cf->args->elts);
  if (cf->args->nelts == 2 && ngx_strcmp(args[1].data, "off") == 0) {
    lcf->country = nullptr;
    return NGX_CONF_OK;
  }
  if (cf->args->nelts < 4) {
    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "\"p2p_geo\" needs a value, \"allow\" or \"deny\", and country codes");
    return static_cast<char*>(NGX_CONF_ERROR);
  }
  if (ngx_strcmp(args[2].data, "allow") == 0) {
    lcf->country_list = policy_allow;
  } else if (ngx_strcmp(args[2].data, "deny") == 0) {
    lcf->country_list = policy_deny;
  } else {
    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid policy \"%V\" in \"p2p_geo\", it must be \"allow\" or \"deny\"",
                       &args[2]);
    return static_cast<char*>(NGX_CONF_ERROR);
  }
  lcf->country_codes = ngx_array_create(cf->pool, cf->args->nelts - 3, sizeof(std::string_view));
  if (lcf->country_codes == nullptr) return static_cast<char*>(NGX_CONF_ERROR);
  for (ngx_uint_t i = 3; i < cf->args->nelts; ++i) {
    if (!p2p::country_code_valid(view(args[i]))) {
      ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid country code \"%V\" (two letters)",
                         &args[i]);
      return static_cast<char*>(NGX_CONF_ERROR);
    }
    auto* code = static_cast<std::string_view*>(ngx_array_push(lcf->country_codes));
    if (code == nullptr) return static_cast<char*>(NGX_CONF_ERROR);
    *code = view(args[i]);
  }
  auto* cv = static_cast<ngx_http_complex_value_t*>(
      ngx_palloc(cf->pool, sizeof(ngx_http_complex_value_t)));
  if (cv == nullptr) return static_cast<char*>(NGX_CONF_ERROR);
  ngx_http_compile_complex_value_t ccv;
  ngx_memzero(&ccv, sizeof(ccv));
  ccv.cf = cf;
  ccv.value = &args[1];
  ccv.complex_value = cv;
  if (ngx_http_compile_complex_value(&ccv) != NGX_OK) return static_cast<char*>(NGX_CONF_ERROR);
  lcf->country = cv;
  return NGX_CONF_OK;
}

char* check_deny_status(ngx_conf_t* cf, void*, void* data) noexcept {
  auto* status = static_cast<ngx_uint_t*>(data);
  if (*status < 400 || *status > 599) {
    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "\"p2p_access_deny_status\" must be 400..599");
    return static_cast<char*>(NGX_CONF_ERROR);
  }
  return NGX_CONF_OK;
}

// Denial log lines name the reason and where the request went, but not the request
// line nginx would add (its query string may carry the token).
u_char* denial_log_context(ngx_log_t* log, u_char* buf, size_t len) {
  auto* ctx = static_cast<ngx_http_log_ctx_t*>(log->data);
  u_char* p = ngx_snprintf(buf, len, ", client: %V", &ctx->connection->addr_text);
  ngx_http_request_t* r = ctx->request;
  if (r == nullptr) return p;
  auto* cscf =
      static_cast<ngx_http_core_srv_conf_t*>(ngx_http_get_module_srv_conf(r, ngx_http_core_module));
  return ngx_snprintf(p, len - size_t(p - buf), ", server: %V, uri: \"%V\"", &cscf->server_name,
                      &r->uri);
}

ngx_int_t deny(ngx_http_request_t* r, const access_loc_conf* lcf, const char* what,
               std::string_view reason) {
  ngx_log_t* log = r->connection->log;
  if (log->log_level >= lcf->log_level) {
    ngx_log_handler_pt saved = log->handler;
    log->handler = denial_log_context;
    ngx_str_t text{reason.size(), reinterpret_cast<u_char*>(const_cast<char*>(reason.data()))};
    ngx_log_error(lcf->log_level, log, 0, "p2p access denied: %s %V", what, &text);
    log->handler = saved;
  }
  return ngx_int_t(lcf->deny_status);
}

access_request_ctx* request_ctx(ngx_http_request_t* r) {
  auto* ctx =
      static_cast<access_request_ctx*>(ngx_http_get_module_ctx(r, ngx_http_p2p_access_module));
  if (ctx != nullptr) return ctx;
  ctx = static_cast<access_request_ctx*>(ngx_pcalloc(r->pool, sizeof(access_request_ctx)));
  if (ctx == nullptr) throw std::bad_alloc();
  ngx_http_set_ctx(r, ctx, ngx_http_p2p_access_module);
  return ctx;
}

// The first non-empty value of a source list ("" when all are empty).
std::string_view first_value(ngx_http_request_t* r, const ngx_array_t* sources) {
  auto* cv = static_cast<ngx_http_complex_value_t*>(sources->elts);
  for (ngx_uint_t i = 0; i < sources->nelts; ++i) {
    ngx_str_t value;
    if (ngx_http_complex_value(r, &cv[i], &value) != NGX_OK) throw std::bad_alloc();
    if (value.len > 0) return view(value);
  }
  return {};
}

p2p::hmac_key_ring ring_of(const ngx_array_t* keys) {
  return {static_cast<const p2p::hmac_key*>(keys->elts), keys->nelts};
}

const ngx_table_elt_t* find_request_header(ngx_http_request_t* r, std::string_view name) {
  for (ngx_list_part_t* part = &r->headers_in.headers.part; part; part = part->next) {
    auto* h = static_cast<ngx_table_elt_t*>(part->elts);
    for (ngx_uint_t i = 0; i < part->nelts; ++i) {
      if (h[i].key.len == name.size() &&
          ngx_strncasecmp(h[i].key.data, reinterpret_cast<u_char*>(const_cast<char*>(name.data())),
                          name.size()) == 0)
        return &h[i];
    }
  }
  return nullptr;
}

ngx_int_t check_domain(ngx_http_request_t* r, const access_loc_conf* lcf) {
  // Browsers send Origin on CORS requests (hls.js fetches) and Referer on the rest.
  const ngx_table_elt_t* origin = find_request_header(r, "Origin");
  std::string_view value;
  if (origin != nullptr && view(origin->value) != "null")
    value = view(origin->value);
  else if (r->headers_in.referer != nullptr)
    value = view(r->headers_in.referer->value);
  if (value.empty()) {
    if (lcf->domain_missing == policy_allow) return NGX_DECLINED;
    return deny(r, lcf, "domain", "missing (no Origin or Referer)");
  }
  std::string_view host = p2p::host_of_url(value);
  if (host.empty()) return deny(r, lcf, "domain", "unreadable Origin or Referer");
  auto* patterns = static_cast<std::string_view*>(lcf->domains->elts);
  for (ngx_uint_t i = 0; i < lcf->domains->nelts; ++i)
    if (p2p::domain_pattern_matches(patterns[i], host)) return NGX_DECLINED;
  // host_of_url() let only host characters through, so the host is safe to log.
  return deny(r, lcf, "domain not allowed:", host);
}

ngx_int_t check_country(ngx_http_request_t* r, const access_loc_conf* lcf) {
  ngx_str_t value;
  if (ngx_http_complex_value(r, lcf->country, &value) != NGX_OK) throw std::bad_alloc();
  std::string_view code = view(value);
  auto* codes = static_cast<std::string_view*>(lcf->country_codes->elts);
  auto kind = lcf->country_list == policy_allow ? p2p::country_list_kind::allow
                                                : p2p::country_list_kind::deny;
  bool allow_unknown = lcf->country_unknown == NGX_CONF_UNSET_UINT
                           ? lcf->country_list == policy_deny
                           : lcf->country_unknown == policy_allow;
  if (p2p::country_allowed(kind, codes, lcf->country_codes->nelts, code, allow_unknown))
    return NGX_DECLINED;
  if (!p2p::country_code_valid(code)) return deny(r, lcf, "country", "unknown");
  return deny(r, lcf, "country not allowed:", code);
}

// Characters a Cookie Path may carry as is; anything else falls back to "/" (the token
// still enforces its scope, the cookie is only sent more widely).
bool cookie_path_plain(std::string_view path) {
  for (unsigned char c : path) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              std::string_view("-._~/!$&'()*+,=:@").find(char(c)) != std::string_view::npos;
    if (!ok) return false;
  }
  return true;
}

void set_token_cookie(ngx_http_request_t* r, const access_loc_conf* lcf, std::string_view token,
                      const p2p::access_token_claims& claims) {
  ngx_str_t current;
  ngx_str_t name = lcf->token_cookie;
  if (ngx_http_parse_multi_header_lines(&r->headers_in.cookies, &name, &current) != NGX_DECLINED &&
      view(current) == token)
    return;
  std::string path = p2p::scope_cookie_path(claims.scope);
  if (!cookie_path_plain(path)) path = "/";
  int64_t max_age = claims.expires - int64_t(ngx_time());
  if (max_age < 1) max_age = 1;
  std::string header(view(lcf->token_cookie));
  header += '=';
  header += token;
  // After an internal redirect (index, try_files) the access phase runs again for the
  // same response: set the cookie once.
  for (ngx_list_part_t* part = &r->headers_out.headers.part; part; part = part->next) {
    auto* h = static_cast<ngx_table_elt_t*>(part->elts);
    for (ngx_uint_t i = 0; i < part->nelts; ++i)
      if (h[i].hash != 0 && view(h[i].key) == "Set-Cookie" &&
          view(h[i].value).substr(0, header.size() + 1) == header + ";")
        return;
  }
  header += "; Path=" + path + "; Max-Age=" + std::to_string(max_age) + "; HttpOnly; SameSite=Lax";
#if (NGX_HTTP_SSL)
  if (r->connection->ssl) header += "; Secure";
#endif
  auto* h = static_cast<ngx_table_elt_t*>(ngx_list_push(&r->headers_out.headers));
  if (h == nullptr) throw std::bad_alloc();
  h->hash = 1;
  ngx_str_set(&h->key, "Set-Cookie");
  h->value = copy_to_pool(r->pool, header);
}

ngx_int_t check_token(ngx_http_request_t* r, const access_loc_conf* lcf) {
  std::string_view token = first_value(r, lcf->token_sources);
  if (token.empty()) return deny(r, lcf, "token", "missing");
  p2p::access_token_claims claims;
  auto verdict = p2p::verify_access_token(token, ring_of(lcf->token_keys), view(r->uri),
                                          view(r->connection->addr_text), int64_t(ngx_time()),
                                          int64_t(lcf->skew), &claims, token_cache);
  if (verdict != p2p::access_verdict::ok)
    return deny(r, lcf, "token", p2p::access_verdict_reason(verdict));
  access_request_ctx* ctx = request_ctx(r);
  ctx->token_expires = claims.expires;
  ctx->token_session_id = copy_to_pool(r->pool, claims.session_id);
  if (lcf->token_cookie.len > 0) set_token_cookie(r, lcf, token, claims);
  return NGX_DECLINED;
}

ngx_int_t check_session_credential(ngx_http_request_t* r, const access_loc_conf* lcf) {
  std::string_view credential = first_value(r, lcf->session_sources);
  if (credential.empty()) return deny(r, lcf, "session credential", "missing");
  p2p::session_credential_claims claims;
  auto verdict = p2p::verify_session_credential(credential, ring_of(lcf->session_keys),
                                                int64_t(ngx_time()), int64_t(lcf->skew), &claims);
  if (verdict != p2p::access_verdict::ok)
    return deny(r, lcf, "session credential", p2p::access_verdict_reason(verdict));
  access_request_ctx* ctx = request_ctx(r);
  ctx->credential_content = copy_to_pool(r->pool, claims.content);
  ctx->credential_session_id = copy_to_pool(r->pool, claims.session_id);
  return NGX_DECLINED;
}

ngx_int_t access_handler(ngx_http_request_t* r) noexcept {
  auto* lcf =
      static_cast<access_loc_conf*>(ngx_http_get_module_loc_conf(r, ngx_http_p2p_access_module));
  if (lcf->domains == nullptr && lcf->country == nullptr && lcf->token_sources == nullptr &&
      lcf->session_sources == nullptr)
    return NGX_DECLINED;
  try {
    ngx_int_t rc;
    if (lcf->domains && (rc = check_domain(r, lcf)) != NGX_DECLINED) return rc;
    if (lcf->country && (rc = check_country(r, lcf)) != NGX_DECLINED) return rc;
    if (lcf->token_sources && (rc = check_token(r, lcf)) != NGX_DECLINED) return rc;
    if (lcf->session_sources && (rc = check_session_credential(r, lcf)) != NGX_DECLINED) return rc;
    // Granted: under "satisfy any" this is enough on its own, as with auth_basic.
    return NGX_OK;
  } catch (const std::exception& e) {
    ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0, "p2p access: %s", e.what());
  } catch (...) {
    ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0, "p2p access: unknown exception");
  }
  return NGX_HTTP_INTERNAL_SERVER_ERROR;
}

// Default content id: the request's directory ("/vod/film/index.m3u8" -> "/vod/film/").
std::string_view default_content(ngx_http_request_t* r) {
  std::string_view uri = view(r->uri);
  size_t slash = uri.rfind('/');
  return slash == std::string_view::npos ? uri : uri.substr(0, slash + 1);
}

ngx_int_t session_credential_variable(ngx_http_request_t* r, ngx_http_variable_value_t* v,
                                      uintptr_t) noexcept {
  try {
    auto* lcf =
        static_cast<access_loc_conf*>(ngx_http_get_module_loc_conf(r, ngx_http_p2p_access_module));
    v->not_found = 1;
    if (lcf->session_keys == nullptr || lcf->session_keys->nelts == 0) return NGX_OK;
    access_request_ctx* ctx = request_ctx(r);
    if (ctx->minted_credential.len == 0) {
      std::string_view content = default_content(r);
      ngx_str_t configured;
      if (lcf->session_content) {
        if (ngx_http_complex_value(r, lcf->session_content, &configured) != NGX_OK)
          return NGX_ERROR;
        content = view(configured);
      }
      // Never outlive the access that was granted.
      int64_t expires = int64_t(ngx_time()) + int64_t(lcf->session_ttl);
      if (ctx->token_expires && ctx->token_expires < expires) expires = ctx->token_expires;
      p2p::session_credential_claims claims;
      claims.expires = expires;
      claims.content = std::string(content);
      claims.session_id = std::string(view(ctx->token_session_id));
      std::string credential = p2p::mint_session_credential(
          static_cast<p2p::hmac_key*>(lcf->session_keys->elts)[0], claims);
      if (credential.empty()) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "p2p access: no session credential, content id is empty or has bytes "
                      "outside 0x21..0x7e (see \"p2p_session_content\")");
        return NGX_OK;
      }
      ctx->minted_credential = copy_to_pool(r->pool, credential);
    }
    v->data = ctx->minted_credential.data;
    v->len = unsigned(ctx->minted_credential.len);
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;
    return NGX_OK;
  } catch (const std::exception& e) {
    ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0, "p2p access: %s", e.what());
  } catch (...) {
    ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0, "p2p access: unknown exception");
  }
  return NGX_ERROR;
}

ngx_int_t credential_claim_variable(ngx_http_request_t* r, ngx_http_variable_value_t* v,
                                    uintptr_t data) noexcept {
  auto* ctx =
      static_cast<access_request_ctx*>(ngx_http_get_module_ctx(r, ngx_http_p2p_access_module));
  v->not_found = 1;
  if (ctx == nullptr) return NGX_OK;
  auto* value = reinterpret_cast<ngx_str_t*>(reinterpret_cast<char*>(ctx) + data);
  if (value->len == 0) return NGX_OK;
  v->data = value->data;
  v->len = unsigned(value->len);
  v->valid = 1;
  v->no_cacheable = 0;
  v->not_found = 0;
  return NGX_OK;
}

}  // namespace
