package parse

import (
	"errors"
	"math/big"
	"testing"
)

// fuzzSeeds are frames in the documented shapes (made-up values), plus
// broken variants; testdata/fuzz holds more.
var fuzzSeeds = []string{
	goodBook,
	frameKline,
	frameTickerDelta,
	frameTickerSnapshot,
	`{"id":"x","topic":"orderbook.25.BTC-28JUN24-60000-P","ts":1,"data":{"s":"BTC-28JUN24-60000-P","b":[],"a":[],"u":0},"type":"snapshot"}`,
	`{"id":"y","topic":"publicTrade.BTC","ts":3,"data":[{"p":"985","v":"0.01","i":"a","T":9,"BT":false,"s":"BTC-28JUN24-60000-P","S":"Sell"}],"type":"snapshot"}`,
	`{"success":false,"ret_msg":"args size \u003e10","conn_id":"c","req_id":"2","op":"subscribe"}`,
	`{"op":"pong","args":["1733011200123"]}`,
	`{"success":true,"conn_id":"c9","data":{"successTopics":["a"],"failTopics":["b"]},"type":"COMMAND_RESP"}`,
	`{"topic":"orderbook.50.BTCUSDT","type":"delta","ts":1e3,"data":{"b":[["1.0e1","1"]],"a":[],"u":-2}}`,
	`{"topic":"tickers.BTCUSDU23","type":"snapshot","data":{"symbol":"BTCUSDU23","deliveryTime":"2023-09-29T08:00:00Z","fundingRate":""},"ts":6}`,
	`{"topic":"orderbook.50.BTCUSDT","type":"delta","ts":1,"data":{"b":[["1","1"],["2"`,
}

// FuzzParse: Parse never panics, every failure is an *Error with a known
// reason, successful data frames produce well-formed events, and the
// Parser parses a good frame correctly afterwards.
func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Add(benchBook(50, 40, 3, true))
	f.Add(benchTrades(3))
	syms := testSymbols(f)
	p := NewParser(syms, WithMaxLevels(300), WithMaxItems(100))
	sink := newSink(24)
	f.Fuzz(func(t *testing.T, frame []byte) {
		sink.reset()
		r, err := p.Parse(frame, 1, sink)
		if r.Events > sink.n {
			t.Fatalf("got Result.Events %d; want ≤ %d slots taken", r.Events, sink.n)
		}
		if err != nil {
			var pe *Error
			if !errors.As(err, &pe) || pe.Field == "" {
				t.Fatalf("got %v (%T); want an *Error naming a field", err, err)
			}
			known := false
			for _, r := range reasons {
				known = known || pe.Reason == r
			}
			if !known {
				t.Fatalf("got reason %v; want a package sentinel", pe.Reason)
			}
		} else if r.Class == ClassData {
			checkEvents(t, syms, &r, sink.events())
		}
		sink.reset()
		if r, err := p.Parse([]byte(goodBook), 0, sink); err != nil || r.Events != 1 || sink.evs[0].Levels[0] != (Level{100, 2000}) {
			t.Fatalf("good frame after fuzz input: got %+v, %v", r, err)
		}
	})
}

func checkEvents(t *testing.T, syms *Symbols, r *Result, evs []Event) {
	t.Helper()
	if len(evs) != r.Events {
		t.Fatalf("got %d events; Result says %d", len(evs), r.Events)
	}
	for i := range evs {
		e := &evs[i]
		if e.Kind != r.Kind || int(e.Sym) >= syms.Len() || e.RecvNs != 1 {
			t.Fatalf("event %d: got kind %v sym %d; want %v, a registered symbol", i, e.Kind, e.Sym, r.Kind)
		}
		if e.Is(First) != (i == 0) || e.Is(Last) != (i == len(evs)-1) {
			t.Fatalf("event %d of %d: got flags %b", i, len(evs), e.Flags)
		}
		switch e.Kind {
		case KindBook:
			if int(e.NBids)+int(e.NAsks) > LevelsPerEvent {
				t.Fatalf("event %d: got %d+%d levels", i, e.NBids, e.NAsks)
			}
			for _, l := range e.Levels[:e.NBids+e.NAsks] {
				if l.Price < 0 || l.Size < 0 {
					t.Fatalf("event %d: got negative level %+v", i, l)
				}
			}
		case KindTrade:
			if e.Trade.IDLen == 0 || e.Trade.IDLen > TradeIDMax || e.Trade.Side == SideNone {
				t.Fatalf("event %d: got trade %+v", i, e.Trade)
			}
		case KindTicker:
			if e.Ticker.Empty&^e.Ticker.Present != 0 || e.Ticker.Present>>NumTickerFields != 0 {
				t.Fatalf("event %d: got masks %#x %#x", i, e.Ticker.Present, e.Ticker.Empty)
			}
		}
	}
}

// plainDecimal reports whether s is digits with an optional '.' between
// digits, after an optional '-' when signed: the only form ParseDecimal
// may accept.
func plainDecimal(s string, signed bool) bool {
	if signed && len(s) > 0 && s[0] == '-' {
		s = s[1:]
	}
	dot, digits := -1, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c == '.' && dot < 0:
			dot = i
		default:
			return false
		}
	}
	return digits > 0 && dot != 0 && dot != len(s)-1
}

// FuzzDecimal checks ParseDecimal against math/big and AppendDecimal.
func FuzzDecimal(f *testing.F) {
	for _, s := range []string{"109378.80", "0.00039", "-0.00008055", "1e5", "", "-", "+1", ".5", "5.",
		"92233720368.54775807", "92233720368.54775808", "0000000000000000000001.5", "1.20", "1.25"} {
		f.Add(s, uint8(2), true)
	}
	f.Fuzz(func(t *testing.T, s string, scale uint8, signed bool) {
		sc := int(scale % (MaxScale + 2)) // includes one invalid scale
		var v int64
		var err error
		if signed {
			v, err = ParseDecimal([]byte(s), sc)
		} else {
			v, err = ParseUDecimal([]byte(s), sc)
		}
		plain := plainDecimal(s, signed)
		if sc > MaxScale {
			if !errors.Is(err, ErrScale) {
				t.Fatalf("scale %d: got %v; want ErrScale", sc, err)
			}
			return
		}
		var want *big.Rat
		if plain {
			want, _ = new(big.Rat).SetString(s)
			want.Mul(want, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(sc)), nil)))
		}
		switch {
		case err == nil:
			if !plain || !want.IsInt() || !want.Num().IsInt64() || want.Num().Int64() != v {
				t.Fatalf("Parse(%q, %d) = %d; oracle %v (plain %v)", s, sc, v, want, plain)
			}
			if back, err := ParseDecimal(AppendDecimal(nil, v, sc), sc); err != nil || back != v {
				t.Fatalf("round trip of %d at %d: got %d, %v", v, sc, back, err)
			}
		case errors.Is(err, ErrPrecision):
			if !plain || want.IsInt() {
				t.Fatalf("Parse(%q, %d): got ErrPrecision; oracle %v (plain %v)", s, sc, want, plain)
			}
		case errors.Is(err, ErrRange):
			if !plain || !want.IsInt() || want.Num().IsInt64() && want.Num().Int64() != -1<<63 {
				t.Fatalf("Parse(%q, %d): got ErrRange; oracle %v (plain %v)", s, sc, want, plain)
			}
		default:
			if plain {
				t.Fatalf("Parse(%q, %d): got %v for a plain decimal", s, sc, err)
			}
		}
	})
}
