// Helpers shared by the p2p nginx modules' glue: directive arguments and nginx string
// conversions.
#pragma once

#include <string_view>

extern "C" {
#include <ngx_config.h>
#include <ngx_core.h>
}

namespace p2p_conf {

inline std::string_view view(const ngx_str_t& s) {
  return {reinterpret_cast<const char*>(s.data), s.len};
}

// The arguments of every p2p_*_zone directive, in either spelling nginx itself uses:
// one argument "name:size" (as keys_zone= and limit_req_zone's zone=) or two, "name
// size" (as the upstream zone directive). The size is at least eight pages. Logs the
// reason at `emerg` (nginx adds the file and line) and returns false when refused.
inline bool zone_args(ngx_conf_t* cf, ngx_str_t* name, ssize_t* size) {
  auto* args = static_cast<ngx_str_t*>(cf->args->elts);
  ngx_str_t size_text;
  if (cf->args->nelts == 2) {
    u_char* colon =
        static_cast<u_char*>(ngx_strlchr(args[1].data, args[1].data + args[1].len, ':'));
    if (colon == nullptr) {
      ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                         "invalid zone \"%V\", expected name:size or name size", &args[1]);
      return false;
    }
    *name = {static_cast<size_t>(colon - args[1].data), args[1].data};
    size_text = {static_cast<size_t>(args[1].data + args[1].len - colon - 1), colon + 1};
  } else {
    *name = args[1];
    size_text = args[2];
  }
  if (name->len == 0 || ngx_strlchr(name->data, name->data + name->len, ':') != nullptr) {
    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid zone name \"%V\"", name);
    return false;
  }
  *size = ngx_parse_size(&size_text);
  if (*size == NGX_ERROR) {
    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid zone size \"%V\"", &size_text);
    return false;
  }
  if (*size < static_cast<ssize_t>(8 * ngx_pagesize)) {
    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "zone \"%V\" is too small (at least %uzk)", name,
                       8 * ngx_pagesize / 1024);
    return false;
  }
  return true;
}

}  // namespace p2p_conf
