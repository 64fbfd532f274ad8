'use strict';
// Peer history client for bench/run.sh: @mathieuc/tradingview's Chart session, one chart per
// symbol, all symbols requested at once (the package pipelines them), paged back with
// fetchMore (request_more_data) until each symbol has N bars; the bars are written to stdout
// as CSV (symbol,time,open,high,low,close,volume), oldest first, like `tvkit history -f csv`
// (times as Unix seconds: the package gives no other form).
//
//   node history.js --bars N [--conns K] [--timeframe 1D] [--page 5000] SYMBOL...
//
// --conns K spreads the symbols round-robin over K clients (K WebSocket connections).
const { TradingView, out, flush, fail } = require('./shim');

const args = process.argv.slice(2);
let bars = 0;
let conns = 1;
let page = 5000;
let timeframe = '1D';
const symbols = [];
for (let i = 0; i < args.length; i += 1) {
  const a = args[i];
  if (a === '--bars') bars = Number(args[i += 1]);
  else if (a === '--conns') conns = Number(args[i += 1]);
  else if (a === '--page') page = Number(args[i += 1]);
  else if (a === '--timeframe') timeframe = args[i += 1];
  else symbols.push(a);
}
if (!(bars > 0) || !(conns >= 1) || !(page > 0) || !symbols.length) {
  fail('usage: node history.js --bars N [--conns K] [--timeframe TF] [--page P] SYMBOL...', 2);
}

const clients = [];
for (let k = 0; k < Math.min(conns, symbols.length); k += 1) {
  const c = new TradingView.Client();
  c.onError((...e) => fail(`client error: ${e.join(' ')}`));
  clients.push(c);
}

let pending = symbols.length;
let total = 0;
symbols.forEach((sym, idx) => {
  const chart = new clients[idx % clients.length].Session.Chart();
  let asked = Math.min(bars, page);
  chart.onError((...e) => fail(`${sym}: ${e.join(' ')}`));
  chart.onUpdate((changes) => {
    if (!changes.includes('$prices')) return;
    const periods = chart.periods; // newest first
    if (periods.length < bars) {
      // Ask for the next page once the previous one has arrived.
      if (periods.length >= asked) {
        const more = Math.min(page, bars - periods.length);
        asked = periods.length + more;
        chart.fetchMore(more);
      }
      return;
    }
    for (let i = periods.length - 1; i >= 0; i -= 1) {
      const p = periods[i];
      out(`${sym},${p.time},${p.open},${p.max},${p.min},${p.close},${p.volume}\n`);
    }
    total += periods.length;
    chart.delete();
    pending -= 1;
    if (pending === 0) {
      flush();
      process.stderr.write(`tvk-peer: symbols=${symbols.length} bars=${total} conns=${clients.length}\n`);
      clients.forEach((c) => c.end());
      process.exit(0);
    }
  });
  chart.setMarket(sym, { timeframe, range: Math.min(bars, page) });
});
