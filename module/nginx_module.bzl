"""Builds nginx dynamic modules against Debian's nginx-dev with Bazel.

nginx's configure (run with Debian's conf_flags, so the module carries the same
--with-compat signature as the packaged nginx) generates the two auto headers and
the ngx_modules[] table of our .so; everything else is ordinary cc rules.
"""

def nginx_configure(name, addon_name, module_names):
    """Runs nginx's configure for a dynamic module exporting `module_names`.

    Outputs objs/ngx_auto_config.h, objs/ngx_auto_headers.h and objs/<name>_modules.c.
    """
    config_lines = [
        "ngx_addon_name=" + addon_name,
        "ngx_module_type=HTTP_FILTER",
        "ngx_module_name=\\\"" + " ".join(module_names) + "\\\"",
        "ngx_module_srcs=",
        ". auto/module",
    ]
    native.genrule(
        name = name,
        srcs = ["@nginx_src//:configure_tree"],
        outs = [
            "objs/ngx_auto_config.h",
            "objs/ngx_auto_headers.h",
            "objs/" + name + "_modules.c",
        ],
        cmd = """
set -e
out=$$PWD/$(@D)
tree=$$(mktemp -d)
addon=$$(mktemp -d)
trap 'rm -rf "$$tree" "$$addon"' EXIT
src=$$(dirname $$(echo $(locations @nginx_src//:configure_tree) | tr ' ' '\\n' | grep '/configure$$'))
cp -rL "$$src"/. "$$tree"/
printf '%s\\n' {config} > "$$addon/config"
cd "$$tree"
. ./conf_flags
./configure "$${{NGX_CONF_FLAGS[@]}}" --add-dynamic-module="$$addon" >configure.log 2>&1 || {{ cat configure.log; exit 1; }}
cp objs/ngx_auto_config.h objs/ngx_auto_headers.h "$$out/objs/"
cp objs/{first}_modules.c "$$out/objs/{name}_modules.c"
""".format(
            config = " ".join(["\"" + l + "\"" for l in config_lines]),
            first = module_names[0],
            name = name,
        ),
        message = "Configuring nginx for " + addon_name,
    )
