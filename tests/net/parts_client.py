"""Independent inflater for net_parts: a python3-websockets (Debian) client.

Connects to ws://127.0.0.1:PORT/ offering permessage-deflate with the given server-side
parameters, answers every text message with "LEN SHA256HEX" of its UTF-8 bytes (so the test
server checks what zlib in Python inflated), and exits 0 when the server closes normally.
"""
import argparse
import asyncio
import hashlib
import sys

import websockets
from websockets.extensions import permessage_deflate as pmd


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("port", type=int)
    ap.add_argument("--server-no-context-takeover", action="store_true")
    ap.add_argument("--server-max-window-bits", type=int)
    args = ap.parse_args()
    factory = pmd.ClientPerMessageDeflateFactory(
        server_no_context_takeover=args.server_no_context_takeover,
        server_max_window_bits=args.server_max_window_bits,
    )

    async def run():
        url = "ws://127.0.0.1:%d/" % args.port
        async with websockets.connect(url, compression=None, extensions=[factory],
                                      max_size=64 << 20, ping_interval=None,
                                      open_timeout=10, close_timeout=10) as ws:
            async for msg in ws:
                b = msg.encode("utf-8")
                await ws.send("%d %s" % (len(b), hashlib.sha256(b).hexdigest()))

    try:
        asyncio.run(asyncio.wait_for(run(), 60))
    except websockets.ConnectionClosedOK:
        pass
    except Exception as e:  # reported to the test through the exit status
        print("parts_client: %r" % (e,), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
