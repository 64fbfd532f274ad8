#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets, derived from the real captures.

usage: seeds.py CAPTURES_DIR OUT_DIR [TARGET ...]

OUT_DIR/<target>/<nnnn> gets one input per file (the layouts are described in each
tests/fuzz/fuzz_<target>.c). The captures are never copied into the repository: this runs at
fuzz time (scripts/fuzz.sh) and as the ctest fixture fuzz_seeds. Deterministic: the same
captures give the same files. Only the standard library (zlib, base64, hashlib)."""
import base64
import hashlib
import os
import re
import shutil
import struct
import sys
import zlib

MAX_SEED = 16 * 1024  # larger messages are cut into groups of whole packets
PACKET = re.compile(rb"~m~(\d+)~m~")


def lines(cap, name):
    path = os.path.join(cap, name)
    if not os.path.exists(path):
        return []
    with open(path, "rb") as f:
        return [l.rstrip(b"\r\n") for l in f if l.strip()]


def packets(msg):
    """Splits a framed message by byte lengths; stops at the first packet that does not fit
    (lengths counted in code points are then left to the fuzzer)."""
    out, pos = [], 0
    while pos < len(msg):
        m = PACKET.match(msg, pos)
        if not m:
            break
        n = int(m.group(1))
        start = m.end()
        out.append(msg[start:start + n])
        pos = start + n
    return out


def frame(payload):
    return b"~m~%d~m~" % len(payload) + payload


def method(payload):
    m = re.match(rb'\{"m":"([a-z_]+)"', payload)
    if m:
        return m.group(1).decode()
    return "heartbeat" if payload.startswith(b"~h~") else "other"


class Corpus:
    def __init__(self, out, target):
        self.dir = os.path.join(out, target)
        shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(self.dir)
        self.seen = set()

    def add(self, data):
        h = hashlib.sha1(data).hexdigest()
        if h in self.seen:
            return
        self.seen.add(h)
        with open(os.path.join(self.dir, "%04d" % len(self.seen)), "wb") as f:
            f.write(data)


def server_messages(cap):
    return (lines(cap, "stock-tools_trading-chart_har_server_to_client.txt") +
            lines(cap, "tradingview-rs_socket_messages_split.txt"))


def small_messages(cap):
    """Every server message, big ones cut into re-framed groups of whole packets."""
    out = []
    for msg in server_messages(cap):
        if len(msg) <= MAX_SEED:
            out.append(msg)
            continue
        group = b""
        for p in packets(msg):
            f = frame(p)
            if len(f) > MAX_SEED:
                f = frame(p[:MAX_SEED])  # a cut packet: invalid JSON, still good framing
            if group and len(group) + len(f) > MAX_SEED:
                out.append(group)
                group = b""
            group += f
        if group:
            out.append(group)
    return out


def per_method(cap, limit):
    """Up to `limit` packets of each method (and heartbeats, hello), in capture order."""
    count, out = {}, []
    for msg in server_messages(cap):
        for p in packets(msg):
            k = method(p)
            if count.get(k, 0) < limit and len(p) <= MAX_SEED:
                count[k] = count.get(k, 0) + 1
                out.append(p)
    return out


def unit_examples():
    """Packets whose length counts code points or UTF-16 units (PROTOCOL.md section 2)."""
    out = []
    for text in ['{"m":"qsd","p":["qs_x",{"n":"X:Y","s":"ok","v":{"description":"caf\u00e9"}}]}',
                 '{"m":"qsd","p":["qs_x",{"n":"X:Y","s":"ok","v":{"d":"\U0001F600 ok"}}]}']:
        raw = text.encode()
        cps = len(text)
        u16 = len(text.encode("utf-16-le")) // 2
        out.append(b"~m~%d~m~" % cps + raw + b"~m~4~m~~h~1")
        out.append(b"~m~%d~m~" % u16 + raw + b"~m~4~m~~h~2")
    return out


def seeds_reader(cap, c):
    for m in small_messages(cap):
        c.add(m)
    for m in lines(cap, "stock-tools_trading-chart_har_client_to_server.txt")[:100]:
        c.add(m)
    for m in unit_examples():
        c.add(m)


def seeds_json(cap, c):
    for p in per_method(cap, 25):
        c.add(frame(p))
    for l in lines(cap, "tradingview-rs_events_reserialized.jsonl"):
        c.add(l)  # a lone payload
    for l in lines(cap, "tvkit_docs_fixture_outputs_pyrepr.txt"):
        c.add(l)  # Python repr: not JSON, must be refused cleanly
    for m in small_messages(cap)[:40]:
        c.add(m)
    for m in unit_examples():
        c.add(m)


NUMBER = re.compile(rb"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")


def seeds_number(cap, c):
    seen = []
    for msg in server_messages(cap):
        for n in NUMBER.findall(msg):
            if n not in seen:
                seen.append(n)
            if len(seen) >= 1500:
                break
    for n in seen:
        c.add(n)
    for n in [b"0", b"-0", b"1e100", b"1e308", b"1.7976931348623157e308", b"2e308",
              b"4.9e-324", b"2.4703282292062327e-324", b"1e-400", b"9007199254740993",
              b"123456789012345678901234567890", b"0.1", b"1.00000000000000011102230246251565",
              b"1e23", b"8.98846567431158e307", b"-", b"01", b"1.", b".5", b"1e", b"+1",
              b" 1", b"1 ", b"0x10", b"nan", b"inf", b"1,5"]:
        c.add(n)


def seeds_cliparse(cap, c):
    for i in ["1", "5", "60", "240", "1440", "1441", "0", "1S", "60S", "61S", "1H", "4H",
              "24H", "25H", "168H", "169H", "D", "1D", "365D", "W", "2W", "52W", "M", "12M",
              "13M", "1d", "S", "H", "", "00000001", "123456789", "1DD", "-1", "1.5"]:
        c.add(i.encode())
    syms = set()
    for msg in server_messages(cap):
        for s in re.findall(rb'"pro_name":"([^"]+)"', msg) + re.findall(rb'"n":"([A-Z_]+:[^"]+)"', msg):
            syms.add(s)
    for s in sorted(syms)[:60]:
        c.add(s)
    for s in [b"NASDAQ:AAPL", b"BINANCE:BTCUSDT", b"CME_MINI:NQ1!", b"NYSE:BRK.B", b"AAPL",
              b":AAPL", b"NASDAQ:", b"A:B:C", b"NASDAQ:AA PL", b"X:" + b"Y" * 70,
              b"2024-01-02", b"2024-01-02T03:04:05Z", b"1704153600", b"2024-02-30"]:
        c.add(s)


KEY = b"dGhlIHNhbXBsZSBub25jZQ=="


def accept(key):
    import hashlib as h
    return base64.b64encode(h.sha1(key + b"258EAFA5-E914-47DA-95CA-C5AB0DC11B85").digest())


def seeds_upgrade(cap, c):
    base = (b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Accept: " + accept(KEY) + b"\r\n")
    exts = [b"", b"Sec-WebSocket-Extensions: permessage-deflate\r\n",
            b"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=15\r\n",
            b"Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; "
            b"client_no_context_takeover; server_max_window_bits=10\r\n",
            b'Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits="9"\r\n',
            b"Sec-WebSocket-Extensions: x-webkit-deflate-frame\r\n"]
    for e in exts:
        c.add(b"\x00" + base + e + b"\r\n")
        c.add(b"\x01" + base + e + b"\r\n")
    c.add(b"\x00HTTP/1.1 429 Too Many Requests\r\nRetry-After: 30\r\nContent-Length: 0\r\n\r\n")
    c.add(b"\x00HTTP/1.1 403 Forbidden\r\nServer: nginx\r\n\r\n")
    c.add(b"\x00HTTP/1.0 101\r\nupgrade: WebSocket\r\nconnection: keep-alive, Upgrade\r\n"
          b"sec-websocket-accept: " + accept(KEY) + b"\r\n\r\n")
    c.add(b"\x02HTTP/1.1 200 Connection established\r\nProxy-Agent: fuzz\r\n\r\n")
    c.add(b"\x02HTTP/1.1 407 Proxy Authentication Required\r\n\r\n")
    req = (b"GET /socket.io/websocket?from=chart%2F HTTP/1.1\r\nHost: data.tradingview.com\r\n"
           b"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + KEY + b"\r\n"
           b"Sec-WebSocket-Version: 13\r\nOrigin: https://www.tradingview.com\r\n")
    c.add(b"\x03" + req + b"\r\n")
    c.add(b"\x03" + req + b"Sec-WebSocket-Extensions: permessage-deflate; "
          b"client_max_window_bits\r\n\r\n")
    c.add(b"\x03" + req + b"Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=8;"
          b" client_no_context_takeover, permessage-deflate\r\n\r\n")
    c.add(b"\x03POST / HTTP/1.1\r\nHost: x\r\n\r\n")
    for e in [b"permessage-deflate", b"permessage-deflate; client_max_window_bits",
              b"permessage-deflate; server_max_window_bits=12; client_max_window_bits=9",
              b"permessage-deflate; server_no_context_takeover, permessage-deflate", b"",
              b";", b"permessage-deflate; client_max_window_bits=16"]:
        c.add(b"\x04" + e)


def deflate_messages(msgs, bits, no_ctx):
    """Raw deflate as permessage-deflate sends it: sync flush, the 00 00 ff ff tail removed."""
    out, z = [], zlib.compressobj(6, zlib.DEFLATED, -bits)
    for m in msgs:
        if no_ctx:
            z = zlib.compressobj(6, zlib.DEFLATED, -bits)
        d = z.compress(m) + z.flush(zlib.Z_SYNC_FLUSH)
        if d.endswith(b"\x00\x00\xff\xff"):
            d = d[:-4]
        out.append(d)
    return out


def seeds_inflate(cap, c):
    msgs = [m for m in small_messages(cap) if len(m) < 60000]
    k = 0
    for bits in (9, 12, 15):
        for no_ctx in (0, 1):
            for server in (0, 1):
                group = msgs[k % len(msgs):k % len(msgs) + 4] if msgs else [b"~m~4~m~~h~1"]
                k += 5
                flags = server | no_ctx << 1 | (bits - 8) << 2
                body = b"".join(struct.pack("<H", len(d)) + d
                                for d in deflate_messages(group, bits, no_ctx))
                c.add(bytes([flags, 7 | (k % 16) << 4]) + body)
                # and the same messages as plain text (the round-trip half reads these)
                plain = b"".join(struct.pack("<H", len(m)) + m for m in group)
                c.add(bytes([flags, 4]) + plain)


def ws_frame(payload, opcode=1, fin=True, rsv1=False, mask=None):
    b0 = (0x80 if fin else 0) | (0x40 if rsv1 else 0) | opcode
    n = len(payload)
    mbit = 0x80 if mask else 0
    if n < 126:
        hdr = bytes([b0, mbit | n])
    elif n < 65536:
        hdr = bytes([b0, mbit | 126]) + struct.pack(">H", n)
    else:
        hdr = bytes([b0, mbit | 127]) + struct.pack(">Q", n)
    if mask:
        payload = bytes(p ^ mask[i % 4] for i, p in enumerate(payload))
        hdr += mask
    return hdr + payload


def seeds_ws(cap, c):
    msgs = [m for m in small_messages(cap) if len(m) < 8000][:12]
    if not msgs:
        msgs = [b"~m~4~m~~h~1"]
    big = 10  # limit 256 << 10 = 256 KiB
    # client role (bit 0 clear): unmasked server frames
    for cb in (0, 8):
        c.add(bytes([cb, big]) + b"".join(ws_frame(m) for m in msgs[:4]) +
              ws_frame(struct.pack(">H", 1000) + b"bye", opcode=8))
        z = deflate_messages(msgs[:4], 15, 0)
        c.add(bytes([2 | cb, big]) + b"".join(ws_frame(d, rsv1=True) for d in z) +
              ws_frame(msgs[4 % len(msgs)]))  # an uncompressed one after negotiation
        z = deflate_messages(msgs[:3], 15, 1)
        c.add(bytes([6 | cb, big]) + b"".join(ws_frame(d, rsv1=True) for d in z))
    m = msgs[0]
    third = max(1, len(m) // 3)
    c.add(bytes([0, big]) + ws_frame(m[:third], fin=False) + ws_frame(b"ping", opcode=9) +
          ws_frame(m[third:2 * third], opcode=0, fin=False) + ws_frame(m[2 * third:], opcode=0))
    c.add(bytes([0, 0]) + ws_frame(m))  # over a 256-byte limit
    c.add(bytes([0, big]) + ws_frame(b"\xff\xfe", opcode=1))  # invalid UTF-8
    # server role: masked client frames
    client = lines(cap, "stock-tools_trading-chart_har_client_to_server.txt")[:6] or msgs
    mask = b"\x12\x34\x56\x78"
    c.add(bytes([1, big]) + b"".join(ws_frame(x, mask=mask) for x in client))
    z = deflate_messages(client, 15, 0)
    c.add(bytes([3, big]) + b"".join(ws_frame(d, rsv1=True, mask=mask) for d in z))
    c.add(bytes([1, big]) + ws_frame(client[0]))  # unmasked from a client: protocol error


# bars (the history answer read without tokens, checked against the generic path) takes the
# json target's inputs: the captures' messages, their timescale_update answers among them.
TARGETS = {"reader": seeds_reader, "json": seeds_json, "bars": seeds_json, "number": seeds_number,
           "cliparse": seeds_cliparse, "upgrade": seeds_upgrade, "inflate": seeds_inflate,
           "ws": seeds_ws}


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    cap, out = sys.argv[1], sys.argv[2]
    names = sys.argv[3:] or list(TARGETS)
    if not os.path.isdir(cap):
        sys.exit("seeds.py: no captures directory %s" % cap)
    for name in names:
        if name not in TARGETS:
            sys.exit("seeds.py: unknown target %s (have %s)" % (name, " ".join(TARGETS)))
        c = Corpus(out, name)
        TARGETS[name](cap, c)
        print("seeds.py: %-8s %4d inputs" % (name, len(c.seen)))


if __name__ == "__main__":
    main()
