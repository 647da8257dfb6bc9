"""Checks used by the hints cases: every hash the filter wrote equals the SHA-256 of
the bytes on disk (what `sha256sum` says of the file, or of its byte range)."""

import hashlib
import os
import re
import subprocess

ATTR_URI = re.compile(r'URI="([^"]*)"')
ATTR_RANGE = re.compile(r'BYTERANGE="?(\d+)(?:@(\d+))?"?')


def file_sha256(path, offset=0, length=None):
    with open(path, "rb") as f:
        f.seek(offset)
        data = f.read() if length is None else f.read(length)
    return hashlib.sha256(data).hexdigest()


def sha256sum(path):
    """The figure `sha256sum` prints, from the tool itself."""
    out = subprocess.run(["sha256sum", path], stdout=subprocess.PIPE, check=True).stdout
    return out.split()[0].decode()


def hls_items(text):
    """(hash or None, uri, offset, length) for every media item of a media playlist."""
    items = []
    pending = None
    next_offset = {}
    seg_range = None
    for line in text.splitlines():
        line = line.rstrip("\r")
        if line.startswith("#EXT-P2P-SHA256:"):
            pending = line.split(":", 1)[1]
            continue
        if line.startswith("#EXT-X-BYTERANGE:"):
            m = re.match(r"#EXT-X-BYTERANGE:(\d+)(?:@(\d+))?", line)
            seg_range = (int(m.group(1)), int(m.group(2)) if m.group(2) else None)
            continue
        uri = rng = None
        if line.startswith("#EXT-X-MAP:") or line.startswith("#EXT-X-PART:"):
            uri = ATTR_URI.search(line).group(1)
            m = ATTR_RANGE.search(line)
            if m:
                rng = (int(m.group(1)), int(m.group(2)) if m.group(2) else None)
        elif line and not line.startswith("#"):
            uri, rng, seg_range = line, seg_range, None
        if uri is None:
            continue
        if rng is not None:
            length, offset = rng
            if offset is None:
                offset = next_offset.get(uri, 0)
            next_offset[uri] = offset + length
            items.append((pending, uri, offset, length))
        else:
            items.append((pending, uri, 0, None))
        pending = None
    return items


def verify_hls(s, text, manifest_dir, expect_hashes=None):
    """Asserts every written hash is right; returns how many items carried one."""
    n = 0
    for digest, uri, offset, length in hls_items(text):
        if digest is None:
            continue
        path = os.path.join(s.html, manifest_dir, uri.split("?")[0])
        want = sha256sum(path) if length is None and offset == 0 else file_sha256(
            path, offset, length)
        assert digest == want, "%s: hint %s, file %s" % (uri, digest, want)
        n += 1
    if expect_hashes is not None:
        assert n == expect_hashes, "%d hashes, expected %d:\n%s" % (n, expect_hashes, text)
    return n


def dash_hashes(text):
    """{(attr, value): sha256} of every p2p:H element, per Representation order."""
    reps = []
    for block in re.findall(r"<(?:\w+:)?SegmentHashes[^>]*>(.*?)</(?:\w+:)?SegmentHashes>",
                            text, re.S):
        entries = {}
        for attrs in re.findall(r"<p2p:H ([^>]*)/>", block):
            kv = dict(re.findall(r'(\w+)="([^"]*)"', attrs))
            sha = kv.pop("sha256")
            key = tuple(sorted(kv.items()))
            entries[key] = sha
        reps.append(entries)
    return reps


def ffprobe_ok(url):
    proc = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=codec_type",
                           "-of", "csv=p=0", url], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=60)
    return proc.returncode == 0 and b"video" in proc.stdout, proc.stderr.decode()


def make_hls_vod(directory, seconds=4, segment=1, extra=()):
    os.makedirs(directory, exist_ok=True)
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i",
                    "testsrc=size=160x120:rate=10", "-t", str(seconds), "-c:v", "libx264",
                    "-g", "10", "-preset", "ultrafast", "-f", "hls", "-hls_time", str(segment),
                    "-hls_playlist_type", "vod"] + list(extra) +
                   [os.path.join(directory, "index.m3u8")], check=True, timeout=120)
    old = os.path.getmtime(os.path.join(directory, "index.m3u8")) - 60
    for name in os.listdir(directory):
        os.utime(os.path.join(directory, name), (old, old))


def make_dash_vod(directory, seconds=4):
    os.makedirs(directory, exist_ok=True)
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i",
                    "testsrc=size=160x120:rate=10", "-t", str(seconds), "-c:v", "libx264",
                    "-g", "10", "-preset", "ultrafast", "-f", "dash", "-seg_duration", "1",
                    "-use_template", "1", "-use_timeline", "0",
                    os.path.join(directory, "manifest.mpd")], check=True, timeout=120)
    old = os.path.getmtime(os.path.join(directory, "manifest.mpd")) - 60
    for name in os.listdir(directory):
        os.utime(os.path.join(directory, name), (old, old))
