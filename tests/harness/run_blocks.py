#!/usr/bin/env python3
"""Runs Test::Nginx-style block files against a real nginx with our module.

    run_blocks.py --module PATH/ngx_http_p2p_module.so cases.t [more.t ...]

Each case starts its own nginx (fresh prefix, free loopback ports), so cases are
independent. Prints one line per case and a closing `N passed, N failed`.
Block syntax: tests/harness/README.md.
"""

import argparse
import gzip
import os
import re
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nginx_harness as h  # noqa: E402

SECTION_RE = re.compile(r"^--- (\w+)(?::\s*(.*?))?(?:\s+(\w[\w ]*))?\s*$")


class Block:
    def __init__(self, title, origin):
        self.title = title
        self.origin = origin
        self.sections = {}
        self.modifiers = {}

    def get(self, name, default=None):
        return self.sections.get(name, default)


def parse_blocks(path):
    blocks = []
    current = None
    section = None
    lines = []

    def flush():
        if current is not None and section is not None:
            text = "\n".join(lines)
            text = text.rstrip("\n") + "\n" if text.strip() else ""
            if "chomp" in current.modifiers.get(section, ()):
                text = text[:-1] if text.endswith("\n") else text
            current.sections[section] = text

    with open(path) as f:
        raw = f.read().splitlines()
    for n, line in enumerate(raw, 1):
        if line.startswith("=== "):
            flush()
            section = None
            lines = []
            current = Block(line[4:].strip(), "%s:%d" % (os.path.basename(path), n))
            current.directory = os.path.dirname(os.path.abspath(path))
            blocks.append(current)
            continue
        m = SECTION_RE.match(line) if current is not None else None
        if m:
            flush()
            section, inline, mods = m.group(1), m.group(2), m.group(3)
            current.modifiers[section] = tuple((mods or "").split())
            lines = [inline] if inline is not None and inline != "" else []
            continue
        if section is not None:
            lines.append(line)
    flush()
    return blocks


def write_files(server, spec):
    """`>>> relpath [random:N] [mtime:-S] [gzip]` then the content lines."""
    entries = []
    for line in spec.splitlines(keepends=True):
        if line.startswith(">>> "):
            parts = line[4:].split()
            entries.append([parts[0], parts[1:], []])
        elif entries:
            entries[-1][2].append(line)
    for rel, opts, content_lines in entries:
        content = h.NginxServer.substitute(server, "".join(content_lines)).encode()
        for opt in opts:
            if opt.startswith("random:"):
                content = h.deterministic_bytes(int(opt[7:]), rel)
            elif opt == "crlf":
                content = content.replace(b"\n", b"\r\n")
        if "gzip" in opts:
            content = gzip.compress(content)
        path = server.write_file(rel, content)
        for opt in opts:
            if opt.startswith("mtime:"):
                t = time.time() + float(opt[6:])
                os.utime(path, (t, t))


def parse_request(text):
    lines = text.split("\n")
    method, path = lines[0].split(None, 1)
    body = "\n".join(lines[1:]).rstrip("\n") if len(lines) > 1 else None
    return method, path.strip(), (body if body else None)


def parse_headers(text):
    out = {}
    for line in text.splitlines():
        if line.strip():
            k, v = line.split(":", 1)
            out[k.strip()] = v.strip()
    return out


def check_response(block, resp):
    problems = []
    code = block.get("error_code")
    want = int(code.strip()) if code else 200
    if resp.status != want:
        problems.append("status %d, expected %d" % (resp.status, want))
    for line in (block.get("response_headers") or "").splitlines():
        line = line.strip()
        if not line:
            continue
        if line.startswith("!"):
            if resp.header(line[1:]) is not None:
                problems.append("header %s present: %r" % (line[1:], resp.header(line[1:])))
            continue
        name, value = [x.strip() for x in line.split(":", 1)]
        got = resp.header(name)
        if value.startswith("~"):
            if got is None or not re.search(value[1:], got):
                problems.append("header %s=%r does not match %s" % (name, got, value[1:]))
        elif got != value:
            problems.append("header %s=%r, expected %r" % (name, got, value))
    body = block.get("response_body")
    if body is not None and resp.body.decode("utf-8", "replace") != body:
        problems.append("body differs:\n--- got\n%s\n--- expected\n%s" % (resp.text, body))
    for pat in (block.get("response_body_like") or "").splitlines():
        if pat and not re.search(pat, resp.text, re.M):
            problems.append("body does not match /%s/:\n%s" % (pat, resp.text[:2000]))
    for pat in (block.get("response_body_unlike") or "").splitlines():
        if pat and re.search(pat, resp.text, re.M):
            problems.append("body matches /%s/:\n%s" % (pat, resp.text[:2000]))
    return problems


def run_block(block, module):
    server = h.NginxServer(module=module,
                           config=block.get("config", ""),
                           http_config=block.get("http_config", ""),
                           main_config=block.get("main_config", ""),
                           workers=int((block.get("workers") or "1").strip()))
    if block.get("files"):
        write_files(server, block.get("files"))
    expected = [l for l in (block.get("error_log") or "").splitlines() if l.strip()]
    forbidden = [l for l in (block.get("no_error_log") or "").splitlines() if l.strip()]
    if "must_die" in block.sections:
        code, out = server.test_config()
        if code == 0:
            return ["nginx -t accepted the config"]
        return ["nginx -t output lacks %r:\n%s" % (e, out) for e in expected if e not in out]
    problems = []
    server.expected_errors += expected
    with server:
        resp = None
        if block.get("request"):
            method, path, body = parse_request(block.get("request"))
            resp = server.request(method, path, body=body,
                                  headers=parse_headers(block.get("more_headers") or ""))
            problems += check_response(block, resp)
        if block.get("check"):
            sys.path.insert(0, block.directory)
            env = {"s": server, "r": resp, "h": h, "block": block, "re": re, "os": os}
            exec(compile(block.get("check"), block.origin + " check", "exec"), env)
        time.sleep(0.05)  # let workers flush their log lines
    try:
        server.check_log(expected, forbidden)
    except h.HarnessError as e:
        problems.append(str(e))
    return problems


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--module", default=os.environ.get("P2P_NGINX_MODULE"))
    ap.add_argument("--filter", help="run only cases whose title contains this")
    ap.add_argument("files", nargs="+")
    args = ap.parse_args()
    passed = failed = 0
    for path in args.files:
        for block in parse_blocks(path):
            if args.filter and args.filter not in block.title:
                continue
            try:
                problems = run_block(block, args.module)
            except Exception:  # a harness or assertion failure is this case's failure
                problems = [traceback.format_exc()]
            if problems:
                failed += 1
                print("not ok - %s (%s)" % (block.title, block.origin))
                for p in problems:
                    for line in str(p).splitlines():
                        print("#   " + line)
            else:
                passed += 1
                print("ok - %s" % block.title)
            sys.stdout.flush()
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed or not passed else 0


if __name__ == "__main__":
    sys.exit(main())
