"""resilience_cli_interrupt: `tvkit quotes` and `tvkit stream` act on Ctrl-C (SIGINT) at once
while a reconnect attempt is connecting. The sim serves the first connection and is then
stopped; a listening socket on its port (here, in the test) accepts the reconnect attempt and
never answers its upgrade, so the attempt would hang until --timeout (default 10 s). SIGINT
during it must end the command with status 130 within 3 s, the lines received written whole.
Every wait has a deadline. Usage: cli_interrupt.py TVKIT TVKIT_SIM"""
import os
import select
import signal
import socket
import subprocess
import sys
import tempfile
import time

tvkit, sim_bin = sys.argv[1:3]
tmp = tempfile.mkdtemp(prefix="tvk_res_int.")
procs = []


def cleanup():
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait()


def fail(msg):
    cleanup()
    for name in sorted(os.listdir(tmp)):
        with open(os.path.join(tmp, name), "rb") as f:
            sys.stderr.write("== %s\n%s\n" % (name, f.read()[-2000:].decode(errors="replace")))
    sys.exit("FAIL: " + msg)


def read_some(f, deadline):
    """One read from pipe f before deadline: bytes, b"" at EOF, None at the deadline."""
    left = deadline - time.monotonic()
    if left <= 0:
        return None
    r, _, _ = select.select([f], [], [], left)
    return os.read(f.fileno(), 1 << 16) if r else None


def start_sim():
    p = subprocess.Popen([sim_bin, "--port", "0", "--seed", "7", "--speed", "600", "--update-ms",
                          "10", "--max-lifetime", "120", "-q"], stdout=subprocess.PIPE)
    procs.append(p)
    buf, deadline = b"", time.monotonic() + 10
    while b"\n" not in buf:
        chunk = read_some(p.stdout, deadline)
        if not chunk:
            fail("the sim printed no ready line within 10 s")
        buf += chunk
    line = buf.split(b"\n")[0].decode()
    if not line.startswith("listening "):
        fail("sim ready line: %r" % line)
    url = line[len("listening "):]
    return p, url, int(url.split("127.0.0.1:")[1].split("/")[0])


def check(cmd):
    what = "tvkit " + " ".join(cmd)
    sim, url, port = start_sim()
    err = open(os.path.join(tmp, cmd[0] + ".err"), "wb")
    p = subprocess.Popen([tvkit, "--url", url] + cmd, stdout=subprocess.PIPE, stderr=err)
    procs.append(p)
    out = bytearray()
    deadline = time.monotonic() + 30
    while out.count(b"\n") < 2:
        chunk = read_some(p.stdout, deadline)
        if not chunk:
            fail("%s: fewer than 2 lines within 30 s" % what)
        out += chunk

    # the server goes; its port answers TCP but never the upgrade
    sim.send_signal(signal.SIGTERM)
    sim.wait(timeout=10)
    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind(("127.0.0.1", port))
    lsock.listen(8)

    # wait for the attempt (the command's output is read meanwhile) and its upgrade request
    held, request = None, b""
    deadline = time.monotonic() + 30
    while b"\r\n\r\n" not in request:
        left = deadline - time.monotonic()
        if left <= 0:
            fail("%s: no reconnect attempt with an upgrade request within 30 s" % what)
        watch = [p.stdout, held if held else lsock]
        r, _, _ = select.select(watch, [], [], left)
        if p.stdout in r:
            chunk = os.read(p.stdout.fileno(), 1 << 16)
            if not chunk:
                fail("%s: ended before the reconnect attempt" % what)
            out += chunk
        if held is None and lsock in r:
            held, _ = lsock.accept()
        elif held is not None and held in r:
            chunk = held.recv(4096)
            if not chunk:
                fail("%s: the attempt closed its connection" % what)
            request += chunk
    if not request.startswith(b"GET "):
        fail("%s: not an upgrade request: %r" % (what, request[:100]))

    # the attempt is connecting (it would for --timeout, 10 s): Ctrl-C
    p.send_signal(signal.SIGINT)
    sent = time.monotonic()
    deadline = sent + 3
    while True:
        chunk = read_some(p.stdout, deadline)
        if chunk is None:
            fail("%s: no EOF within 3 s of SIGINT during the reconnect attempt" % what)
        if not chunk:
            break
        out += chunk
    try:
        rc = p.wait(timeout=max(0.01, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        fail("%s: still running 3 s after SIGINT during the reconnect attempt" % what)
    took = time.monotonic() - sent
    err.close()
    held.close()
    lsock.close()
    if rc != 130:
        fail("%s: exit status %d, expected 130" % (what, rc))
    if not out.endswith(b"\n"):
        fail("%s: torn last line" % what)
    with open(os.path.join(tmp, cmd[0] + ".err"), "rb") as f:
        msg = f.read()
    if b"error" in msg or b"cannot" in msg:
        fail("%s: an error on stderr after SIGINT" % what)
    if b"reconnecting: attempt 1 in" not in msg:
        fail("%s: no reconnecting notice" % what)
    print("%s: SIGINT during the reconnect attempt: exit %d after %.2f s, %d lines" %
          (what, rc, took, out.count(b"\n")))


check(["quotes", "BINANCE:BTCUSDT"])
check(["stream", "BINANCE:BTCUSDT", "-i", "1"])
cleanup()
for name in os.listdir(tmp):
    os.unlink(os.path.join(tmp, name))
os.rmdir(tmp)
print("ok")
