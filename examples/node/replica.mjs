// A replica of one ringfeed order book, kept from its NATS subjects with the
// npm "nats" package: the wire contract in ../../README.md ("NATS fan-out").
//
//   npm install
//   node replica.mjs [--nats nats://127.0.0.1:4222] [--category linear] [--depth 50] [--once] SYMBOL
//
// Prints the replica in GET /v1/book/{symbol}'s JSON shape: on every update,
// or once (--once) as soon as it is synced and live.
import { connect, StringCodec } from "nats";

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(name);
  if (i < 0) return def;
  const v = args[i + 1];
  args.splice(i, 2);
  return v;
};
const servers = opt("--nats", "nats://127.0.0.1:4222");
const category = opt("--category", "linear");
const depth = Number(opt("--depth", "50"));
const once = args.includes("--once");
const symbol = args.filter((a) => a !== "--once")[0];
if (!symbol) {
  console.error("usage: node replica.mjs [--nats URL] [--category C] [--depth N] [--once] SYMBOL");
  process.exit(2);
}

const sc = StringCodec();
const subject = `ringfeed.${category}.book.${depth}.${symbol}`;
const snapSubject = `ringfeed.${category}.booksnap.${depth}.${symbol}`;
const reqSubject = `ringfeed.${category}.snapreq.${depth}.${symbol}`;

// Prices are exact decimal strings; BigInt at the snapshot's scale orders
// them exactly, and the engine's own strings are kept for printing.
let ps = 8;
const toInt = (s) => {
  const neg = s.startsWith("-");
  const [i, f = ""] = (neg ? s.slice(1) : s).split(".");
  const v = BigInt(i + f.padEnd(ps, "0").slice(0, ps));
  return neg ? -v : v;
};

const book = { bids: new Map(), asks: new Map(), head: null, n: -1, synced: false, stale: true, reason: "" };

const reset = (m) => {
  book.bids.clear();
  book.asks.clear();
  if (m.ps !== undefined) ps = m.ps;
  for (const [p, s] of m.bids ?? []) book.bids.set(toInt(p), [p, s]);
  for (const [p, s] of m.asks ?? []) book.asks.set(toInt(p), [p, s]);
  book.stale = m.type === "stale";
  book.reason = m.reason ?? "";
  book.head = m;
  book.n = m.n;
  book.synced = true;
};

const sorted = (side) => {
  const keys = [...book[side].keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (side === "bids") keys.reverse();
  return keys;
};

const applyDelta = (m) => {
  for (const side of ["bids", "asks"]) {
    for (const [p, s] of m[side] ?? []) {
      if (/^0(\.0*)?$/.test(s)) book[side].delete(toInt(p));
      else book[side].set(toInt(p), [p, s]);
    }
    // Keep the best `depth` levels, as the engine's capped book does.
    for (const k of sorted(side).slice(depth)) book[side].delete(k);
  }
  book.head = m;
  book.n = m.n;
};

// handle applies one message; it returns false when the replica lost its
// place (a jump in n) and must wait for a snapshot.
const handle = (m) => {
  if (m.type === "snapshot" || m.type === "stale") {
    reset(m);
    return true;
  }
  if (!book.synced || m.n <= book.n) return book.synced;
  if (m.n !== book.n + 1) {
    book.synced = false;
    nc.publish(reqSubject); // the engine answers with a snapshot on `subject`
    return false;
  }
  applyDelta(m);
  return true;
};

const view = () => {
  const h = book.head ?? {};
  const v = { category, symbol, depth, u: h.u ?? 0, seq: h.seq ?? 0, ts: h.ts ?? 0 };
  if (h.cts) v.cts = h.cts;
  v.stale = !book.synced || book.stale;
  if (v.stale) v.reason = book.reason || "resync";
  v.bids = sorted("bids").map((k) => book.bids.get(k));
  v.asks = sorted("asks").map((k) => book.asks.get(k));
  return v;
};

const nc = await connect({ servers, name: "ringfeed node example" });
// Live updates first, then the stored snapshot, so nothing falls between.
const sub = nc.subscribe(subject);
const held = [];
try {
  const jsm = await nc.jetstreamManager();
  const sm = await jsm.streams.getMessage("RINGFEED_LAST", { last_by_subj: snapSubject });
  reset(JSON.parse(sc.decode(sm.data)));
} catch (e) {
  console.error(`no stored snapshot yet (${e.message}); asking the engine`);
}
// Ask for a fresh one anyway: the stored one may be older than the stream.
nc.publish(reqSubject);

for await (const msg of sub) {
  const m = JSON.parse(sc.decode(msg.data));
  if (!book.synced && m.type === "delta") {
    held.push(m);
    continue;
  }
  handle(m);
  while (held.length > 0) handle(held.shift());
  if (!book.synced || book.stale) continue;
  console.log(JSON.stringify(view()));
  if (once) break;
}
await nc.close();
