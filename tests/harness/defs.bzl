"""Bazel rules for integration tests that run a real nginx with our module."""

def nginx_block_test(name, srcs, data = [], size = "medium", tags = []):
    """One sh_test running the block files `srcs` (tests/harness/README.md)."""
    native.sh_test(
        name = name,
        srcs = ["//tests/harness:run_blocks.sh"],
        args = ["$(location //module:ngx_http_p2p_module.so)"] +
               ["$(location %s)" % s for s in srcs],
        data = srcs + data + [
            "//module:ngx_http_p2p_module.so",
            "//tests/harness:harness_py",
        ],
        size = size,
        # nginx drops privileges in its workers (setgid/initgroups), which the
        # sandbox's user namespace forbids: these tests run unsandboxed.
        tags = tags + ["no-sandbox"],
    )

def nginx_py_test(name, src, data = [], size = "medium", tags = [], args = []):
    """A Python test script that imports nginx_harness (scripted multi-step flows)."""
    native.sh_test(
        name = name,
        srcs = ["//tests/harness:run_py.sh"],
        args = ["$(location //module:ngx_http_p2p_module.so)", "$(location %s)" % src] + args,
        data = [src] + data + [
            "//module:ngx_http_p2p_module.so",
            "//tests/harness:harness_py",
        ],
        size = size,
        # nginx drops privileges in its workers (setgid/initgroups), which the
        # sandbox's user namespace forbids: these tests run unsandboxed.
        tags = tags + ["no-sandbox"],
    )
