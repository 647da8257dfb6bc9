// ngx_http_p2p_hints_module: a body filter that rewrites HLS playlists and DASH MPDs
// so they carry the peer hints (module/hints/README.md): session data, swarm ids and
// the SHA-256 of every segment the manifest lists.
//
// The manifest is buffered whole (capped), its media items are mapped to files under
// the location's root/alias, hashes come from a shared-memory cache keyed by file
// identity or are computed in an nginx thread pool, and the rewritten manifest goes
// out with an exact Content-Length. Anything unexpected means: the original bytes,
// unchanged, and one log line.

extern "C" {
#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
}

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "module/hasher/segment_hasher.h"
#include "module/hasher/segment_path.h"
#include "module/hints/manifest_rewriter.h"
#include "module/memo/rewrite_memo.h"
#include "module/ngx_p2p_conf.h"

namespace {

constexpr ngx_uint_t kHintsBuffered = 0x08;  // our bit in r->buffered

struct hints_cache_key {
  uint64_t dev;
  uint64_t ino;
  int64_t size;
  int64_t mtime_sec;
  int64_t mtime_nsec;
  uint64_t offset;
  uint64_t length;  // UINT64_MAX: whole file
};

// Starts at the rbtree node's `color` byte (the nginx shm idiom), so its first byte
// is the node's colour and must not be touched.
struct hints_cache_node {
  u_char color;
  u_char reserved[7];
  ngx_queue_t lru;
  hints_cache_key key;
  u_char digest[32];
};

struct hints_cache_shared {
  ngx_rbtree_t rbtree;
  ngx_rbtree_node_t sentinel;
  ngx_queue_t lru;
  ngx_atomic_t entries;
  ngx_atomic_t hits;
  ngx_atomic_t misses;
  ngx_atomic_t evictions;
};

struct hints_cache {
  hints_cache_shared* sh;
  ngx_slab_pool_t* shpool;
};

struct hints_main_conf {
  ngx_shm_zone_t* cache_zone;
};

struct hints_loc_conf {
  ngx_flag_t enable;
  ngx_flag_t hash;
  size_t max_size;
  ngx_msec_t settle;
  ngx_msec_t memo_ttl;
  ngx_array_t* token_params;  // of ngx_str_t
  ngx_str_t segment_root;
  ngx_str_t thread_pool_name;
  ngx_thread_pool_t* thread_pool;
  ngx_http_complex_value_t* content_id;
  ngx_http_complex_value_t* customer_id;
  ngx_http_complex_value_t* swarm_id;
  ngx_http_complex_value_t* distributor;
  ngx_http_complex_value_t* tracker;
  ngx_http_complex_value_t* signalling;
  ngx_http_complex_value_t* analytics;
  ngx_http_complex_value_t* credential;
};

// buffering -> (hashing ->) hashed -> sent, or -> passthrough at any point before sent.
enum class hints_state { buffering, hashing, hashed, sent, passthrough };

// Per-request C++ state, owned by a pool cleanup of the request.
struct hints_work {
  std::string body;
  p2p::session_hints hints;
  std::string memo_key;                       // empty: not memoised
  std::shared_ptr<const std::string> output;  // what is being sent, alive until the pool goes
  std::string swarm_path;                     // what swarm ids derive from
  p2p::manifest_kind kind = p2p::manifest_kind::unknown;
  p2p::manifest_options options;
  std::vector<p2p::media_item> items;
  std::vector<p2p::segment_hash_job> jobs;  // one per item; done or not
  std::atomic<size_t> next_job{0};          // claimed by thread pool tasks
  ngx_uint_t tasks_outstanding = 0;         // event loop only
};

struct hints_ctx {
  hints_state state;
  hints_work* work;
  bool got_last;  // the upstream's last buffer has arrived
};

// Prototypes.
ngx_int_t hints_header_filter(ngx_http_request_t* r);
ngx_int_t hints_body_filter(ngx_http_request_t* r, ngx_chain_t* in);
ngx_int_t hints_init(ngx_conf_t* cf);
void* hints_create_main_conf(ngx_conf_t* cf);
void* hints_create_loc_conf(ngx_conf_t* cf);
char* hints_merge_loc_conf(ngx_conf_t* cf, void* parent, void* child);
char* hints_cache_zone_directive(ngx_conf_t* cf, ngx_command_t* cmd, void* conf);
char* hints_token_params_directive(ngx_conf_t* cf, ngx_command_t* cmd, void* conf);
ngx_int_t hints_cache_init_zone(ngx_shm_zone_t* zone, void* data);

ngx_http_output_header_filter_pt next_header_filter;
ngx_http_output_body_filter_pt next_body_filter;

ngx_command_t hints_commands[] = {
    {ngx_string("p2p_hints"),
     NGX_HTTP_MAIN_CONF | NGX_HTTP_SRV_CONF | NGX_HTTP_LOC_CONF | NGX_CONF_FLAG,
     ngx_conf_set_flag_slot, NGX_HTTP_LOC_CONF_OFFSET, offsetof(hints_loc_conf, enable), nullptr},
    {ngx_string("p2p_hints_hash"),
     NGX_HTTP_MAIN_CONF | NGX_HTTP_SRV_CONF | NGX_HTTP_LOC_CONF | NGX_CONF_FLAG,
     ngx_conf_set_flag_slot, NGX_HTTP_LOC_CONF_OFFSET, offsetof(hints_loc_conf, hash), nullptr},
    {ngx_string("p2p_hints_max_size"),
     NGX_HTTP_MAIN_CONF | NGX_HTTP_SRV_CONF | NGX_HTTP_LOC_CONF | NGX_CONF_TAKE1,
     ngx_conf_set_size_slot, NGX_HTTP_LOC_CONF_OFFSET, offsetof(hints_loc_conf, max_size), nullptr},
    {ngx_string("p2p_hints_hash_settle"),
     NGX_HTTP_MAIN_CONF | NGX_HTTP_SRV_CONF | NGX_HTTP_LOC_CONF | NGX_CONF_TAKE1,
     ngx_conf_set_msec_slot, NGX_HTTP_LOC_CONF_OFFSET, offsetof(hints_loc_conf, settle), nullptr},
    {ngx_string("p2p_hints_memo_ttl"),
     NGX_HTTP_MAIN_CONF | NGX_HTTP_SRV_CONF | NGX_HTTP_LOC_CONF | NGX_CONF_TAKE1,
     ngx_conf_set_msec_slot, NGX_HTTP_LOC_CONF_OFFSET, offsetof(hints_loc_conf, memo_ttl), nullptr},
    {ngx_string("p2p_hints_token_params"),
     NGX_HTTP_MAIN_CONF | NGX_HTTP_SRV_CONF | NGX_HTTP_LOC_CONF | NGX_CONF_1MORE,
     hints_token_params_directive, NGX_HTTP_LOC_CONF_OFFSET, 0, nullptr},
    {ngx_string("p2p_hints_segment_root"),
     NGX_HTTP_MAIN_CONF | NGX_HTTP_SRV_CONF | NGX_HTTP_LOC_CONF | NGX_CONF_TAKE1,
     ngx_conf_set_str_slot, NGX_HTTP_LOC_CONF_OFFSET, offsetof(hints_loc_conf, segment_root),
     nullptr},
    {ngx_string("p2p_hints_thread_pool"),
     NGX_HTTP_MAIN_CONF | NGX_HTTP_SRV_CONF | NGX_HTTP_LOC_CONF | NGX_CONF_TAKE1,
     ngx_conf_set_str_slot, NGX_HTTP_LOC_CONF_OFFSET, offsetof(hints_loc_conf, thread_pool_name),
     nullptr},
    {ngx_string("p2p_hints_cache_zone"), NGX_HTTP_MAIN_CONF | NGX_CONF_TAKE12,
     hints_cache_zone_directive, NGX_HTTP_MAIN_CONF_OFFSET, 0, nullptr},
#define P2P_HINTS_VALUE(name, field)                                                               \
  {                                                                                                \
    ngx_string(name), NGX_HTTP_MAIN_CONF | NGX_HTTP_SRV_CONF | NGX_HTTP_LOC_CONF | NGX_CONF_TAKE1, \
        ngx_http_set_complex_value_slot, NGX_HTTP_LOC_CONF_OFFSET,                                 \
        offsetof(hints_loc_conf, field), nullptr                                                   \
  }
    P2P_HINTS_VALUE("p2p_hints_content_id", content_id),
    P2P_HINTS_VALUE("p2p_hints_customer_id", customer_id),
    P2P_HINTS_VALUE("p2p_hints_swarm_id", swarm_id),
    P2P_HINTS_VALUE("p2p_hints_distributor", distributor),
    P2P_HINTS_VALUE("p2p_hints_tracker", tracker),
    P2P_HINTS_VALUE("p2p_hints_signalling", signalling),
    P2P_HINTS_VALUE("p2p_hints_analytics", analytics),
    P2P_HINTS_VALUE("p2p_hints_credential", credential),
#undef P2P_HINTS_VALUE
    ngx_null_command};

ngx_http_module_t hints_module_ctx = {
    nullptr,                 // preconfiguration
    hints_init,              // postconfiguration
    hints_create_main_conf,  // create main configuration
    nullptr,                 // init main configuration
    nullptr,                 // create server configuration
    nullptr,                 // merge server configuration
    hints_create_loc_conf,   // create location configuration
    hints_merge_loc_conf,    // merge location configuration
};

}  // namespace

