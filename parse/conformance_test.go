package parse

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The real captured frames live outside the repository (see the shared
// SOURCES.md); these tests skip when the folder is absent.
var sharedDir = filepath.Join("..", "..", "shared", "testdata", "bybit")

func sharedFrames(t *testing.T) map[string][]byte {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(sharedDir, "*.json"))
	if err != nil || len(names) == 0 {
		t.Skipf("no captured frames in %s", sharedDir)
	}
	m := make(map[string][]byte, len(names))
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		m[filepath.Base(n)] = bytes.TrimSpace(b)
	}
	return m
}

// conformanceSymbols registers every symbol of the captured frames; with
// instrument scales when inst is set, else with the defaults.
func conformanceSymbols(t *testing.T, inst bool) *Symbols {
	t.Helper()
	type sc struct{ p, s int }
	real := map[string]sc{
		"BTCUSDT": {2, 6}, "BTCPERP": {2, 3}, "XRPUSDT": {4, 0}, "LTCUSDT": {2, 1},
		"BTCUSD": {2, 0}, "BTCUSDU23": {2, 0}, "SOL-28APR23-30-C": {2, 0},
		"BTC-30JUN23-45000-P": {0, 2}, "BTC-28APR23-29500-C": {0, 2},
		"BTC-28JUN24-60000-P": {0, 2},
	}
	s := NewSymbols()
	for name, v := range real {
		if !inst {
			v = sc{DefaultPriceScale, DefaultSizeScale}
		}
		if _, err := s.Add(name, v.p, v.s); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// TestConformance parses every captured frame and checks each produced
// value against an independent decoding (encoding/json + math/big).
func TestConformance(t *testing.T) {
	frames := sharedFrames(t)
	for _, inst := range []bool{false, true} {
		syms := conformanceSymbols(t, inst)
		p := NewParser(syms)
		sink := newSink(128)
		for name, frame := range frames {
			sink.reset()
			r, err := p.Parse(frame, 42, sink)
			if err != nil {
				t.Fatalf("%s (instrument scales %v): %v", name, inst, err)
			}
			var m map[string]any
			d := json.NewDecoder(bytes.NewReader(frame))
			d.UseNumber()
			if err := d.Decode(&m); err != nil {
				t.Fatalf("%s: encoding/json: %v", name, err)
			}
			topic, _ := m["topic"].(string)
			if topic == "" {
				checkOp(t, name, m, &r)
				continue
			}
			if r.Class != ClassData {
				t.Fatalf("%s: got class %v; want data", name, r.Class)
			}
			evs := sink.events()
			if r.Events != len(evs) {
				t.Fatalf("%s: got Result.Events %d; want %d slots used", name, r.Events, len(evs))
			}
			for i := range evs {
				if evs[i].RecvNs != 42 || evs[i].TS != num(m["ts"]) {
					t.Fatalf("%s: event %d: got RecvNs %d TS %d; want 42 %d", name, i, evs[i].RecvNs, evs[i].TS, num(m["ts"]))
				}
			}
			switch {
			case strings.HasPrefix(topic, "orderbook."):
				checkBook(t, name, syms, m, evs)
			case strings.HasPrefix(topic, "tickers."):
				checkTicker(t, name, syms, m, evs)
			case strings.HasPrefix(topic, "publicTrade."):
				checkTrades(t, name, syms, m, evs)
			case strings.HasPrefix(topic, "kline."):
				checkKline(t, name, syms, m, evs)
			default:
				t.Fatalf("%s: unexpected topic %q", name, topic)
			}
		}
	}
}

func num(v any) int64 {
	n, ok := v.(json.Number)
	if !ok {
		return 0
	}
	i, err := n.Int64()
	if err != nil {
		panic(err)
	}
	return i
}

func dec(t *testing.T, name string, s any, scale int) int64 {
	t.Helper()
	v, ok := oracleDecimal(s.(string), scale)
	if !ok {
		t.Fatalf("%s: oracle cannot convert %q at scale %d", name, s, scale)
	}
	return v
}

func checkBook(t *testing.T, name string, syms *Symbols, m map[string]any, evs []Event) {
	t.Helper()
	data := m["data"].(map[string]any)
	id, _ := syms.Lookup([]byte(data["s"].(string)))
	ps, ss := syms.Scales(id)
	bids, asks := levelsOf(t, evs)
	for side, got := range [][]Level{bids, asks} {
		raw := data[[]string{"b", "a"}[side]].([]any)
		if len(got) != len(raw) {
			t.Fatalf("%s: side %d: got %d levels; want %d", name, side, len(got), len(raw))
		}
		for i, l := range raw {
			pair := l.([]any)
			want := Level{dec(t, name, pair[0], ps), dec(t, name, pair[1], ss)}
			if got[i] != want {
				t.Fatalf("%s: side %d level %d: got %+v; want %+v", name, side, i, got[i], want)
			}
		}
	}
	e := evs[0]
	depth := strings.Split(m["topic"].(string), ".")[1]
	if e.Sym != id || e.U != num(data["u"]) || e.Seq != num(data["seq"]) || e.CTS != num(m["cts"]) ||
		e.Is(Snapshot) != (m["type"] == "snapshot") || depth != itoa(int(e.Depth)) {
		t.Fatalf("%s: got header %+v", name, e)
	}
}

func checkTicker(t *testing.T, name string, syms *Symbols, m map[string]any, evs []Event) {
	t.Helper()
	if len(evs) != 1 {
		t.Fatalf("%s: got %d events; want 1", name, len(evs))
	}
	e := &evs[0]
	data := m["data"].(map[string]any)
	id, _ := syms.Lookup([]byte(data["symbol"].(string)))
	_, ss := syms.Scales(id)
	if e.Kind != KindTicker || e.Sym != id || e.Seq != num(m["cs"]) || e.Is(Snapshot) != (m["type"] == "snapshot") || !e.Is(First|Last) {
		t.Fatalf("%s: got header %+v", name, e)
	}
	var wantPresent uint64
	for k, v := range data {
		f, ok := tickerByKey[k]
		if !ok {
			continue
		}
		wantPresent |= 1 << f
		s := v.(string)
		got, ok := e.Ticker.Get(f)
		switch {
		case s == "":
			if ok || !e.Ticker.IsEmpty(f) {
				t.Fatalf("%s: %s: got ok %v empty %v; want empty", name, k, ok, e.Ticker.IsEmpty(f))
			}
		case f == TickTickDirection:
			if TickDirection(got).String() != s {
				t.Fatalf("%s: %s: got %v; want %s", name, k, TickDirection(got), s)
			}
		case f == TickDeliveryTime:
			// "2023-09-29T08:00:00Z"
			if got != 1695974400000 {
				t.Fatalf("%s: %s: got %d; want 1695974400000", name, k, got)
			}
		default:
			if want := dec(t, name, s, f.Scale(ss)); !ok || got != want {
				t.Fatalf("%s: %s: got %d (ok %v); want %d", name, k, got, ok, want)
			}
		}
	}
	if e.Ticker.Present != wantPresent {
		t.Fatalf("%s: got Present %#x; want %#x", name, e.Ticker.Present, wantPresent)
	}
}

func checkTrades(t *testing.T, name string, syms *Symbols, m map[string]any, evs []Event) {
	t.Helper()
	data := m["data"].([]any)
	if len(evs) != len(data) {
		t.Fatalf("%s: got %d events; want %d", name, len(evs), len(data))
	}
	for i, x := range data {
		tr := x.(map[string]any)
		e := &evs[i]
		id, _ := syms.Lookup([]byte(tr["s"].(string)))
		ps, ss := syms.Scales(id)
		bt, _ := tr["BT"].(bool)
		rpi, _ := tr["RPI"].(bool)
		l, _ := tr["L"].(string)
		want := Trade{Time: num(tr["T"]), Price: dec(t, name, tr["p"], ps), Size: dec(t, name, tr["v"], ss),
			BlockTrade: bt, RPI: rpi, IDLen: uint8(len(tr["i"].(string)))}
		copy(want.IDBuf[:], tr["i"].(string))
		want.Side = map[string]Side{"Buy": Buy, "Sell": Sell}[tr["S"].(string)]
		want.Tick = parseTick([]byte(l))
		if e.Trade != want || e.Sym != id || e.Seq != num(tr["seq"]) || e.Is(First) != (i == 0) || e.Is(Last) != (i == len(data)-1) {
			t.Fatalf("%s: trade %d: got %+v (sym %d seq %d); want %+v (sym %d)", name, i, e.Trade, e.Sym, e.Seq, want, id)
		}
		if string(e.Trade.ID()) != tr["i"].(string) {
			t.Fatalf("%s: trade %d: got id %q; want %q", name, i, e.Trade.ID(), tr["i"])
		}
	}
}

func checkKline(t *testing.T, name string, syms *Symbols, m map[string]any, evs []Event) {
	t.Helper()
	data := m["data"].([]any)
	if len(evs) != len(data) {
		t.Fatalf("%s: got %d events; want %d", name, len(evs), len(data))
	}
	parts := strings.Split(m["topic"].(string), ".")
	id, _ := syms.Lookup([]byte(parts[2]))
	ps, ss := syms.Scales(id)
	for i, x := range data {
		c := x.(map[string]any)
		want := Candle{Start: num(c["start"]), End: num(c["end"]),
			Open: dec(t, name, c["open"], ps), High: dec(t, name, c["high"], ps),
			Low: dec(t, name, c["low"], ps), Close: dec(t, name, c["close"], ps),
			Volume: dec(t, name, c["volume"], ss), Turnover: dec(t, name, c["turnover"], ValueScale),
			Timestamp: num(c["timestamp"]), Confirm: c["confirm"].(bool)}
		if evs[i].Candle != want || evs[i].Interval.String() != parts[1] || evs[i].Sym != id {
			t.Fatalf("%s: candle %d: got %+v interval %v; want %+v %s", name, i, evs[i].Candle, evs[i].Interval, want, parts[1])
		}
	}
}

func checkOp(t *testing.T, name string, m map[string]any, r *Result) {
	t.Helper()
	if r.Class != ClassOp || r.Events != 0 {
		t.Fatalf("%s: got class %v events %d; want op, 0", name, r.Class, r.Events)
	}
	wantOp := map[string]Op{"subscribe": OpSubscribe, "unsubscribe": OpUnsubscribe, "ping": OpPing, "pong": OpPong}[fmt.Sprint(m["op"])]
	if m["type"] == "COMMAND_RESP" && m["op"] == nil {
		wantOp = OpCommand
	}
	if m["ret_msg"] == "pong" {
		wantOp = OpPong
	}
	succ, _ := m["success"].(bool)
	str := func(k string) string { s, _ := m[k].(string); return s }
	if r.Op != wantOp || r.Success != succ || string(r.RetMsg) != str("ret_msg") ||
		string(r.ConnID) != str("conn_id") || string(r.ReqID) != str("req_id") {
		t.Fatalf("%s: got op %v success %v ret_msg %q conn_id %q req_id %q", name, r.Op, r.Success, r.RetMsg, r.ConnID, r.ReqID)
	}
	if d, ok := m["data"].(map[string]any); ok {
		st := d["successTopics"].([]any)
		if r.SuccessTopics != len(st) || r.FailTopics != len(d["failTopics"].([]any)) {
			t.Fatalf("%s: got %d/%d topics; want %d/%d", name, r.SuccessTopics, r.FailTopics, len(st), len(d["failTopics"].([]any)))
		}
		for i, s := range st {
			if string(r.SuccessTopic(i)) != s.(string) {
				t.Fatalf("%s: topic %d: got %q; want %q", name, i, r.SuccessTopic(i), s)
			}
		}
	}
}

// TestConformanceSequence replays the captured XRPUSDT depth-500 snapshot
// and its 49 deltas: u must advance by one, and the applied book must keep
// exactly 500 uncrossed levels a side (the capture's documented property).
func TestConformanceSequence(t *testing.T) {
	f, err := os.Open(filepath.Join(sharedDir, "linear-orderbook500-XRPUSDT-sequence-20241201.jsonl"))
	if err != nil {
		t.Skipf("captured sequence absent: %v", err)
	}
	defer f.Close()
	syms := NewSymbols()
	if _, err := syms.Add("XRPUSDT", 4, 0); err != nil {
		t.Fatal(err)
	}
	p := NewParser(syms)
	sink := newSink(64)
	book := [2]map[int64]int64{{}, {}}
	var lastU int64
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	lines := 0
	for sc.Scan() {
		sink.reset()
		if _, err := p.Parse(sc.Bytes(), 0, sink); err != nil {
			t.Fatalf("line %d: %v", lines+1, err)
		}
		evs := sink.events()
		if evs[0].Is(Snapshot) {
			book = [2]map[int64]int64{{}, {}}
		} else if evs[0].U != lastU+1 {
			t.Fatalf("line %d: got u %d; want %d", lines+1, evs[0].U, lastU+1)
		}
		lastU = evs[0].U
		bids, asks := levelsOf(t, evs)
		for side, ls := range [][]Level{bids, asks} {
			for _, l := range ls {
				if l.Size == 0 {
					delete(book[side], l.Price)
				} else {
					book[side][l.Price] = l.Size
				}
			}
		}
		best := [2]int64{0, 1 << 62}
		for p := range book[0] {
			best[0] = max(best[0], p)
		}
		for p := range book[1] {
			best[1] = min(best[1], p)
		}
		if len(book[0]) != 500 || len(book[1]) != 500 || best[0] >= best[1] {
			t.Fatalf("line %d: got %d bids %d asks best %v; want 500, 500, uncrossed", lines+1, len(book[0]), len(book[1]), best)
		}
		lines++
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if lines != 50 {
		t.Fatalf("got %d frames; want 50", lines)
	}
}
