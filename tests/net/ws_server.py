"""Interop peer for the net_* tests: a python3-websockets (Debian) server on 127.0.0.1, port 0.

permessage-deflate is on, but messages shorter than --threshold bytes go out uncompressed
(websockets compresses everything, so the extension is wrapped to skip small frames), which is
what TradingView-like servers do and what the client must cope with.

Text protocol: "small N" -> N small messages; "ping-me" -> a ping, then "pong-ok" once the pong
is back; "stats" -> "deflated K" (compressed messages received); anything else is echoed.
Prints "ready port N" once listening; runs until SIGTERM.
"""
import argparse
import asyncio
import signal
import ssl

import websockets
from websockets import frames
from websockets.extensions import permessage_deflate as pmd


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threshold", type=int, default=1024)
    ap.add_argument("--server-no-context-takeover", action="store_true")
    ap.add_argument("--client-no-context-takeover", action="store_true")
    ap.add_argument("--server-max-window-bits", type=int)
    ap.add_argument("--client-max-window-bits", type=int)
    ap.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"), help="serve wss with these PEMs")
    args = ap.parse_args()

    class Threshold(pmd.PerMessageDeflate):
        deflated_in = 0

        def encode(self, frame):
            if (frame.opcode in (frames.OP_TEXT, frames.OP_BINARY) and frame.fin
                    and len(frame.data) < args.threshold):
                return frame
            return super().encode(frame)

        def decode(self, frame, *, max_size=None):
            if frame.opcode in (frames.OP_TEXT, frames.OP_BINARY) and frame.rsv1:
                self.deflated_in += 1
            return super().decode(frame, max_size=max_size)

    class Factory(pmd.ServerPerMessageDeflateFactory):
        def process_request_params(self, params, accepted):
            resp, ext = super().process_request_params(params, accepted)
            ext.__class__ = Threshold
            return resp, ext

    factory = Factory(
        server_no_context_takeover=args.server_no_context_takeover,
        client_no_context_takeover=args.client_no_context_takeover,
        server_max_window_bits=args.server_max_window_bits,
        client_max_window_bits=args.client_max_window_bits,
    )

    async def handler(ws, path=None):
        try:
            async for msg in ws:
                if msg.startswith("small "):
                    for i in range(int(msg[6:])):
                        await ws.send("s%d" % i)
                elif msg == "ping-me":
                    waiter = await ws.ping(b"srv")
                    await asyncio.wait_for(waiter, 5)
                    await ws.send("pong-ok")
                elif msg == "stats":
                    n = sum(e.deflated_in for e in ws.extensions if isinstance(e, Threshold))
                    await ws.send("deflated %d" % n)
                else:
                    await ws.send(msg)
        except websockets.ConnectionClosed:
            pass

    async def run():
        stop = asyncio.get_running_loop().create_future()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set_result, None)
        tls = None
        if args.tls:
            tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            tls.load_cert_chain(args.tls[0], args.tls[1])
        async with websockets.serve(handler, "127.0.0.1", 0, compression=None,
                                    extensions=[factory], max_size=64 << 20,
                                    ping_interval=None, ssl=tls) as server:
            port = server.sockets[0].getsockname()[1]
            print("ready port %d" % port, flush=True)
            await stop

    asyncio.run(run())


if __name__ == "__main__":
    main()