extern "C" {
ngx_module_t ngx_http_p2p_hints_module = {NGX_MODULE_V1,
                                          &hints_module_ctx,  // module context
                                          hints_commands,     // module directives
                                          NGX_HTTP_MODULE,    // module type
                                          nullptr,            // init master
                                          nullptr,            // init module
                                          nullptr,            // init process
                                          nullptr,            // init thread
                                          nullptr,            // exit thread
                                          nullptr,            // exit process
                                          nullptr,            // exit master
                                          NGX_MODULE_V1_PADDING};
}

namespace {

// ---------------------------------------------------------------------------
// Configuration

void* hints_create_main_conf(ngx_conf_t* cf) {
  // ngx_pcalloc set: cache_zone = NULL
  return ngx_pcalloc(cf->pool, sizeof(hints_main_conf));
}

void* hints_create_loc_conf(ngx_conf_t* cf) {
  auto* conf = static_cast<hints_loc_conf*>(ngx_pcalloc(cf->pool, sizeof(hints_loc_conf)));
  if (conf == nullptr) return nullptr;
  // ngx_pcalloc set: token_params = NULL, segment_root = { 0, NULL },
  // thread_pool_name = { 0, NULL }, thread_pool = NULL, every complex value = NULL
  conf->enable = NGX_CONF_UNSET;
  conf->hash = NGX_CONF_UNSET;
  conf->max_size = NGX_CONF_UNSET_SIZE;
  conf->settle = NGX_CONF_UNSET_MSEC;
  conf->memo_ttl = NGX_CONF_UNSET_MSEC;
  return conf;
}

char* hints_merge_loc_conf(ngx_conf_t* cf, void* parent, void* child) {
  auto* prev = static_cast<hints_loc_conf*>(parent);
  auto* conf = static_cast<hints_loc_conf*>(child);
  ngx_conf_merge_value(conf->enable, prev->enable, 0);
  ngx_conf_merge_value(conf->hash, prev->hash, 1);
  ngx_conf_merge_size_value(conf->max_size, prev->max_size, 4 * 1024 * 1024);
  ngx_conf_merge_msec_value(conf->settle, prev->settle, 1000);
  ngx_conf_merge_msec_value(conf->memo_ttl, prev->memo_ttl, 1000);
  ngx_conf_merge_ptr_value(conf->token_params, prev->token_params, nullptr);
  ngx_conf_merge_str_value(conf->segment_root, prev->segment_root, "");
  ngx_conf_merge_str_value(conf->thread_pool_name, prev->thread_pool_name, "default");
#define P2P_MERGE_CV(f) \
  if (conf->f == nullptr) conf->f = prev->f
  P2P_MERGE_CV(content_id);
  P2P_MERGE_CV(customer_id);
  P2P_MERGE_CV(swarm_id);
  P2P_MERGE_CV(distributor);
  P2P_MERGE_CV(tracker);
  P2P_MERGE_CV(signalling);
  P2P_MERGE_CV(analytics);
  P2P_MERGE_CV(credential);
#undef P2P_MERGE_CV
  if (conf->max_size < 1024 || conf->max_size > 64 * 1024 * 1024) {
    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "\"p2p_hints_max_size\" must be between 1k and 64m, not %uz",
                       conf->max_size);
    return static_cast<char*>(NGX_CONF_ERROR);
  }
  if (conf->enable && conf->hash) {
    auto* mcf = static_cast<hints_main_conf*>(
        ngx_http_conf_get_module_main_conf(cf, ngx_http_p2p_hints_module));
    if (mcf->cache_zone == nullptr) {
      ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                         "\"p2p_hints\" with segment hashes needs \"p2p_hints_cache_zone\" "
                         "in the http block (or \"p2p_hints_hash off\")");
      return static_cast<char*>(NGX_CONF_ERROR);
    }
    conf->thread_pool = ngx_thread_pool_add(cf, &conf->thread_pool_name);
    if (conf->thread_pool == nullptr) return static_cast<char*>(NGX_CONF_ERROR);
  }
  return NGX_CONF_OK;
}

