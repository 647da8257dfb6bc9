"""A tiny MaxMind DB (v2) writer: IPv4 prefixes to {"country": {"iso_code": CC}}, enough
for Debian's ngx_http_geoip2_module to set $geoip2_data_country_code in tests."""
import ipaddress
import struct


def _str(s):
    b = s.encode()
    assert len(b) < 29
    return bytes([0x40 | len(b)]) + b


def _uint(type_id, value):
    b = value.to_bytes((value.bit_length() + 7) // 8, "big") if value else b""
    if type_id <= 7:
        return bytes([(type_id << 5) | len(b)]) + b
    return bytes([len(b), type_id - 7]) + b


def _map(items):
    out = bytes([0xE0 | len(items)])
    for k, v in items:
        out += _str(k) + v
    return out


def write_mmdb(path, prefixes):
    """prefixes: {"127.0.0.0/8": "DE", ...}"""
    data = b""
    offsets = {}
    for cc in sorted(set(prefixes.values())):
        offsets[cc] = len(data)
        data += _map([("country", _map([("iso_code", _str(cc))]))])
    # Binary trie over the address bits; leaves hold a country code.
    root = {}
    for net, cc in prefixes.items():
        n = ipaddress.ip_network(net)
        bits = format(int(n.network_address), "032b")[: n.prefixlen]
        node = root
        for b in bits[:-1]:
            node = node.setdefault(b, {})
        node[bits[-1]] = cc
    nodes = []
    order = [root]
    while order:  # number nodes breadth first
        node = order.pop(0)
        nodes.append(node)
        for b in "01":
            if isinstance(node.get(b), dict):
                order.append(node[b])
    index = {id(n): i for i, n in enumerate(nodes)}
    count = len(nodes)
    tree = b""
    for node in nodes:
        for b in "01":
            child = node.get(b)
            if isinstance(child, dict):
                record = index[id(child)]
            elif child is None:
                record = count  # no data
            else:
                record = count + 16 + offsets[child]
            tree += record.to_bytes(3, "big")
    meta = _map([
        ("node_count", _uint(6, count)),
        ("record_size", _uint(5, 24)),
        ("ip_version", _uint(5, 4)),
        ("database_type", _str("P2P-Test-Country")),
        ("languages", bytes([1, 4]) + _str("en")),
        ("binary_format_major_version", _uint(5, 2)),
        ("binary_format_minor_version", _uint(5, 0)),
        ("build_epoch", _uint(9, 1700000000)),
        ("description", _map([("en", _str("test"))])),
    ])
    with open(path, "wb") as f:
        f.write(tree + b"\0" * 16 + data + b"\xab\xcd\xefMaxMind.com" + meta)
