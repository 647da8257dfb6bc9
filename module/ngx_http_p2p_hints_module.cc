extern "C" {
#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
}

namespace {
ngx_command_t commands[] = {ngx_null_command};
ngx_http_module_t ctx = {nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr};
}  // namespace

extern "C" {
ngx_module_t ngx_http_p2p_hints_module = {NGX_MODULE_V1, &ctx, commands, NGX_HTTP_MODULE, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, NGX_MODULE_V1_PADDING};
}