// p2p_hints_cache_zone name:size; (or name size)
char* hints_cache_zone_directive(ngx_conf_t* cf, ngx_command_t* cmd, void* conf) {
  auto* mcf = static_cast<hints_main_conf*>(conf);
  if (mcf->cache_zone != nullptr) return const_cast<char*>("is duplicate");
  ngx_str_t name;
  ssize_t size;
  if (!p2p_conf::zone_args(cf, &name, &size)) return static_cast<char*>(NGX_CONF_ERROR);
  mcf->cache_zone = ngx_shared_memory_add(cf, &name, size, &ngx_http_p2p_hints_module);
  if (mcf->cache_zone == nullptr) return static_cast<char*>(NGX_CONF_ERROR);
  if (mcf->cache_zone->data) {
    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "zone \"%V\" is already used", &name);
    return static_cast<char*>(NGX_CONF_ERROR);
  }
  auto* cache = static_cast<hints_cache*>(ngx_pcalloc(cf->pool, sizeof(hints_cache)));
  if (cache == nullptr) return static_cast<char*>(NGX_CONF_ERROR);
  mcf->cache_zone->init = hints_cache_init_zone;
  mcf->cache_zone->data = cache;
  return NGX_CONF_OK;
}

// p2p_hints_token_params name ...;
char* hints_token_params_directive(ngx_conf_t* cf, ngx_command_t* cmd, void* conf) {
  auto* lcf = static_cast<hints_loc_conf*>(conf);
  if (lcf->token_params != nullptr) return const_cast<char*>("is duplicate");
  ngx_str_t* value = static_cast<ngx_str_t*>(cf->args->elts);
  lcf->token_params = ngx_array_create(cf->pool, cf->args->nelts - 1, sizeof(ngx_str_t));
  if (lcf->token_params == nullptr) return static_cast<char*>(NGX_CONF_ERROR);
  for (ngx_uint_t i = 1; i < cf->args->nelts; ++i) {
    for (size_t k = 0; k < value[i].len; ++k) {
      u_char c = value[i].data[k];
      if (c == '=' || c == '&' || c == ';' || c == '/' || c == '?' || c <= ' ') {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid token parameter name \"%V\"", &value[i]);
        return static_cast<char*>(NGX_CONF_ERROR);
      }
    }
    auto* p = static_cast<ngx_str_t*>(ngx_array_push(lcf->token_params));
    if (p == nullptr) return static_cast<char*>(NGX_CONF_ERROR);
    *p = value[i];
  }
  return NGX_CONF_OK;
}

// ---------------------------------------------------------------------------
// The hash cache: slab + rbtree + LRU queue in a shared zone, reused on reload.

