package bybitsim

import (
	"encoding/json"
	"maps"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestTickers: linear/inverse send a snapshot then deltas of changed fields
// (symbol first); merging them gives Server.Ticker. Spot and option send
// full snapshots only.
func TestTickers(t *testing.T) {
	cases := []struct {
		cat, sym string
		fields   int
		deltas   bool
	}{
		{"linear", "BTCUSDT", 22, true},
		{"inverse", "BTCUSD", 20, true},
		{"spot", "ETHUSDT", 9, false},
		{"option", "ETH-27DEC30-4000-C", 25, false},
	}
	for _, c := range cases {
		t.Run(c.cat, func(t *testing.T) {
			s := pausedServer(t, Config{Seed: 8, Rate: Rate{Mode: RateMax}})
			cl := dial(t, s.URL(c.cat))
			cl.send(subscribeMsg("tickers." + c.sym))
			cl.nextAck()
			merged := map[string]string{}
			take := func(f frame) {
				t.Helper()
				if f.TS == 0 || (c.cat != "option" && f.CS == 0) {
					t.Fatalf("frame without ts/cs: %+v", f)
				}
				if c.cat == "option" && !regexp.MustCompile(`^tickers\.`+regexp.QuoteMeta(c.sym)+`-\d+-\d{13}$`).MatchString(f.ID) {
					t.Fatalf("option id %q", f.ID)
				}
				keys := keyPaths(t, f.Data)
				if keys[0] != "symbol" {
					t.Fatalf("first field %q; want symbol", keys[0])
				}
				var d map[string]string
				err := json.Unmarshal(f.Data, &d)
				if err != nil {
					t.Fatalf("ticker data %s: %v", f.Data, err)
				}
				switch f.Type {
				case "snapshot":
					if len(d) != c.fields {
						t.Fatalf("snapshot with %d fields; want %d", len(d), c.fields)
					}
					merged = d
				case "delta":
					if !c.deltas {
						t.Fatalf("%s sent a ticker delta", c.cat)
					}
					if len(d) < 2 || len(d) == c.fields {
						t.Fatalf("delta with %d fields; want only the changed ones", len(d))
					}
					for k, v := range d {
						if k != "symbol" && merged[k] == v {
							t.Fatalf("delta repeats unchanged %s=%s", k, v)
						}
					}
					maps.Copy(merged, d)
				default:
					t.Fatalf("type %q", f.Type)
				}
			}
			take(cl.nextData())
			n := 0
			for range 50 {
				for range s.Step(1) {
					take(decode(t, cl.next()))
					n++
				}
			}
			if n < 10 {
				t.Fatalf("%d ticker frames in 50 steps; want more", n)
			}
			want, err := s.Ticker(c.cat, c.sym)
			if err != nil {
				t.Fatalf("Ticker: %v", err)
			}
			if !maps.Equal(merged, want) {
				t.Fatalf("merged frames %v\nTicker() %v", merged, want)
			}
		})
	}
}

type tradeItem struct {
	T   int64  `json:"T"`
	S   string `json:"s"`
	Sd  string `json:"S"`
	V   string `json:"v"`
	P   string `json:"p"`
	I   string `json:"i"`
	Seq int64  `json:"seq"`
}

func decodeTrades(t *testing.T, f frame) []tradeItem {
	t.Helper()
	var tr []tradeItem
	err := json.Unmarshal(f.Data, &tr)
	if err != nil {
		t.Fatalf("trade data %s: %v", f.Data, err)
	}
	return tr
}

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// TestTrades: trades come in batches, several fills of one order share T,
// ids are unique (UUIDs on derivatives, consecutive numbers on spot), each
// sweep starts at the best opposite level of the book as last published,
// and Server.Trades returns what was sent.
func TestTrades(t *testing.T) {
	for _, c := range []struct{ cat, sym string }{{"linear", "BTCUSDT"}, {"spot", "BTCUSDT"}, {"inverse", "BTCUSD"}} {
		t.Run(c.cat, func(t *testing.T) {
			s := pausedServer(t, Config{Seed: 12, Rate: Rate{Mode: RateMax}})
			cl := dial(t, s.URL(c.cat))
			book := "orderbook.50." + c.sym
			bf := newFollower(t)
			bf.follow(book, 50)
			cl.send(subscribeMsg(book, "publicTrade."+c.sym))
			cl.nextAck()
			drain(cl, bf, 1)
			ids := map[string]bool{}
			var got []string
			var lastSpotID uint64
			multi, sameT := 0, 0
			for range 400 {
				n := s.Step(1) // RateMax: one market event per step
				bids, asks := bf.books[book].levels()
				for range n {
					f := decode(t, cl.next())
					if f.Topic == book {
						bf.take(f)
						continue
					}
					trs := decodeTrades(t, f)
					if len(trs) > 1 {
						multi++
					}
					for i, tr := range trs {
						if ids[tr.I] {
							t.Fatalf("trade id %s repeated", tr.I)
						}
						ids[tr.I] = true
						got = append(got, tr.I)
						if c.cat == "spot" {
							id, err := strconv.ParseUint(tr.I, 10, 64)
							if err != nil || (lastSpotID != 0 && id != lastSpotID+1) {
								t.Fatalf("spot trade id %s after %d; want consecutive numbers", tr.I, lastSpotID)
							}
							lastSpotID = id
						} else if !uuidRE.MatchString(tr.I) {
							t.Fatalf("trade id %q; want a UUID", tr.I)
						}
						if tr.T > f.TS || tr.S != c.sym {
							t.Fatalf("trade %+v in frame ts %d", tr, f.TS)
						}
						if i > 0 && tr.T == trs[i-1].T {
							sameT++
						}
						if i == 0 {
							opp := asks
							if tr.Sd == "Sell" {
								opp = bids
							}
							if tr.P != opp[0][0] || cmpDecimal(tr.V, opp[0][1]) > 0 {
								t.Fatalf("%s %s@%s; best opposite level was %v", tr.Sd, tr.V, tr.P, opp[0])
							}
						}
					}
				}
			}
			if multi == 0 || sameT == 0 {
				t.Fatalf("%d multi-trade frames, %d trades sharing T; want some of each", multi, sameT)
			}
			sent, err := s.Trades(c.cat, c.sym)
			if err != nil {
				t.Fatalf("Trades: %v", err)
			}
			var sentIDs []string
			for _, tr := range sent {
				sentIDs = append(sentIDs, tr.ID)
			}
			if len(got) > len(sentIDs) {
				got = got[len(got)-len(sentIDs):]
			}
			if strings.Join(sentIDs, ",") != strings.Join(got, ",") {
				t.Fatalf("Trades() ids differ from the ids received")
			}
		})
	}
}

// TestOptionTrades: option trades go to publicTrade.{BASECOIN} and mix the
// base coin's options.
func TestOptionTrades(t *testing.T) {
	s := pausedServer(t, Config{Seed: 13, Rate: Rate{Mode: RateMax}})
	cl := dial(t, s.URL("option"))
	cl.send(subscribeMsg("publicTrade.BTC"))
	cl.nextAck()
	syms := map[string]int{}
	for range 300 {
		for range s.Step(1) {
			f := decode(t, cl.next())
			if f.Topic != "publicTrade.BTC" || !strings.HasPrefix(f.ID, "publicTrade.BTC-") {
				t.Fatalf("frame topic %q id %q", f.Topic, f.ID)
			}
			for _, tr := range decodeTrades(t, f) {
				syms[tr.S]++
			}
		}
	}
	if len(syms) != 2 || syms["BTC-27DEC30-80000-C"] == 0 || syms["BTC-27DEC30-60000-P"] == 0 {
		t.Fatalf("trades by symbol %v; want both BTC options", syms)
	}
}

type klineItem struct {
	Start, End  int64
	Interval    string
	Open, Close string
	High, Low   string
	Volume      string
	Turnover    string
	Confirm     bool
	Timestamp   int64
}

// TestKlines runs a compressed clock (1 simulated minute = 100 ms) and
// checks candles: aligned starts, end = start+interval-1, in-place updates
// with confirm=false, one confirm=true per closed candle, the next candle
// opening at the previous close; Server.Kline and REST agree.
func TestKlines(t *testing.T) {
	s := pausedServer(t, Config{Seed: 14, Rate: Rate{Mode: RateMax}, TimeScale: 600})
	cl := dial(t, s.URL("linear"))
	cl.send(subscribeMsg("kline.1.BTCUSDT"))
	cl.nextAck()
	var frames []klineItem
	take := func(f frame) {
		t.Helper()
		var ks []klineItem
		err := json.Unmarshal(f.Data, &ks)
		if err != nil || len(ks) != 1 {
			t.Fatalf("kline data %s: %v", f.Data, err)
		}
		frames = append(frames, ks[0])
	}
	take(cl.nextData())
	confirms := 0
	deadline := time.Now().Add(waitLong)
	for confirms < 3 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
		for range s.Step(1) {
			take(decode(t, cl.next()))
			if frames[len(frames)-1].Confirm {
				confirms++
			}
		}
	}
	if confirms < 3 {
		t.Fatalf("%d candles closed within %v; want 3", confirms, waitLong)
	}
	var closedPrev *klineItem
	for i := range frames {
		k := &frames[i]
		if k.Start%60000 != 0 || k.End != k.Start+59999 || k.Interval != "1" {
			t.Fatalf("candle %+v: want start aligned to a minute, end = start+59999", k)
		}
		if cmpDecimal(k.High, k.Low) < 0 || cmpDecimal(k.High, k.Open) < 0 || cmpDecimal(k.Low, k.Close) > 0 {
			t.Fatalf("candle %+v: high/low do not bound open/close", k)
		}
		if i > 0 {
			p := &frames[i-1]
			switch {
			case p.Confirm && k.Start <= p.Start:
				t.Fatalf("candle %d after confirmed %d", k.Start, p.Start)
			case !p.Confirm && k.Start == p.Start && cmpDecimal(k.Volume, p.Volume) < 0:
				t.Fatalf("volume fell from %s to %s within a candle", p.Volume, k.Volume)
			case !p.Confirm && k.Start != p.Start && !k.Confirm:
				t.Fatalf("candle %d replaced by %d without confirm", p.Start, k.Start)
			}
		}
		if closedPrev != nil && k.Start == closedPrev.End+1 && k.Open != closedPrev.Close {
			t.Fatalf("candle %d opens at %s; previous closed at %s", k.Start, k.Open, closedPrev.Close)
		}
		if k.Confirm {
			closedPrev = k
		}
	}
	rows, err := s.Kline("linear", "BTCUSDT", "1")
	if err != nil {
		t.Fatalf("Kline: %v", err)
	}
	last := map[int64]klineItem{}
	for _, k := range frames {
		last[k.Start] = k
	}
	if len(rows) != len(last) {
		t.Fatalf("Kline() has %d candles; %d were sent", len(rows), len(last))
	}
	for _, r := range rows {
		k := last[r.Start]
		if r.Close != k.Close || r.Volume != k.Volume || r.Confirm != k.Confirm || r.Turnover != k.Turnover {
			t.Fatalf("Kline() row %+v; last sent %+v", r, k)
		}
	}
	// The series holds every candle the stream closed, as closed, and its
	// open candle is the stream's newest; REST serves the same rows.
	series, err := s.KlineSeries("linear", "BTCUSDT", "1")
	if err != nil {
		t.Fatalf("KlineSeries: %v", err)
	}
	byStart := map[int64]KlineRow{}
	for i, r := range series {
		if i > 0 && r.Start != series[i-1].End+1 {
			t.Fatalf("KlineSeries rows %d,%d: %d then %d; want contiguous", i-1, i, series[i-1].Start, r.Start)
		}
		if r.Confirm != (i < len(series)-1) {
			t.Fatalf("KlineSeries row %d of %d: confirm %v; want only the newest open", i, len(series), r.Confirm)
		}
		byStart[r.Start] = r
	}
	for _, w := range rows {
		g, ok := byStart[w.Start]
		if w.Confirm && (!ok || g.Close != w.Close || g.Volume != w.Volume || g.High != w.High || g.Turnover != w.Turnover) {
			t.Fatalf("sent closed candle %+v; series has %+v (held %v)", w, g, ok)
		}
	}
	if open, last := series[len(series)-1], rows[len(rows)-1]; last.Confirm && open.Start <= last.Start || !last.Confirm && open.Start != last.Start {
		t.Fatalf("series open candle %d; the stream's newest is %d (confirm %v)", open.Start, last.Start, last.Confirm)
	}
	e, _ := restGet(t, s, "/v5/market/kline", url.Values{"category": {"linear"}, "symbol": {"BTCUSDT"}, "interval": {"1"}, "limit": {"5"}})
	var r struct{ List [][7]string }
	if err := json.Unmarshal(e.Result, &r); err != nil || len(r.List) != 5 {
		t.Fatalf("REST kline: %s, %v", e.Result, err)
	}
	for i, row := range r.List {
		w := series[len(series)-1-i]
		if row != [7]string{strconv.FormatInt(w.Start, 10), w.Open, w.High, w.Low, w.Close, w.Volume, w.Turnover} {
			t.Fatalf("REST row %d %v; series %+v", i, row, w)
		}
	}
	if _, err := s.KlineSeries("linear", "BTCUSDT", "2"); err != ErrUnknownTopic {
		t.Fatalf("KlineSeries interval 2: %v; want ErrUnknownTopic", err)
	}
}

