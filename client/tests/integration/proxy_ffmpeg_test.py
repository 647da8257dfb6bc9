"""p2p-proxy in front of a real nginx with the hints filter: ffmpeg reads whole HLS
streams (MPEG-TS segments, fMP4 with EXT-X-MAP, one file with byte ranges) and a DASH
stream (SegmentTemplate + SegmentTimeline) through the proxy, and every packet and every
segment byte equals what the origin serves.

Usage (Bazel): proxy_ffmpeg_test.py PATH_TO_P2P_PROXY
"""
import os
import subprocess
import sys
import time
import urllib.request

from nginx_harness import NginxServer

FFMPEG = "/usr/bin/ffmpeg"
TIMEOUT = 60


def make_streams(html):
    """Three short VODs from lavfi test sources."""
    source = ["-f", "lavfi", "-i", "testsrc=duration=6:size=320x240:rate=25",
              "-f", "lavfi", "-i", "sine=duration=6",
              "-c:v", "libx264", "-preset", "ultrafast", "-g", "25", "-c:a", "aac",
              "-f", "hls", "-hls_time", "2", "-hls_playlist_type", "vod"]
    variants = {
        "ts": ["-hls_segment_filename", "seg%03d.ts"],
        "fmp4": ["-hls_segment_type", "fmp4", "-hls_segment_filename", "seg%03d.m4s"],
        "range": ["-hls_flags", "single_file"],
    }
    for name, extra in variants.items():
        directory = os.path.join(html, "vod", name)
        os.makedirs(directory, exist_ok=True)
        subprocess.run([FFMPEG, "-loglevel", "error", "-y"] + source + extra + ["index.m3u8"],
                       cwd=directory, check=True, timeout=TIMEOUT)
        # Files younger than p2p_hints_hash_settle get no hash (they may be live).
        old = time.time() - 60
        for entry in os.listdir(directory):
            os.utime(os.path.join(directory, entry), (old, old))
    dash = os.path.join(html, "vod", "dash")
    os.makedirs(dash, exist_ok=True)
    subprocess.run([FFMPEG, "-loglevel", "error", "-y"] + source[:-6] +
                   ["-f", "dash", "-seg_duration", "2", "-use_timeline", "1", "-use_template", "1",
                    "manifest.mpd"], cwd=dash, check=True, timeout=TIMEOUT)
    old = time.time() - 60
    for entry in os.listdir(dash):
        os.utime(os.path.join(dash, entry), (old, old))
    return list(variants)


def framemd5(url):
    out = subprocess.run([FFMPEG, "-loglevel", "error", "-i", url, "-map", "0", "-c", "copy",
                          "-f", "framemd5", "-"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         timeout=TIMEOUT)
    if out.returncode != 0:
        raise AssertionError("ffmpeg failed on %s: %s" % (url, out.stderr.decode()[-500:]))
    lines = [l for l in out.stdout.decode().splitlines() if not l.startswith("#")]
    return lines


def get(url, headers=None):
    request = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
        return response.status, response.read()


def main():
    proxy_binary = os.path.abspath(sys.argv[1])
    failures = 0
    passed = 0
    with NginxServer(http_config="p2p_hints_cache_zone hints:1m;",
                     config="""
        location /vod/ {
            root $TEST_NGINX_HTML_DIR;
            p2p_hints on;
            p2p_hints_customer_id acme;
            p2p_hints_content_id proxy-test;
        }""") as server:
        variants = make_streams(server.html)
        origin = "http://127.0.0.1:%d" % server.port
        proxy = subprocess.Popen(
            [proxy_binary, origin + "/vod/ts/index.m3u8", "--listen", "127.0.0.1:0", "--quiet"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            line = proxy.stdout.readline().decode().strip()
            assert line.startswith("http://127.0.0.1:"), line
            proxy_base = line[:line.index("/vod/")]
            for name in variants:
                path = "/vod/%s/index.m3u8" % name
                try:
                    status, playlist = get(proxy_base + path)
                    assert status == 200
                    _, direct_playlist = get(origin + path)
                    assert playlist == direct_playlist, "playlist changed by the proxy"
                    assert b"#EXT-P2P-SHA256:" in playlist, "no hashes: hints filter not active"
                    via_proxy = framemd5(proxy_base + path)
                    direct = framemd5(origin + path)
                    assert len(direct) > 100, len(direct)
                    assert via_proxy == direct, "%s: packets differ" % name
                    # Every item, as the player asks for it (with its byte range if any).
                    directory = os.path.join(server.html, "vod", name)
                    ranges = []
                    pending_range = None
                    offsets = {}
                    for raw in playlist.decode().splitlines():
                        if raw.startswith("#EXT-X-BYTERANGE:"):
                            pending_range = raw.split(":", 1)[1]
                        elif raw.startswith("#EXT-X-MAP:"):
                            uri = raw.split('URI="', 1)[1].split('"', 1)[0]
                            ranges.append((uri, None))
                        elif raw and not raw.startswith("#"):
                            if pending_range:
                                length, _, start = pending_range.partition("@")
                                start = int(start) if start else offsets.get(raw, 0)
                                ranges.append((raw, (start, int(length))))
                                offsets[raw] = start + int(length)
                            else:
                                ranges.append((raw, None))
                            pending_range = None
                    assert ranges
                    for uri, byte_range in ranges:
                        with open(os.path.join(directory, uri), "rb") as f:
                            data = f.read()
                        headers = {}
                        if byte_range:
                            start, length = byte_range
                            data = data[start:start + length]
                            headers["Range"] = "bytes=%d-%d" % (start, start + length - 1)
                        status, body = get(proxy_base + "/vod/%s/%s" % (name, uri), headers)
                        assert status == (206 if byte_range else 200), (uri, status)
                        assert body == data, "%s %s: bytes differ" % (name, uri)
                    print("ok %s: %d packets, %d items equal to the origin" %
                          (name, len(direct), len(ranges)))
                    passed += 1
                except Exception as error:  # report every variant, fail at the end
                    print("FAIL %s: %s" % (name, error))
                    failures += 1
            try:
                path = "/vod/dash/manifest.mpd"
                status, mpd = get(proxy_base + path)
                assert status == 200
                assert b'xmlns:p2p="urn:p2p:2026"' in mpd, "no hashes: hints filter not active"
                via_proxy = framemd5(proxy_base + path)
                direct = framemd5(origin + path)
                assert len(direct) > 100 and via_proxy == direct, "dash: packets differ"
                directory = os.path.join(server.html, "vod", "dash")
                files = sorted(f for f in os.listdir(directory) if f.endswith(".m4s"))
                for name in files:
                    with open(os.path.join(directory, name), "rb") as f:
                        data = f.read()
                    status, body = get(proxy_base + "/vod/dash/" + name)
                    assert status == 200 and body == data, "dash %s: bytes differ" % name
                print("ok dash: %d packets, %d items equal to the origin" % (len(direct), len(files)))
                passed += 1
            except Exception as error:
                print("FAIL dash: %s" % error)
                failures += 1
            assert proxy.poll() is None, "p2p-proxy exited"
        finally:
            proxy.terminate()
            try:
                proxy.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proxy.kill()
        server.check_log()
    print("%d passed, %d failed" % (passed, failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