void cache_rbtree_insert(ngx_rbtree_node_t* temp, ngx_rbtree_node_t* node,
                         ngx_rbtree_node_t* sentinel) {
  ngx_rbtree_node_t** p;
  for (;;) {
    if (node->key < temp->key) {
      p = &temp->left;
    } else if (node->key > temp->key) {
      p = &temp->right;
    } else {
      auto* a = reinterpret_cast<hints_cache_node*>(&node->color);
      auto* b = reinterpret_cast<hints_cache_node*>(&temp->color);
      p = std::memcmp(&a->key, &b->key, sizeof(hints_cache_key)) < 0 ? &temp->left : &temp->right;
    }
    if (*p == sentinel) break;
    temp = *p;
  }
  *p = node;
  node->parent = temp;
  node->left = sentinel;
  node->right = sentinel;
  ngx_rbt_red(node);
}

ngx_int_t hints_cache_init_zone(ngx_shm_zone_t* zone, void* data) {
  auto* cache = static_cast<hints_cache*>(zone->data);
  auto* old = static_cast<hints_cache*>(data);
  if (old) {  // reload: keep the hashes computed so far
    cache->sh = old->sh;
    cache->shpool = old->shpool;
    return NGX_OK;
  }
  cache->shpool = reinterpret_cast<ngx_slab_pool_t*>(zone->shm.addr);
  if (zone->shm.exists) {
    cache->sh = static_cast<hints_cache_shared*>(cache->shpool->data);
    return NGX_OK;
  }
  cache->sh =
      static_cast<hints_cache_shared*>(ngx_slab_alloc(cache->shpool, sizeof(hints_cache_shared)));
  if (cache->sh == nullptr) return NGX_ERROR;
  std::memset(cache->sh, 0, sizeof(hints_cache_shared));
  cache->shpool->data = cache->sh;
  ngx_rbtree_init(&cache->sh->rbtree, &cache->sh->sentinel, cache_rbtree_insert);
  ngx_queue_init(&cache->sh->lru);
  static const char kCtx[] = " in p2p_hints_cache_zone \"\"";
  size_t len = sizeof(kCtx) + zone->shm.name.len;
  cache->shpool->log_ctx = static_cast<u_char*>(ngx_slab_alloc(cache->shpool, len));
  if (cache->shpool->log_ctx == nullptr) return NGX_ERROR;
  ngx_sprintf(cache->shpool->log_ctx, " in p2p_hints_cache_zone \"%V\"%Z", &zone->shm.name);
  cache->shpool->log_nomem = 0;  // eviction handles a full zone; no log line per miss
  return NGX_OK;
}

uint32_t cache_hash(const hints_cache_key& key) {
  return ngx_crc32_short(reinterpret_cast<u_char*>(const_cast<hints_cache_key*>(&key)),
                         sizeof(key));
}

// Caller holds the zone mutex.
hints_cache_node* cache_find_locked(hints_cache* cache, const hints_cache_key& key) {
  uint32_t hash = cache_hash(key);
  ngx_rbtree_node_t* node = cache->sh->rbtree.root;
  ngx_rbtree_node_t* sentinel = cache->sh->rbtree.sentinel;
  while (node != sentinel) {
    if (hash < node->key) {
      node = node->left;
      continue;
    }
    if (hash > node->key) {
      node = node->right;
      continue;
    }
    auto* entry = reinterpret_cast<hints_cache_node*>(&node->color);
    int rc = std::memcmp(&key, &entry->key, sizeof(key));
    if (rc == 0) return entry;
    node = rc < 0 ? node->left : node->right;
  }
  return nullptr;
}

bool cache_lookup(hints_cache* cache, const hints_cache_key& key, p2p::sha256_digest* out) {
  ngx_shmtx_lock(&cache->shpool->mutex);
  hints_cache_node* entry = cache_find_locked(cache, key);
  if (entry) {
    std::memcpy(out->data(), entry->digest, 32);
    ngx_queue_remove(&entry->lru);
    ngx_queue_insert_head(&cache->sh->lru, &entry->lru);
    cache->sh->hits++;
  } else {
    cache->sh->misses++;
  }
  ngx_shmtx_unlock(&cache->shpool->mutex);
  return entry != nullptr;
}

void cache_store(hints_cache* cache, const hints_cache_key& key, const p2p::sha256_digest& d) {
  size_t size = offsetof(ngx_rbtree_node_t, color) + sizeof(hints_cache_node);
  ngx_shmtx_lock(&cache->shpool->mutex);
  if (cache_find_locked(cache, key) == nullptr) {
    auto* node = static_cast<ngx_rbtree_node_t*>(ngx_slab_alloc_locked(cache->shpool, size));
    // A full zone drops least recently used hashes until the new one fits.
    for (int tries = 0; node == nullptr && tries < 64 && !ngx_queue_empty(&cache->sh->lru);
         ++tries) {
      ngx_queue_t* q = ngx_queue_last(&cache->sh->lru);
      auto* victim = ngx_queue_data(q, hints_cache_node, lru);
      auto* vnode = reinterpret_cast<ngx_rbtree_node_t*>(reinterpret_cast<u_char*>(victim) -
                                                         offsetof(ngx_rbtree_node_t, color));
      ngx_queue_remove(q);
      ngx_rbtree_delete(&cache->sh->rbtree, vnode);
      ngx_slab_free_locked(cache->shpool, vnode);
      cache->sh->entries--;
      cache->sh->evictions++;
      node = static_cast<ngx_rbtree_node_t*>(ngx_slab_alloc_locked(cache->shpool, size));
    }
    if (node) {
      auto* entry = reinterpret_cast<hints_cache_node*>(&node->color);
      entry->key = key;
      std::memcpy(entry->digest, d.data(), 32);
      node->key = cache_hash(key);
      ngx_rbtree_insert(&cache->sh->rbtree, node);
      ngx_queue_insert_head(&cache->sh->lru, &entry->lru);
      cache->sh->entries++;
    }
  }
  ngx_shmtx_unlock(&cache->shpool->mutex);
}

