#!/usr/bin/python3
"""Writes bench/RESULTS.md from the raw rows bench/run.sh collected.

    report.py WORKDIR OUT.md

WORKDIR holds:
  rows.tsv      case client run wall_s user_s sys_s maxrss_kb first_out_s status inproc_first_ms
  cases.tsv     case kind size title            (kind: firehose, ttfq, history, multi)
  commands.txt  the exact commands, one per line
  meta.txt      key=value lines (machine, versions, settings)
  decode.txt, firehose.txt   the output of bench/decode and bench/firehose (may be absent)

Every figure is a median over the runs; a ratio is tvkit/peer, computed for each pair of runs
made back to back in the same invocation and then the median of those pair ratios is shown.
Nothing here asserts a timing: the script reports, run.sh and the smoke test only check form.
"""
import os
import re
import statistics
import sys

TARGETS = {
    "firehose_cpu": 1 / 20,
    "rss": 1 / 10,
    "history_cpu": 1 / 10,
    "multi_wall": 1 / 5,
    "decode_pps": 5e6,
}


def read_kv(path):
    kv = {}
    if os.path.exists(path):
        for line in open(path, encoding="utf-8", errors="replace"):
            if "=" in line:
                k, v = line.rstrip("\n").split("=", 1)
                kv[k] = v
    return kv


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def fmt(x, unit="", nd=3):
    if x is None:
        return "n/a"
    if abs(x) >= 100:
        s = f"{x:.0f}"
    elif abs(x) >= 10:
        s = f"{x:.1f}"
    else:
        s = f"{x:.{nd}f}"
    return s + unit


def fmt_ratio(r):
    if r is None:
        return "n/a"
    if r == 0:
        return "0"
    return f"{r:.3f} (1/{1 / r:.1f})" if r < 1 else f"{r:.2f}"


class Runs:
    """The runs of one client in one case."""

    def __init__(self):
        self.rows = {}

    def add(self, run, row):
        self.rows[run] = row

    def ok(self):
        return {r: v for r, v in self.rows.items() if v["status"] == 0}

    def failed(self):
        return sum(1 for v in self.rows.values() if v["status"] != 0)

    def metric(self, name):
        return med([v[name] for v in self.ok().values()])


def load_rows(path):
    data = {}
    for line in open(path, encoding="utf-8"):
        f = line.rstrip("\n").split("\t")
        if len(f) < 10 or f[0] == "case":
            continue
        case, client, run = f[0], f[1], int(f[2])
        wall, user, sys_, rss, first = (float(x) for x in f[3:8])
        row = {
            "wall": wall,
            "cpu": user + sys_,
            "user": user,
            "sys": sys_,
            "rss": rss / 1024.0,  # MB
            "first": first if first >= 0 else None,
            "status": int(f[8]),
            "inproc_first": float(f[9]) / 1000.0 if f[9] not in ("", "-") else None,
            "sim_cpu": float(f[10]) if len(f) > 10 and f[10] not in ("", "-") else None,
        }
        data.setdefault(case, {}).setdefault(client, Runs()).add(run, row)
    return data


def pair_ratio(case_data, metric, a="tvkit", b="peer"):
    """Median over runs i of a_i/b_i, pairing runs made back to back."""
    if a not in case_data or b not in case_data:
        return None
    ra, rb = case_data[a].ok(), case_data[b].ok()
    rs = []
    for run, va in ra.items():
        vb = rb.get(run)
        if vb and va[metric] is not None and vb[metric]:
            rs.append(va[metric] / vb[metric])
    return med(rs)


def verdict(ratio, target, lower_is_better=True):
    if ratio is None:
        return "not measured"
    if lower_is_better:
        if ratio <= target:
            return f"**met** ({fmt_ratio(ratio)} ≤ 1/{1 / target:.0f})"
        return f"**missed** by {ratio / target:.2f}x ({fmt_ratio(ratio)} vs ≤ 1/{1 / target:.0f})"
    if ratio >= target:
        return f"**met** ({ratio / 1e6:.2f} M ≥ {target / 1e6:.0f} M)"
    return f"**missed** by {target / ratio:.2f}x ({ratio / 1e6:.2f} M vs ≥ {target / 1e6:.0f} M)"


def parse_decode(text):
    """bench_decode prints, per corpus, one line per level (memchr, frame, tokens, views, plain) with
    "N M packets/s". Returns {level: packets/s} for the synthetic quote stream."""
    levels, in_synth = {}, False
    for line in text.splitlines():
        if line and not line.startswith(" "):
            in_synth = "synthetic" in line.lower()
            continue
        m = re.match(r"\s+(\w+)\s+\d+ packets\s+([0-9.]+) M packets/s", line)
        if in_synth and m:
            levels[m.group(1)] = float(m.group(2)) * 1e6
    return levels


