"""A minimal HTTP CONNECT proxy for the net_* tests, on 127.0.0.1, port 0.

Usage: connect_proxy.py [user:pass]. With credentials, a CONNECT without the matching
"Proxy-Authorization: Basic ..." gets 407. Tunnels only to 127.0.0.1 (tests use no other
network). Prints "ready port N"; runs until SIGTERM.
"""
import base64
import signal
import socket
import sys
import threading


def pipe(a, b):
    try:
        while True:
            d = a.recv(65536)
            if not d:
                break
            b.sendall(d)
    except OSError:
        pass
    finally:
        try:
            b.shutdown(socket.SHUT_WR)
        except OSError:
            pass


def handle(c, auth):
    buf = b""
    while b"\r\n\r\n" not in buf:
        d = c.recv(4096)
        if not d:
            c.close()
            return
        buf += d
    lines = buf.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    method, target, _ = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    if method != "CONNECT":
        c.sendall(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
        c.close()
        return
    if auth and headers.get("proxy-authorization") != "Basic " + base64.b64encode(
            auth.encode()).decode():
        c.sendall(b"HTTP/1.1 407 Proxy Authentication Required\r\n"
                  b"Proxy-Authenticate: Basic realm=\"test\"\r\nContent-Length: 0\r\n\r\n")
        c.close()
        return
    host, _, port = target.rpartition(":")
    if host not in ("127.0.0.1", "localhost"):
        c.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
        c.close()
        return
    try:
        u = socket.create_connection(("127.0.0.1", int(port)))
    except OSError:
        c.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
        c.close()
        return
    c.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
    t = threading.Thread(target=pipe, args=(u, c), daemon=True)
    t.start()
    pipe(c, u)
    t.join()
    c.close()
    u.close()


def main():
    auth = sys.argv[1] if len(sys.argv) > 1 else None
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(8)
    print("ready port %d" % s.getsockname()[1], flush=True)
    while True:
        c, _ = s.accept()
        threading.Thread(target=handle, args=(c, auth), daemon=True).start()


if __name__ == "__main__":
    main()