// ---------------------------------------------------------------------------
// Mapping a manifest's media item to a local file

bool is_manifest_response(ngx_http_request_t* r) {
  static const char* const kTypes[] = {"application/vnd.apple.mpegurl", "application/x-mpegurl",
                                       "audio/mpegurl", "audio/x-mpegurl", "application/dash+xml"};
  ngx_str_t& type = r->headers_out.content_type;
  size_t len = type.len;
  for (size_t i = 0; i < type.len; ++i) {
    if (type.data[i] == ';' || type.data[i] == ' ') {
      len = i;
      break;
    }
  }
  for (const char* t : kTypes) {
    size_t tl = std::strlen(t);
    if (len == tl &&
        ngx_strncasecmp(type.data, reinterpret_cast<u_char*>(const_cast<char*>(t)), tl) == 0)
      return true;
  }
  // Packagers and misconfigured types: trust the extension of the request path.
  auto ends_with = [&](const char* ext) {
    size_t el = std::strlen(ext);
    return r->uri.len >= el &&
           ngx_strncasecmp(r->uri.data + r->uri.len - el,
                           reinterpret_cast<u_char*>(const_cast<char*>(ext)), el) == 0;
  };
  return ends_with(".m3u8") || ends_with(".mpd");
}

// The file a request for `uri` would be served from in this location (root or alias),
// or from p2p_hints_segment_root for proxied manifests. Empty: unknown.
std::string map_to_file(ngx_http_request_t* r, hints_loc_conf* conf, const std::string& uri) {
  if (conf->segment_root.len) {
    return std::string(reinterpret_cast<char*>(conf->segment_root.data), conf->segment_root.len) +
           uri;
  }
  if (r->upstream != nullptr) return "";  // proxied: no local files to hash
  auto* clcf =
      static_cast<ngx_http_core_loc_conf_t*>(ngx_http_get_module_loc_conf(r, ngx_http_core_module));
  if (clcf->alias) {
    if (clcf->alias == NGX_MAX_SIZE_T_VALUE || clcf->alias > uri.size() ||
        uri.compare(0, clcf->name.len, reinterpret_cast<char*>(clcf->name.data), clcf->name.len) !=
            0)
      return "";
  }
  ngx_str_t saved = r->uri;
  r->uri.len = uri.size();
  r->uri.data = reinterpret_cast<u_char*>(const_cast<char*>(uri.data()));
  ngx_str_t path;
  size_t root;
  u_char* last = ngx_http_map_uri_to_path(r, &path, &root, 0);
  r->uri = saved;
  if (last == nullptr) return "";
  return std::string(reinterpret_cast<char*>(path.data), last - path.data);
}

// ---------------------------------------------------------------------------
// Filters

std::string eval_value(ngx_http_request_t* r, ngx_http_complex_value_t* cv) {
  if (cv == nullptr) return "";
  ngx_str_t v;
  if (ngx_http_complex_value(r, cv, &v) != NGX_OK) return "";
  return std::string(reinterpret_cast<char*>(v.data), v.len);
}

std::vector<std::string> token_params(hints_loc_conf* conf) {
  std::vector<std::string> out;
  if (conf->token_params == nullptr) return out;
  auto* names = static_cast<ngx_str_t*>(conf->token_params->elts);
  for (ngx_uint_t i = 0; i < conf->token_params->nelts; ++i)
    out.emplace_back(reinterpret_cast<char*>(names[i].data), names[i].len);
  return out;
}

void delete_work(void* data) { delete static_cast<hints_work*>(data); }

ngx_int_t hints_header_filter(ngx_http_request_t* r) {
  auto* conf =
      static_cast<hints_loc_conf*>(ngx_http_get_module_loc_conf(r, ngx_http_p2p_hints_module));
  if (!conf->enable || r != r->main || r->headers_out.status != NGX_HTTP_OK ||
      !is_manifest_response(r))
    return next_header_filter(r);

  if (r->header_only) {
    // The rewritten length is unknown without the body: say nothing rather than lie.
    ngx_http_clear_content_length(r);
    ngx_http_clear_accept_ranges(r);
    ngx_http_clear_etag(r);
    ngx_http_clear_last_modified(r);
    return next_header_filter(r);
  }
  if (r->headers_out.content_encoding && r->headers_out.content_encoding->value.len) {
    ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                  "p2p hints: manifest is \"%V\"-encoded, served without hints "
                  "(clear Accept-Encoding towards the upstream)",
                  &r->headers_out.content_encoding->value);
    return next_header_filter(r);
  }
  if (r->headers_out.content_length_n > static_cast<off_t>(conf->max_size)) {
    ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                  "p2p hints: manifest of %O bytes is over p2p_hints_max_size, served as is",
                  r->headers_out.content_length_n);
    return next_header_filter(r);
  }

  auto* ctx = static_cast<hints_ctx*>(ngx_pcalloc(r->pool, sizeof(hints_ctx)));
  ngx_pool_cleanup_t* cln = ngx_pool_cleanup_add(r->pool, 0);
  if (ctx == nullptr || cln == nullptr) return NGX_ERROR;
  try {
    ctx->work = new hints_work();
  } catch (...) {
    return NGX_ERROR;
  }
  cln->handler = delete_work;
  cln->data = ctx->work;
  ctx->state = hints_state::buffering;
  ngx_http_set_ctx(r, ctx, ngx_http_p2p_hints_module);
  r->filter_need_in_memory = 1;
  // The header goes out once the rewritten body (or the decision to pass) is known.
  return NGX_OK;
}