// TestIntervals checks candle alignment for every interval, including
// weeks (Mondays) and calendar months.
func TestIntervals(t *testing.T) {
	ms := func(s string) int64 {
		tm, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		return tm.UnixMilli()
	}
	f := func(iv string, at, start, next string) {
		t.Helper()
		i, ok := parseInterval(iv)
		if !ok {
			t.Fatalf("interval %q not parsed", iv)
		}
		if got := i.start(ms(at)); got != ms(start) {
			t.Fatalf("%s start(%s) = %s; want %s", iv, at, time.UnixMilli(got).UTC(), start)
		}
		if got := i.next(ms(start)); got != ms(next) {
			t.Fatalf("%s next(%s) = %s; want %s", iv, start, time.UnixMilli(got).UTC(), next)
		}
		if got := i.prev(ms(next)); got != ms(start) {
			t.Fatalf("%s prev(%s) = %s; want %s", iv, next, time.UnixMilli(got).UTC(), start)
		}
	}
	f("1", "2025-03-05T10:17:42Z", "2025-03-05T10:17:00Z", "2025-03-05T10:18:00Z")
	f("15", "2025-03-05T10:17:42Z", "2025-03-05T10:15:00Z", "2025-03-05T10:30:00Z")
	f("720", "2025-03-05T13:00:00Z", "2025-03-05T12:00:00Z", "2025-03-06T00:00:00Z")
	f("D", "2025-03-05T23:59:59Z", "2025-03-05T00:00:00Z", "2025-03-06T00:00:00Z")
	f("W", "2025-03-05T10:00:00Z", "2025-03-03T00:00:00Z", "2025-03-10T00:00:00Z") // Monday
	f("W", "2025-03-09T23:00:00Z", "2025-03-03T00:00:00Z", "2025-03-10T00:00:00Z") // Sunday
	f("M", "2024-02-29T12:00:00Z", "2024-02-01T00:00:00Z", "2024-03-01T00:00:00Z")
	f("M", "2024-12-31T23:59:59Z", "2024-12-01T00:00:00Z", "2025-01-01T00:00:00Z")
	if _, ok := parseInterval("2"); ok {
		t.Fatalf("interval 2 accepted")
	}
}
