'use strict';
// Peer quote client for bench/run.sh: @mathieuc/tradingview's Quote session and Market API.
// Like `tvkit quotes`, it writes one JSON line per quote update with the symbol's merged
// snapshot (the package's Market hands over exactly that): {"symbol":..,"status":"ok",...}.
//
//   node quotes.js [--count N] SYMBOL...
//
// Ends after N quote updates (snapshots included), or when the sim's firehose_completed marker
// arrives (--firehose mode). On stderr: "tvk-peer: quotes=N first_quote_ms=T" where T runs from
// just before the Client is created (the connect) to the first quote, inside this process.
const { performance } = require('perf_hooks');
const { TradingView, hooks, out, flush, fail } = require('./shim');

const args = process.argv.slice(2);
let count = Infinity;
const symbols = [];
for (let i = 0; i < args.length; i += 1) {
  if (args[i] === '--count') {
    count = Number(args[i += 1]);
    if (!(count > 0)) fail('--count needs a positive number', 2);
  } else symbols.push(args[i]);
}
if (!symbols.length) fail('usage: node quotes.js [--count N] SYMBOL...', 2);

let received = 0;
let firstMs = -1;
let client = null;
function finish(why) {
  flush();
  process.stderr.write(`tvk-peer: quotes=${received} first_quote_ms=${firstMs.toFixed(3)} end=${why}\n`);
  if (client) client.end();
  process.exit(0);
}

hooks.onMessage = (data) => {
  if (data.length < 512 && String(data).includes('"firehose_completed"')) finish('marker');
};

const t0 = performance.now();
client = new TradingView.Client();
client.onError((...e) => fail(`client error: ${e.join(' ')}`));
const session = new client.Session.Quote({ fields: 'all' });
for (const sym of symbols) {
  const market = new session.Market(sym);
  market.onError((...e) => fail(`market ${sym}: ${JSON.stringify(e)}`));
  market.onData((d) => {
    if (firstMs < 0) firstMs = performance.now() - t0;
    received += 1;
    out(`${JSON.stringify({ symbol: sym, status: 'ok', ...d })}\n`);
    if (received >= count) finish('count');
  });
}