// A buffer over bytes the request's work object owns (freed with the request pool).
ngx_chain_t* chain_over(ngx_http_request_t* r, const std::string& bytes, bool last) {
  ngx_buf_t* b = static_cast<ngx_buf_t*>(ngx_calloc_buf(r->pool));
  ngx_chain_t* cl = ngx_alloc_chain_link(r->pool);
  if (b == nullptr || cl == nullptr) return nullptr;
  b->pos = reinterpret_cast<u_char*>(const_cast<char*>(bytes.data()));
  b->last = b->pos + bytes.size();
  b->start = b->pos;
  b->end = b->last;
  b->memory = bytes.empty() ? 0 : 1;
  b->sync = bytes.empty() && !last ? 1 : 0;
  b->last_buf = last && r == r->main ? 1 : 0;
  b->last_in_chain = last ? 1 : 0;
  cl->buf = b;
  cl->next = nullptr;
  return cl;
}

// Sends the original headers and every byte received so far, then lets the rest through.
ngx_int_t pass_through(ngx_http_request_t* r, hints_ctx* ctx) {
  ctx->state = hints_state::passthrough;
  r->buffered &= ~kHintsBuffered;
  ngx_int_t rc = next_header_filter(r);
  if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) return rc;
  if (ctx->work->body.empty() && !ctx->got_last) return NGX_OK;
  ngx_chain_t* cl = chain_over(r, ctx->work->body, ctx->got_last);
  if (cl == nullptr) return NGX_ERROR;
  return next_body_filter(r, cl);
}

ngx_int_t send_rewritten(ngx_http_request_t* r, hints_ctx* ctx,
                         std::shared_ptr<const std::string> output) {
  ctx->work->output = std::move(output);
  const std::string& bytes = *ctx->work->output;
  ngx_chain_t* cl = chain_over(r, bytes, true);
  if (cl == nullptr) return NGX_ERROR;
  ngx_http_clear_content_length(r);  // the header element; the length is set below
  r->headers_out.content_length_n = static_cast<off_t>(bytes.size());
  ngx_http_clear_accept_ranges(r);
  ngx_http_clear_etag(r);
  ngx_http_clear_last_modified(r);
  r->buffered &= ~kHintsBuffered;
  ctx->state = hints_state::sent;
  ngx_int_t rc = next_header_filter(r);
  if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) return rc;
  return next_body_filter(r, cl);
}

int64_t now_unix_ms() {
  ngx_time_t* tp = ngx_timeofday();
  return static_cast<int64_t>(tp->sec) * 1000 + static_cast<int64_t>(tp->msec);
}

// One per worker process: created on first use, gone with the process (a reload
// starts new workers, so nothing outlives the configuration that made it).
p2p::rewrite_memo& worker_memo() {
  static p2p::rewrite_memo memo(512, 32u << 20);
  return memo;
}

// The session hints of this request, from the location's complex values.
void evaluate_hints(ngx_http_request_t* r, hints_loc_conf* conf, hints_work& w) {
  p2p::session_hints& hints = w.hints;
  std::string uri(reinterpret_cast<char*>(r->uri.data), r->uri.len);
  std::string path = p2p::swarm_path(uri, token_params(conf));
  hints.customer_id = eval_value(r, conf->customer_id);
  hints.content_id = eval_value(r, conf->content_id);
  if (hints.content_id.empty()) hints.content_id = path.substr(0, path.rfind('/') + 1);
  std::string swarm_base = eval_value(r, conf->swarm_id);
  if (!swarm_base.empty()) path = swarm_base;
  w.swarm_path = path;
  hints.distributor_url = eval_value(r, conf->distributor);
  hints.tracker_url = eval_value(r, conf->tracker);
  hints.signalling_url = eval_value(r, conf->signalling);
  hints.analytics_url = eval_value(r, conf->analytics);
  hints.credential = eval_value(r, conf->credential);
  if (conf->memo_ttl > 0) {
    w.memo_key = uri;
    for (const std::string* v :
         {&hints.customer_id, &hints.content_id, &path, &hints.distributor_url, &hints.tracker_url,
          &hints.signalling_url, &hints.analytics_url, &hints.credential}) {
      w.memo_key += '\0';
      w.memo_key += *v;
    }
    w.memo_key += '\0';
    w.memo_key.append(reinterpret_cast<char*>(r->headers_out.content_type.data),
                      r->headers_out.content_type.len);
  }
}