def shorten_commands(text):
    """The URL and certificate of the run become $SIM and $CA; a run of generated symbols
    SIM:F000 SIM:F001 ... SIM:F099 becomes 'SIM:F000 ... SIM:F099' (100 symbols)."""
    text = re.sub(r"wss?://127\.0\.0\.1:[0-9]+/socket\.io/websocket", "$SIM", text)
    text = re.sub(r"(?<![\w/.])cert\.pem", "$CA", text)

    def runs(m):
        syms = m.group(0).split()
        return f"{syms[0]} ... {syms[-1]} ({len(syms)} symbols)"
    return re.sub(r"SIM:[A-Z]+[0-9]{3}(?: SIM:[A-Z]+[0-9]{3}){3,}", runs, text)


def main():
    work, out = sys.argv[1], sys.argv[2]
    meta = read_kv(os.path.join(work, "meta.txt"))
    data = load_rows(os.path.join(work, "rows.tsv")) if os.path.exists(
        os.path.join(work, "rows.tsv")) else {}
    cases = []
    if os.path.exists(os.path.join(work, "cases.tsv")):
        for line in open(os.path.join(work, "cases.tsv"), encoding="utf-8"):
            f = line.rstrip("\n").split("\t")
            if len(f) >= 4:
                cases.append({"case": f[0], "kind": f[1], "size": float(f[2]), "title": f[3]})
    L = []
    w = L.append
    w("# tvkit benchmark results")
    w("")
    dirty = meta.get("dirty", "0").strip()
    dirty_note = (f", built from the working tree with {dirty} modified source files not yet "
                  "committed" if dirty not in ("", "0") else "")
    if meta.get("source"):
        dirty_note += f"; built from {meta['source']}"
    w(f"Written by `bench/run.sh` on {meta.get('date', '?')} (tvkit commit "
      f"`{meta.get('commit', '?')}`{dirty_note}). Mode: **{meta.get('mode', '?')}**, "
      f"{meta.get('runs', '?')} timed runs per client and case (medians shown), each case "
      "preceded by one untimed validation run per client whose output lines are counted (of the "
      "firehose variants only `fh-ws`: the others carry the same stream and are checked by exit "
      "status and the peer's own count).")
    w("")
    w("## Machine")
    w("")
    for k in ("cpu", "nproc", "memory", "kernel", "load", "load_end", "elapsed", "compiler",
              "node", "peer", "settings"):
        if k in meta:
            w(f"- {k}: {meta[k]}")
    w("")
    w("## Method")
    w("")
    w("- Client = `tvkit` (this repository, RelWithDebInfo build) versus the peer = the npm "
      "package `@mathieuc/tradingview` driven by `bench/peer/*.js`, both against the same "
      "`tvkit-sim` over loopback, in the same invocation, runs interleaved (tvkit, peer, peer, "
      "tvkit, ...).")
    w("- CPU = user+sys of the client process only (`wait4` rusage, `bench/lib/benchrun.c`); the "
      "sim runs as a separate process (on the other core when free) and is not counted. "
      "Wall = spawn to exit. RSS = peak resident set of the client (`ru_maxrss`; summed over "
      "processes when one case runs several).")
    w("- Ratio = tvkit/peer per pair of back-to-back runs, median of the pairs. Below 1 is "
      "better for tvkit; (1/x) says how many times better.")
    w("- Time to first quote: from spawn of `tvkit` to its first output byte (process start, TCP "
      "connect, WebSocket upgrade and the set-up exchange included). For the peer the figure is "
      "taken inside the Node process from just before `new Client()` (connect) to the first "
      "quote callback, i.e. Node's start-up (~40 ms) is NOT charged to the peer.")
    w("- Node's `@mathieuc/tradingview` is pointed at the sim by `bench/peer/shim.js`, which "
      "replaces the `ws` module the package loads (Module._load) with a subclass that connects "
      "to the sim; node_modules is untouched.")
    w("")
    w("## Results (medians)")
    w("")
    w("| case | tvkit CPU s | peer CPU s | CPU ratio | tvkit wall s | peer wall s | wall ratio "
      "| tvkit RSS MB | peer RSS MB | RSS ratio | sim CPU s (tvkit / peer run) |")
    w("|---|---|---|---|---|---|---|---|---|---|---|")
    for c in cases:
        d = data.get(c["case"], {})
        t, p = d.get("tvkit"), d.get("peer")
        def g(r, m):
            return r.metric(m) if r else None
        w(f"| {c['title']} | {fmt(g(t, 'cpu'))} | {fmt(g(p, 'cpu'))} | "
          f"{fmt_ratio(pair_ratio(d, 'cpu'))} | {fmt(g(t, 'wall'))} | {fmt(g(p, 'wall'))} | "
          f"{fmt_ratio(pair_ratio(d, 'wall'))} | {fmt(g(t, 'rss'), nd=1)} | "
          f"{fmt(g(p, 'rss'), nd=1)} | {fmt_ratio(pair_ratio(d, 'rss'))} | "
          f"{fmt(g(t, 'sim_cpu'), nd=2)} / {fmt(g(p, 'sim_cpu'), nd=2)} |")
    w("")
    fails = []
    for c in cases:
        for client, r in data.get(c["case"], {}).items():
            if r.failed():
                fails.append(f"{c['title']} / {client}: {r.failed()} of {len(r.rows)} runs failed")
        if not data.get(c["case"]):
            fails.append(f"{c['title']}: no runs recorded")
    if fails:
        w("Failed or missing runs (excluded from the medians):")
        w("")
        for f in fails:
            w(f"- {f}")
        w("")

    # Derived figures.
    w("### Firehose throughput (client CPU per million packets)")
    w("")
    w("| case | tvkit CPU s / M pkts | peer CPU s / M pkts | tvkit M pkts/s (wall) | peer M pkts/s (wall) |")
    w("|---|---|---|---|---|")
    for c in cases:
        if c["kind"] != "firehose":
            continue
        d = data.get(c["case"], {})
        n = c["size"] / 1e6
        row = [c["title"]]
        for key in ("cpu",):
            for cl in ("tvkit", "peer"):
                v = d[cl].metric(key) if cl in d else None
                row.append(fmt(v / n if v is not None else None))
        for cl in ("tvkit", "peer"):
            v = d[cl].metric("wall") if cl in d else None
            row.append(fmt(n / v if v else None))
        w("| " + " | ".join(row) + " |")
    w("")
    w("### Time from connect to first quote")
    w("")
    w("| case | tvkit ms (from spawn) | peer ms (in process, from connect) |")
    w("|---|---|---|")
    ttfq_verdict = None
    tt = []
    for c in cases:
        if c["kind"] != "ttfq":
            continue
        d = data.get(c["case"], {})
        tf = d["tvkit"].metric("first") if "tvkit" in d else None
        pf = d["peer"].metric("inproc_first") if "peer" in d else None
        tt.append((c["size"] / 1000.0, tf, pf, c["title"]))
    tt.sort()
    nonzero = [x for x in tt if x[0] > 0]
    slope = {}
    if len(nonzero) >= 2:
        # The sim delays every message it sends by the latency, so each round trip the client
        # waits for costs one latency; the difference between two latencies cancels the fixed
        # costs (start-up, connect, scheduling) that a single measurement includes.
        (l1, t1, p1, _), (l2, t2, p2, _) = nonzero[0], nonzero[-1]
        if t1 is not None and t2 is not None:
            slope["t"] = (t2 - t1) / (l2 - l1)
        if p1 is not None and p2 is not None:
            slope["p"] = (p2 - p1) / (l2 - l1)
    for lat, tf, pf, title in tt:
        w(f"| {title} | {fmt(tf * 1000 if tf is not None else None)} | "
          f"{fmt(pf * 1000 if pf is not None else None)} |")
    if slope:
        w("")
        w(f"Round trips waited after the handshake (slope between {nonzero[0][0] * 1000:.0f} and "
          f"{nonzero[-1][0] * 1000:.0f} ms): tvkit {fmt(slope.get('t'), nd=2)}, "
          f"peer {fmt(slope.get('p'), nd=2)}.")
    if "t" in slope:
        r = slope["t"]
        ok = r < 1.5
        ttfq_verdict = (f"**{'met' if ok else 'missed'}**: {r:.2f} round trips"
                        + ("" if ok else f" (target 1, missed by {r - 1:.2f})")
                        + (f"; the peer waits {slope['p']:.2f}" if "p" in slope else ""))
    w("")
    w("## Targets (issue 7)")
    w("")
    levels = {}
    dec_path = os.path.join(work, "decode.txt")
    if os.path.exists(dec_path):
        levels = parse_decode(open(dec_path, encoding="utf-8", errors="replace").read())
    dec_pps = levels.get("plain") or levels.get("views")
    if dec_pps:
        extra = ", ".join(f"{k} {v / 1e6:.2f} M/s" for k, v in levels.items())
        lvl = "plain" if levels.get("plain") else "views"
        w(f"- Decode in process ≥ 5 M packets/s (synthetic quote stream, full typed decode "
          f"as the client's quote book does it = level `{lvl}`): "
          f"{verdict(dec_pps, TARGETS['decode_pps'], False)}; all levels: "
          f"{extra} (memchr = framing-only ceiling; `views` = the same decode through tokens, "
          f"as `tvk_conn_next` users get it)")
    else:
        w("- Decode in process ≥ 5 M packets/s: not measured (bench_decode not built or its "
          "output not recognised; see below)")
    for c in cases:
        if c["kind"] == "firehose":
            w(f"- Firehose CPU ≤ 1/20 of the peer, {c['title']}: "
              f"{verdict(pair_ratio(data.get(c['case'], {}), 'cpu'), TARGETS['firehose_cpu'])}")
    for c in cases:
        if c["kind"] in ("history", "multi"):
            w(f"- History CPU ≤ 1/10 of the peer, {c['title']}: "
              f"{verdict(pair_ratio(data.get(c['case'], {}), 'cpu'), TARGETS['history_cpu'])}")
    # Multi-symbol wall time against the best peer configuration.
    multi = [c for c in cases if c["kind"] == "multi"]
    if multi:
        walls = [(data.get(c["case"], {}).get("peer").metric("wall"), c["title"])
                 for c in multi if data.get(c["case"], {}).get("peer")]
        walls = [x for x in walls if x[0] is not None]
        best_peer = min(walls) if walls else None
        for c in multi:
            t = data.get(c["case"], {}).get("tvkit")
            tw = t.metric("wall") if t else None
            r = tw / best_peer[0] if (tw is not None and best_peer) else None
            sc = t.metric("sim_cpu") if t else None
            tc = t.metric("cpu") if t else None
            note = ""
            if sc is not None and tw and tc is not None:
                note = f" — during tvkit's {tw:.2f} s the sim used {sc:.2f} s CPU and tvkit {tc:.2f} s"
                if sc >= 0.7 * tw:
                    note += " (server-bound)"
                elif sc + tc < 0.5 * tw:
                    note += (": neither is busy most of the time, the rest is waiting (latency "
                             "round trips, and the CPU on a loaded machine: load "
                             f"{meta.get('load', '?').split(' at')[0]} at the start)")
            w(f"- Multi-symbol wall ≤ 1/5 of the best peer ({best_peer[1] if best_peer else '?'}), "
              f"{c['title']}: {verdict(r, TARGETS['multi_wall'])}{note}")
    rss_ratios = [(pair_ratio(data.get(c["case"], {}), "rss"), c["title"]) for c in cases]
    rss_ratios = [x for x in rss_ratios if x[0] is not None]
    if rss_ratios:
        worst = max(rss_ratios)
        met = sum(1 for r, _ in rss_ratios if r <= TARGETS["rss"])
        w(f"- Peak RSS ≤ 1/10 of the peer in every case: met in {met} of {len(rss_ratios)} "
          f"cases; worst case {worst[1]}: {verdict(worst[0], TARGETS['rss'])}")
    w(f"- Connect to first quote in one round trip after the handshake: "
      f"{ttfq_verdict or 'not measured'}")
    w("")
    for name, title in (("decode.txt", "bench/decode output (decode only, in process)"),
                        ("firehose.txt", "bench/firehose output (the sim's packet production rate)")):
        w(f"## {title}")
        w("")
        p = os.path.join(work, name)
        if os.path.exists(p):
            w("```")
            w(open(p, encoding="utf-8", errors="replace").read().rstrip())
            w("```")
        else:
            w("not run: the binary was not found in the build directory.")
        w("")
    notes = os.path.join(work, "notes.md")
    if os.path.exists(notes):
        w(open(notes, encoding="utf-8").read().rstrip())
        w("")
    w("## Commands")
    w("")
    w("`$SIM` is the URL printed by the `tvkit-sim` started for the case; `$CA` the throwaway "
      "certificate generated by `openssl req` for the run.")
    w("")
    w("```")
    cmd_path = os.path.join(work, "commands.txt")
    if os.path.exists(cmd_path):
        w(shorten_commands(open(cmd_path, encoding="utf-8").read().rstrip()))
    w("```")
    with open(out, "w", encoding="utf-8") as f:
        f.write("\n".join(L) + "\n")


if __name__ == "__main__":
    main()
