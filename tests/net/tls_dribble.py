"""A TLS WebSocket server for net_tls that sends one 15,000-byte text message as a single TLS
record, written to the socket in small pieces with pauses (as a slow link delivers it), then
waits for the client to go away. Prints "ready port N" once listening (port 0 = any)."""
import base64
import hashlib
import socket
import ssl
import sys
import time

cert, key = sys.argv[1], sys.argv[2]
chunk, pause = int(sys.argv[3]), float(sys.argv[4])
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
ls = socket.socket()
ls.bind(("127.0.0.1", 0))
ls.listen(1)
print("ready port %d" % ls.getsockname()[1], flush=True)
s, _ = ls.accept()
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
rx, tx = ssl.MemoryBIO(), ssl.MemoryBIO()
tls = ctx.wrap_bio(rx, tx, server_side=True)


def flush():
    data = tx.read()
    if data:
        s.sendall(data)


def more():
    flush()
    data = s.recv(65536)
    if not data:
        sys.exit(0)
    rx.write(data)


while True:
    try:
        tls.do_handshake()
        break
    except ssl.SSLWantReadError:
        more()
flush()
req = b""
while b"\r\n\r\n" not in req:
    try:
        req += tls.read(65536)
    except ssl.SSLWantReadError:
        more()
wskey = [l.split(b":", 1)[1].strip() for l in req.split(b"\r\n")
         if l.lower().startswith(b"sec-websocket-key")][0]
accept = base64.b64encode(hashlib.sha1(wskey + b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest())
tls.write(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
          b"Sec-WebSocket-Accept: " + accept + b"\r\n\r\n")
flush()
time.sleep(0.2)
payload = b"x" * 15000
tls.write(bytes([0x81, 126]) + len(payload).to_bytes(2, "big") + payload)
record = tx.read()
for i in range(0, len(record), chunk):
    s.sendall(record[i:i + chunk])
    time.sleep(pause)
try:
    while s.recv(65536):
        pass
except OSError:
    pass