// Rewrites with the hashes found; on any non-ok status, the original goes out.
ngx_int_t finish(ngx_http_request_t* r, hints_ctx* ctx) {
  auto* conf =
      static_cast<hints_loc_conf*>(ngx_http_get_module_loc_conf(r, ngx_http_p2p_hints_module));
  hints_work& w = *ctx->work;
  // Swarm ids cost a SHA-256 each: computed only when the memo could not answer.
  w.hints.swarm_base_id = p2p::swarm_id(w.hints.customer_id, w.swarm_path, "");
  w.hints.rendition_swarm_id = [customer = w.hints.customer_id,
                                path = w.swarm_path](std::string_view key) {
    return p2p::swarm_id(customer, path, key);
  };
  size_t next = 0;
  bool settled = true;
  for (const auto& job : w.jobs)
    if (job.result == p2p::segment_hash_result::unsettled ||
        job.result == p2p::segment_hash_result::changed ||
        job.result == p2p::segment_hash_result::io_error)
      settled = false;
  auto lookup = [&](const p2p::media_item&) -> std::optional<p2p::sha256_digest> {
    size_t i = next++;
    if (i < w.jobs.size() && w.jobs[i].result == p2p::segment_hash_result::ok)
      return w.jobs[i].digest;
    return std::nullopt;
  };
  p2p::rewrite_result result = p2p::rewrite_manifest(w.body, w.kind, w.hints, lookup, w.options);
  if (result.status != p2p::rewrite_status::ok) {
    ngx_uint_t level =
        result.status == p2p::rewrite_status::already_hinted ? NGX_LOG_INFO : NGX_LOG_WARN;
    ngx_log_error(level, r->connection->log, 0, "p2p hints: manifest served as is: %s%s%s",
                  p2p::rewrite_status_name(result.status), result.reason.empty() ? "" : ", ",
                  result.reason.c_str());
    return pass_through(r, ctx);
  }
  auto output = std::make_shared<const std::string>(std::move(result.output));
  // Only a rewrite whose every hash is final may be reused: an unsettled segment
  // must get its hash on a later request.
  if (!w.memo_key.empty() && settled)
    worker_memo().store(w.memo_key, w.body, output,
                        now_unix_ms() + static_cast<int64_t>(conf->memo_ttl));
  return send_rewritten(r, ctx, std::move(output));
}

hints_cache* cache_of(ngx_http_request_t* r) {
  auto* mcf =
      static_cast<hints_main_conf*>(ngx_http_get_module_main_conf(r, ngx_http_p2p_hints_module));
  return mcf->cache_zone ? static_cast<hints_cache*>(mcf->cache_zone->data) : nullptr;
}

hints_cache_key key_of(const p2p::segment_hash_job& job) {
  hints_cache_key key;
  std::memset(&key, 0, sizeof(key));
  key.dev = job.identity.dev;
  key.ino = job.identity.ino;
  key.size = job.identity.size;
  key.mtime_sec = job.identity.mtime_sec;
  key.mtime_nsec = job.identity.mtime_nsec;
  key.offset = job.offset;
  key.length = job.length;
  return key;
}

struct hash_task_ctx {
  ngx_http_request_t* request;
  hints_work* work;
};

void hash_task_handler(void* data, ngx_log_t*) {
  // Runs in a thread pool thread: touches only the jobs it claims, never nginx state.
  auto* task = static_cast<hash_task_ctx*>(data);
  std::vector<p2p::segment_hash_job>& jobs = task->work->jobs;
  for (size_t i = task->work->next_job.fetch_add(1); i < jobs.size();
       i = task->work->next_job.fetch_add(1)) {
    if (jobs[i].result == p2p::segment_hash_result::pending) p2p::hash_segment(&jobs[i]);
  }
}

void hash_task_done(ngx_event_t* ev) {
  auto* task = static_cast<hash_task_ctx*>(ev->data);
  ngx_http_request_t* r = task->request;
  ngx_connection_t* c = r->connection;
  ngx_http_set_log_request(c->log, r);
  r->main->blocked--;
  if (--task->work->tasks_outstanding > 0) return;  // the last task to finish goes on
  r->aio = 0;
  auto* ctx = static_cast<hints_ctx*>(ngx_http_get_module_ctx(r, ngx_http_p2p_hints_module));
  if (ctx && ctx->state == hints_state::hashing) {
    hints_cache* cache = cache_of(r);
    for (auto& job : task->work->jobs) {
      if (job.result == p2p::segment_hash_result::ok && job.fresh && cache)
        cache_store(cache, key_of(job), job.digest);
    }
    ctx->state = hints_state::hashed;
  }
  if (r->done) {
    c->write->handler(c->write);
  } else {
    r->write_event_handler(r);
    ngx_http_run_posted_requests(c);
  }
}

// Plans the hash jobs for every item; returns how many need the thread pool.
size_t plan_hashes(ngx_http_request_t* r, hints_loc_conf* conf, hints_work& w) {
  hints_cache* cache = cache_of(r);
  std::string manifest(reinterpret_cast<char*>(r->uri.data), r->uri.len);
  size_t pending = 0;
  int64_t now_ms = now_unix_ms();
  w.jobs.resize(w.items.size());
  for (size_t i = 0; i < w.items.size(); ++i) {
    const p2p::media_item& item = w.items[i];
    p2p::segment_hash_job& job = w.jobs[i];
    job.result = p2p::segment_hash_result::skipped;
    if (!conf->hash) continue;
    std::string local = p2p::resolve_segment_path(manifest, item.uri);
    if (local.empty()) continue;
    job.path = map_to_file(r, conf, local);
    if (job.path.empty()) continue;
    job.offset = item.range ? item.range->offset : 0;
    job.length = item.range ? item.range->length : UINT64_MAX;
    job.settle_ms = static_cast<int64_t>(conf->settle);
    job.now_unix_ms = now_ms;
    // Metadata only on the event loop (nginx itself stats every static file here);
    // the bytes are read in the thread pool.
    if (!p2p::stat_segment(&job)) continue;
    p2p::sha256_digest d;
    if (cache && cache_lookup(cache, key_of(job), &d)) {
      job.digest = d;
      job.result = p2p::segment_hash_result::ok;
      continue;
    }
    job.result = p2p::segment_hash_result::pending;
    ++pending;
  }
  return pending;
}

