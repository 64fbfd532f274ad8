// Interop peer for the net_* tests: Node's `ws` server on 127.0.0.1, port 0, with
// permessage-deflate on and `threshold` so small messages go out uncompressed.
// Same text protocol as ws_server.py ("small N", "ping-me", echo). Prints "ready port N".
'use strict';
const { WebSocketServer } = require('ws');

const threshold = Number(process.argv[2] || 1024);
const wss = new WebSocketServer({
  host: '127.0.0.1',
  port: 0,
  maxPayload: 64 << 20,
  // ws applies `threshold` only when the sender has no context takeover (lib/sender.js)
  perMessageDeflate: { threshold, serverNoContextTakeover: true },
});
wss.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => {
    const msg = data.toString();
    if (msg.startsWith('small ')) {
      const n = Number(msg.slice(6));
      for (let i = 0; i < n; i++) ws.send('s' + i);
    } else if (msg === 'ping-me') {
      ws.once('pong', () => ws.send('pong-ok'));
      ws.ping('srv');
    } else {
      ws.send(data, { binary: isBinary });
    }
  });
});
wss.on('listening', () => {
  process.stdout.write('ready port ' + wss.address().port + '\n');
});
process.on('SIGTERM', () => process.exit(0));
