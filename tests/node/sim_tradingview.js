// A real client not written here, unmodified, against tvkit-sim: the npm package
// @mathieuc/tradingview fetches 12,000 daily bars (paging with request_more_data) and streams
// quotes for 20 symbols.
//
// usage: node sim_tradingview.js PATH/TO/tvkit-sim
// Exit status: 0 pass, 1 fail, 77 skipped (the package is not installed).
//
// The package hard-codes wss://data.tradingview.com. Nothing in node_modules is edited: this
// script intercepts, at run time, the package's own require('ws') (Module._load) and hands it
// a WebSocket subclass that connects to the sim's URL instead, keeping the path, query and
// options (Origin included) the package chose.
'use strict';

const Module = require('module');
const path = require('path');
const { spawn } = require('child_process');

const simBin = process.argv[2];
if (!simBin) {
  console.error('usage: node sim_tradingview.js PATH/TO/tvkit-sim');
  process.exit(2);
}

const pkgDir = path.join(__dirname, 'node_modules', '@mathieuc', 'tradingview');
let pkgMain;
let wsPath;
try {
  pkgMain = require.resolve(pkgDir);
  // The ws the package itself resolves (its own nested copy, ws@7).
  wsPath = require.resolve('ws', { paths: [path.join(pkgDir, 'src')] });
} catch (e) {
  console.log(`SKIP: @mathieuc/tradingview is not installed in ${path.dirname(pkgDir)} (${e.message})`);
  process.exit(77);
}

const BARS = 12000;
const QUOTE_SYMBOLS = [
  'NASDAQ:AAPL', 'NASDAQ:GOOGL', 'NASDAQ:MSFT', 'NYSE:IBM', 'BINANCE:BTCUSDT',
  'BINANCE:ETHUSDT', 'FX:EURUSD', 'OANDA:XAUUSD', 'CME_MINI:NQ1!', 'SP:SPX',
  'SIM:Q01', 'SIM:Q02', 'SIM:Q03', 'SIM:Q04', 'SIM:Q05',
  'SIM:Q06', 'SIM:Q07', 'SIM:Q08', 'SIM:Q09', 'SIM:Q10',
];
const DEADLINE_MS = 60000;

function fail(msg) {
  console.error(`FAIL: ${msg}`);
  process.exit(1);
}

const timer = setTimeout(() => fail(`not done within ${DEADLINE_MS} ms`), DEADLINE_MS);

// The clock starts inside the US session (Monday 2024-06-03 16:30 UTC) so that every one of the
// 20 symbols trades and updates.
const sim = spawn(simBin, ['--port', '0', '--start', '1717432200', '--update-ms', '200',
  '--speed', '20', '--max-lifetime', '120'], { stdio: ['ignore', 'pipe', 'inherit'] });
sim.on('error', (e) => fail(`cannot start ${simBin}: ${e.message}`));
process.on('exit', () => { try { sim.kill('SIGTERM'); } catch (e) { /* already gone */ } });

let simUrl = null;
let out = '';
sim.stdout.on('data', (chunk) => {
  if (simUrl) return;
  out += chunk.toString();
  const m = /^listening (ws:\/\/\S+)\n/.exec(out);
  if (m) {
    simUrl = new URL(m[1]);
    run();
  }
});

let connections = 0;
function installWsRedirect() {
  const RealWS = require(wsPath);
  class SimWebSocket extends RealWS {
    constructor(address, protocols, options) {
      const u = new URL(address);
      if (u.hostname !== 'data.tradingview.com') fail(`unexpected host in ${address}`);
      const to = `ws://${simUrl.host}${u.pathname}${u.search}`;
      connections += 1;
      super(to, protocols, options);
    }
  }
  const load = Module._load;
  Module._load = function interceptWs(request, parent, isMain) {
    if (request === 'ws' && parent && parent.filename && parent.filename.startsWith(pkgDir)) {
      return SimWebSocket;
    }
    return load.call(this, request, parent, isMain);
  };
}

