'use strict';
// Points the npm client @mathieuc/tradingview at tvkit-sim without editing node_modules: the
// package hard-codes wss://data.tradingview.com, so every require('ws') made from inside the
// package gets a WebSocket subclass that connects to TVK_BENCH_URL instead (keeping the query
// string the package asked for). Everything else the package does is left as it is.
//
// Environment:
//   TVK_BENCH_URL      ws://127.0.0.1:PORT/socket.io/websocket (or wss://...)  (required)
//   TVK_BENCH_CA       PEM file trusted for wss:// (the throwaway certificate of the run)
//   TVK_BENCH_DEFLATE  0 = do not offer permessage-deflate (default 1, as the package does)
const Module = require('module');
const fs = require('fs');
const path = require('path');

const simUrl = process.env.TVK_BENCH_URL;
if (!simUrl) {
  process.stderr.write('tvk-peer: TVK_BENCH_URL is not set\n');
  process.exit(2);
}
const ca = process.env.TVK_BENCH_CA ? fs.readFileSync(process.env.TVK_BENCH_CA) : undefined;
const deflate = process.env.TVK_BENCH_DEFLATE !== '0';
const pkgDir = `${path.sep}@mathieuc${path.sep}tradingview${path.sep}`;

// Listeners the benchmark scripts add to every socket the package opens (the sim's
// firehose_completed marker is not something the package reports, so it is watched here).
const hooks = { onMessage: null, onOpen: null };
const wrapped = new WeakMap();

function wrap(RealWS) {
  if (wrapped.has(RealWS)) return wrapped.get(RealWS);
  class SimWebSocket extends RealWS {
    constructor(address, protocols, options) {
      let opts = options;
      let protos = protocols;
      if (protos && typeof protos === 'object' && !Array.isArray(protos)) {
        opts = protos;
        protos = undefined;
      }
      const target = new URL(simUrl);
      target.search = new URL(address).search;
      opts = { ...opts, perMessageDeflate: deflate };
      if (ca) opts.ca = ca;
      super(target.toString(), protos, opts);
      if (hooks.onMessage) this.on('message', hooks.onMessage);
      if (hooks.onOpen) this.on('open', hooks.onOpen);
    }
  }
  wrapped.set(RealWS, SimWebSocket);
  return SimWebSocket;
}

const origLoad = Module._load;
Module._load = function load(request, parent, isMain) {
  const real = origLoad.call(this, request, parent, isMain);
  if (request === 'ws' && parent && parent.filename && parent.filename.includes(pkgDir)) {
    return wrap(real);
  }
  return real;
};

// The package, loaded from tests/node (where scripts/install-deps.sh installs it).
const nodeDir = process.env.TVK_BENCH_NODE_MODULES
  || path.resolve(__dirname, '..', '..', 'tests', 'node', 'node_modules');
const TradingView = require(path.join(nodeDir, '@mathieuc', 'tradingview'));

// Output is buffered and written in large synchronous chunks (fd 1 is /dev/null or a pipe).
let outBuf = '';
function out(s) {
  outBuf += s;
  if (outBuf.length >= 65536) {
    fs.writeSync(1, outBuf);
    outBuf = '';
  }
}
function flush() {
  if (outBuf) fs.writeSync(1, outBuf);
  outBuf = '';
}

function fail(msg, code = 1) {
  flush();
  process.stderr.write(`tvk-peer: ${msg}\n`);
  process.exit(code);
}

// A deadline for the whole script: a peer that stalls fails the case instead of hanging.
const deadlineS = Number(process.env.TVK_BENCH_TIMEOUT || 300);
setTimeout(() => fail(`no result within ${deadlineS} s`, 3), deadlineS * 1000).unref();

module.exports = { TradingView, hooks, out, flush, fail };