// Segments are hashed by up to this many thread pool tasks at once, each claiming the
// next unhashed segment, so a manifest with many new segments uses every core.
constexpr size_t kMaxHashTasks = 4;

ngx_int_t start_hashing(ngx_http_request_t* r, hints_loc_conf* conf, hints_ctx* ctx,
                        size_t pending) {
  size_t tasks = pending < kMaxHashTasks ? pending : kMaxHashTasks;
  ctx->state = hints_state::hashing;
  for (size_t i = 0; i < tasks; ++i) {
    ngx_thread_task_t* task = ngx_thread_task_alloc(r->pool, sizeof(hash_task_ctx));
    if (task == nullptr) return i ? NGX_OK : NGX_ERROR;
    auto* tctx = static_cast<hash_task_ctx*>(task->ctx);
    tctx->request = r;
    tctx->work = ctx->work;
    task->handler = hash_task_handler;
    task->event.data = tctx;
    task->event.handler = hash_task_done;
    if (ngx_thread_task_post(conf->thread_pool, task) != NGX_OK) return i ? NGX_OK : NGX_ERROR;
    ctx->work->tasks_outstanding++;
    r->main->blocked++;
    r->aio = 1;
  }
  return NGX_OK;
}

ngx_int_t body_filter(ngx_http_request_t* r, ngx_chain_t* in, hints_ctx* ctx) {
  auto* conf =
      static_cast<hints_loc_conf*>(ngx_http_get_module_loc_conf(r, ngx_http_p2p_hints_module));
  if (ctx->state == hints_state::hashed) return finish(r, ctx);
  if (ctx->state == hints_state::passthrough || ctx->state == hints_state::sent)
    return next_body_filter(r, in);
  if (ctx->state == hints_state::hashing) return in ? NGX_OK : NGX_AGAIN;

  hints_work& w = *ctx->work;
  for (ngx_chain_t* cl = in; cl; cl = cl->next) {
    ngx_buf_t* b = cl->buf;
    if (ngx_buf_special(b) == 0 && !ngx_buf_in_memory(b)) {
      ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0, "p2p hints: buffer not in memory");
      return NGX_ERROR;
    }
    // The body is kept whole (pass-through sends it as it came, byte for byte).
    if (b->last > b->pos) w.body.append(reinterpret_cast<char*>(b->pos), b->last - b->pos);
    b->pos = b->last;  // consumed
    if (b->last_buf || b->last_in_chain) ctx->got_last = true;
  }
  r->buffered |= kHintsBuffered;
  if (w.body.size() > conf->max_size) {
    ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                  "p2p hints: manifest over p2p_hints_max_size (%uz), served as is",
                  conf->max_size);
    return pass_through(r, ctx);
  }
  if (!ctx->got_last) return NGX_OK;

  evaluate_hints(r, conf, w);
  if (!w.memo_key.empty()) {
    auto memo = worker_memo().find(w.memo_key, w.body, now_unix_ms());
    if (memo) return send_rewritten(r, ctx, std::move(memo));
  }
  std::string type(reinterpret_cast<char*>(r->headers_out.content_type.data),
                   r->headers_out.content_type.len);
  std::string uri(reinterpret_cast<char*>(r->uri.data), r->uri.len);
  w.kind = p2p::detect_manifest_kind(w.body, type, uri);
  w.options.max_manifest_bytes = conf->max_size;
  w.options.now_unix_ms = now_unix_ms();
  if (w.kind == p2p::manifest_kind::unknown) {
    ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                  "p2p hints: not an HLS playlist or DASH MPD, served as is");
    return pass_through(r, ctx);
  }
  p2p::media_list_result list = p2p::list_media_items(w.body, w.kind, w.options);
  if (list.status != p2p::rewrite_status::ok) {
    ngx_uint_t level =
        list.status == p2p::rewrite_status::already_hinted ? NGX_LOG_INFO : NGX_LOG_WARN;
    ngx_log_error(level, r->connection->log, 0, "p2p hints: manifest served as is: %s%s%s",
                  p2p::rewrite_status_name(list.status), list.reason.empty() ? "" : ", ",
                  list.reason.c_str());
    return pass_through(r, ctx);
  }
  w.items = std::move(list.items);
  size_t pending = plan_hashes(r, conf, w);
  if (pending > 0) {
    if (start_hashing(r, conf, ctx, pending) != NGX_OK) return NGX_ERROR;
    return NGX_OK;
  }
  return finish(r, ctx);
}

ngx_int_t hints_body_filter(ngx_http_request_t* r, ngx_chain_t* in) {
  auto* ctx = static_cast<hints_ctx*>(ngx_http_get_module_ctx(r, ngx_http_p2p_hints_module));
  if (ctx == nullptr) return next_body_filter(r, in);
  try {
    return body_filter(r, in, ctx);
  } catch (const std::exception& e) {
    ngx_log_error(NGX_LOG_ERR, r->connection->log, 0, "p2p hints: %s", e.what());
  } catch (...) {
    ngx_log_error(NGX_LOG_ERR, r->connection->log, 0, "p2p hints: unknown exception");
  }
  if (ctx->state == hints_state::buffering) return pass_through(r, ctx);
  return NGX_ERROR;
}

ngx_int_t hints_init(ngx_conf_t*) {
  next_header_filter = ngx_http_top_header_filter;
  ngx_http_top_header_filter = hints_header_filter;
  next_body_filter = ngx_http_top_body_filter;
  ngx_http_top_body_filter = hints_body_filter;
  return NGX_OK;
}

}  // namespace
