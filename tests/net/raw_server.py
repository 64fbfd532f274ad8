"""Misbehaving WebSocket servers for the net_* tests, on 127.0.0.1, port 0.

Usage: raw_server.py [MODE]. Prints "ready port N" and serves each connection in a thread until
SIGTERM. A request for the path /mode/<name> picks the mode per connection (one server process
for a whole test program); otherwise MODE applies. Modes:
  403, 429        reject the upgrade (429 carries "Retry-After: 30")
  429date         429 with Retry-After as an HTTP-date 60 s ahead
  frag            deflate negotiated; a fragmented message with a ping between its frames, a
                  compressed fragmented one; "pong seen" once our pong arrives
  badaccept       101 with a wrong Sec-WebSocket-Accept
  truncated       half a 101 response, then close
  bigheader       a 101 whose header block is 64 KiB
  bigmsg          valid handshake, then a text frame that announces 64 MiB
  bomb            deflate negotiated, then a compressed 16 MiB message (about 16 KiB on the wire)
  badutf8z        deflate negotiated, then a compressed text message that is not UTF-8
  badrsv          no extension negotiated, then a frame with RSV1 set
  badopcode       valid handshake, then a frame with reserved opcode 3
  silent          valid handshake, then reads everything and never answers (no pongs)
  hello           valid handshake, sends "hello" uncompressed and compressed, then echoes
"""
import base64
import email.utils
import hashlib
import signal
import socket
import struct
import sys
import threading
import time
import zlib

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def read_request(c):
    buf = b""
    while b"\r\n\r\n" not in buf:
        d = c.recv(4096)
        if not d:
            return None
        buf += d
    head = buf.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    headers = {":path": head.split(" ")[1] if " " in head else "/"}
    for line in head.split("\r\n")[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    return headers


def accept_key(key):
    return base64.b64encode(hashlib.sha1(key.encode() + GUID).digest()).decode()


def frame(payload, opcode=1, rsv1=False, fin=True):
    b0 = (0x80 if fin else 0) | opcode | (0x40 if rsv1 else 0)
    n = len(payload)
    if n < 126:
        hdr = struct.pack("!BB", b0, n)
    elif n < 65536:
        hdr = struct.pack("!BBH", b0, 126, n)
    else:
        hdr = struct.pack("!BBQ", b0, 127, n)
    return hdr + payload


def ok_101(h, ext=None):
    r = ("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
         "Sec-WebSocket-Accept: %s\r\n" % accept_key(h.get("sec-websocket-key", "")))
    if ext:
        r += "Sec-WebSocket-Extensions: %s\r\n" % ext
    return (r + "\r\n").encode()


def drain(c):
    try:
        while c.recv(65536):
            pass
    except OSError:
        pass


def read_frame(c):
    """Reads one client frame (masked); returns (opcode, payload) or None."""
    def exact(n):
        b = b""
        while len(b) < n:
            d = c.recv(n - len(b))
            if not d:
                raise EOFError
            b += d
        return b
    try:
        b0, b1 = exact(2)
        n = b1 & 0x7F
        if n == 126:
            n = struct.unpack("!H", exact(2))[0]
        elif n == 127:
            n = struct.unpack("!Q", exact(8))[0]
        mask = exact(4)
        data = bytearray(exact(n))
        for i in range(n):
            data[i] ^= mask[i % 4]
        return b0 & 0x0F, bytes(data), bool(b0 & 0x40)
    except (EOFError, OSError):
        return None


def serve(mode, c):
    h = read_request(c)
    if h is None:
        return
    if h[":path"].startswith("/mode/"):
        mode = h[":path"][6:]
    if mode == "403":
        c.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 9\r\n\r\nforbidden")
    elif mode == "429":
        c.sendall(b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 30\r\nContent-Length: 0\r\n\r\n")
    elif mode == "429date":
        when = email.utils.formatdate(time.time() + 60, usegmt=True)
        c.sendall(("HTTP/1.1 429 Too Many Requests\r\nRetry-After: %s\r\n"
                   "Content-Length: 0\r\n\r\n" % when).encode())
    elif mode == "frag":
        z = zlib.compressobj(wbits=-15)
        data = z.compress(b"compressed and fragmented") + z.flush(zlib.Z_SYNC_FLUSH)
        data = data[:-4]
        c.sendall(ok_101(h, "permessage-deflate")
                  + frame(b"frag-", fin=False) + frame(b"p", opcode=9)
                  + frame(b"ment", opcode=0, fin=False) + frame(b"ed", opcode=0)
                  + frame(data[:5], rsv1=True, fin=False) + frame(data[5:], opcode=0))
        f = read_frame(c)
        if f is not None and f[0] == 10 and f[1] == b"p":
            c.sendall(frame(b"pong seen"))
        drain(c)
    elif mode == "badaccept":
        c.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                  b"Connection: Upgrade\r\nSec-WebSocket-Accept: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
        drain(c)
    elif mode == "truncated":
        c.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConn")
    elif mode == "bigheader":
        filler = "".join("X-Filler-%d: %s\r\n" % (i, "y" * 1000) for i in range(64))
        c.sendall(ok_101(h)[:-2] + filler.encode() + b"\r\n")
        drain(c)
    elif mode == "bigmsg":
        c.sendall(ok_101(h) + struct.pack("!BBQ", 0x81, 127, 64 << 20) + b"x" * 1024)
        drain(c)
    elif mode == "bomb":
        z = zlib.compressobj(wbits=-15)
        data = z.compress(b"0" * (16 << 20)) + z.flush(zlib.Z_SYNC_FLUSH)
        c.sendall(ok_101(h, "permessage-deflate") + frame(data[:-4], rsv1=True))
        drain(c)
    elif mode == "badutf8z":
        z = zlib.compressobj(wbits=-15)
        data = z.compress(b"ok \xed\xa0\x80 surrogate") + z.flush(zlib.Z_SYNC_FLUSH)
        c.sendall(ok_101(h, "permessage-deflate") + frame(data[:-4], rsv1=True))
        drain(c)
    elif mode == "badrsv":
        c.sendall(ok_101(h) + frame(b"hi", rsv1=True))
        drain(c)
    elif mode == "badopcode":
        c.sendall(ok_101(h) + frame(b"hi", opcode=3))
        drain(c)
    elif mode == "silent":
        c.sendall(ok_101(h))
        drain(c)
    elif mode == "hello":
        z = zlib.compressobj(wbits=-15)
        data = z.compress(b"hello compressed") + z.flush(zlib.Z_SYNC_FLUSH)
        c.sendall(ok_101(h, "permessage-deflate; server_no_context_takeover")
                  + frame(b"hello plain") + frame(data[:-4], rsv1=True))
        while True:
            f = read_frame(c)
            if f is None or f[0] == 8:
                if f is not None:
                    c.sendall(frame(f[1][:2], opcode=8))
                return
            op, data, rsv1 = f
            if rsv1:
                data = zlib.decompressobj(wbits=-15).decompress(data + b"\x00\x00\xff\xff")
            c.sendall(frame(data, opcode=op))
    else:
        c.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")


def handle(mode, c):
    try:
        serve(mode, c)
    except OSError:
        pass
    finally:
        c.close()


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else "hello"
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(16)
    print("ready port %d" % s.getsockname()[1], flush=True)
    while True:
        c, _ = s.accept()
        threading.Thread(target=handle, args=(mode, c), daemon=True).start()


if __name__ == "__main__":
    main()
