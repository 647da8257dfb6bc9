#!/usr/bin/env python3
"""Runs the p2p-token binary over the shared vectors (module/access/testdata/vectors.json):
it must mint every token and credential byte for byte and give every documented verdict."""
import json
import subprocess
import sys


def run(tool, args):
    return subprocess.run([tool] + args, capture_output=True, text=True, timeout=10)


def main():
    tool, vectors_path = sys.argv[1], sys.argv[2]
    with open(vectors_path) as f:
        vectors = json.load(f)
    failures = []
    for v in vectors["tokens"]:
        c = v["claims"]
        args = ["mint", "--key-id", v["key_id"], "--secret", v["secret"], "--scope", c["scope"],
                "--expires", str(c["exp"])]
        if c["nbf"]:
            args += ["--not-before", str(c["nbf"])]
        if c["ip"]:
            args += ["--ip", c["ip"]]
        if c["sid"]:
            args += ["--sid", c["sid"]]
        out = run(tool, args)
        if out.returncode != 0 or out.stdout.strip() != v["token"]:
            failures.append(f"mint {v['name']}: {out.stdout.strip()!r} {out.stderr.strip()!r}")
    for v in vectors["credentials"]:
        c = v["claims"]
        args = ["credential", "--key-id", v["key_id"], "--content", c["content"],
                "--expires", str(c["exp"])]
        if c["sid"]:
            args += ["--sid", c["sid"]]
        out = subprocess.run([tool] + args, capture_output=True, text=True, timeout=10,
                             env={"P2P_TOKEN_SECRET": v["secret"]})
        if out.returncode != 0 or out.stdout.strip() != v["credential"]:
            failures.append(f"credential {v['name']}: {out.stdout.strip()!r}")
    keys = []
    for k in vectors["keys"]:
        keys += ["--key", f"{k['id']}:{k['secret']}"]
    for v in vectors["checks"]:
        out = run(tool, ["verify"] + keys + ["--path", v["path"], "--client-ip", v["client_ip"],
                                              "--now", str(v["now"]), "--skew", str(v["skew"]),
                                              v["token"]])
        expected_rc = 0 if v["verdict"] == "ok" else 1
        if out.stdout.strip() != v["verdict"] or out.returncode != expected_rc:
            failures.append(f"verify {v['name']}: {out.stdout.strip()!r} rc={out.returncode}")
    ckeys = []
    for k in vectors["credential_keys"]:
        ckeys += ["--key", f"{k['id']}:{k['secret']}"]
    for v in vectors["credential_checks"]:
        out = run(tool, ["verify-credential"] + ckeys + ["--now", str(v["now"]), "--skew",
                                                         str(v["skew"]), v["credential"]])
        if out.stdout.splitlines()[:1] != [v["verdict"]]:
            failures.append(f"verify-credential {v['name']}: {out.stdout.strip()!r}")
    bad = run(tool, ["mint", "--key-id", "k", "--secret", "short", "--scope", "/", "--ttl", "1"])
    if bad.returncode != 2 or "16 bytes" not in bad.stderr:
        failures.append("a short secret must be a usage error")
    for f in failures:
        print("FAIL", f)
    print(f"{len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