function checkBars(periods) {
  // periods: newest first, one per bar time.
  if (periods.length < BARS) fail(`only ${periods.length} bars`);
  const times = new Set();
  for (let i = 0; i < periods.length; i += 1) {
    const p = periods[i];
    if (times.has(p.time)) fail(`duplicate bar time ${p.time}`);
    times.add(p.time);
    if (p.time % 86400 !== 52200) fail(`daily bar at ${p.time} is not at the 14:30 UTC open`);
    const wd = (Math.floor(p.time / 86400) + 3) % 7;
    if (wd > 4) fail(`daily bar on a weekend: ${p.time}`);
    if (!(p.max >= p.open && p.max >= p.close && p.min <= p.open && p.min <= p.close && p.min > 0)) {
      fail(`bad OHLC at ${p.time}: ${JSON.stringify(p)}`);
    }
    if (i > 0 && !(periods[i - 1].time > p.time)) fail('bars out of order');
  }
}

function run() {
  installWsRedirect();
  // eslint-disable-next-line global-require, import/no-dynamic-require
  const TradingView = require(pkgMain);
  const client = new TradingView.Client();
  client.onError((...e) => fail(`client error: ${e.join(' ')}`));

  let barsDone = false;
  let quotesDone = false;
  let badSeen = false;
  let requests = 0;
  const finish = () => {
    if (!barsDone || !quotesDone || !badSeen) return;
    clearTimeout(timer);
    console.log(`OK: ${BARS} daily bars in ${requests} requests; quotes for ${QUOTE_SYMBOLS.length} `
      + `symbols with live updates; ${connections} connection(s) to ${simUrl.host}`);
    client.end();
    process.exit(0);
  };

  // History: ask for 12,000; the sim answers at most --max-bars (5000) per request, so the
  // rest comes from fetchMore (request_more_data).
  const chart = new client.Session.Chart();
  chart.onError((...e) => fail(`chart error: ${e.join(' ')}`));
  let have = 0;
  let pending = true;
  chart.onUpdate(() => {
    const n = chart.periods.length;
    if (barsDone || !pending || n <= have) return; // a live du of the current bar
    have = n;
    pending = false;
    if (n >= BARS) {
      checkBars(chart.periods);
      barsDone = true;
      finish();
      return;
    }
    requests += 1;
    pending = true;
    chart.fetchMore(Math.min(5000, BARS - n));
  });
  requests += 1;
  chart.setMarket('NASDAQ:AAPL', { timeframe: '1D', range: BARS });

  // Quotes: 20 symbols, each must load (quote_completed), carry a price, then update live.
  const quote = new client.Session.Quote({ fields: 'all' });
  const state = new Map();
  for (const sym of QUOTE_SYMBOLS) {
    const market = new quote.Market(sym);
    const st = { loaded: false, updates: 0, lp: undefined };
    state.set(sym, st);
    market.onError((...e) => fail(`${sym}: ${e.join(' ')}`));
    market.onLoaded(() => { st.loaded = true; });
    market.onData((data) => {
      st.updates += 1;
      st.lp = data.lp;
      if (typeof data.lp !== 'number' || !(data.lp > 0)) fail(`${sym}: bad lp ${data.lp}`);
      if (data.pro_name !== sym) fail(`${sym}: pro_name ${data.pro_name}`);
      const all = [...state.values()];
      if (!quotesDone && all.every((s) => s.loaded && s.updates >= 2)) {
        quotesDone = true;
        finish();
      }
    });
  }
  // A symbol that does not exist must come back as a market error, not silence.
  const bad = new quote.Market('FOREX:EURUSD');
  bad.onError(() => {
    badSeen = true;
    finish();
  });
  setTimeout(() => { if (!badSeen) fail('FOREX:EURUSD: no error'); }, 10000);
}
