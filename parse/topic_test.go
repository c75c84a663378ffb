package parse

import (
	"errors"
	"testing"
)

func TestParseTopic(t *testing.T) {
	f := func(in string, want TopicInfo, wantErr error) {
		t.Helper()
		got, err := ParseTopic([]byte(in))
		if !errors.Is(err, wantErr) || got.Kind != want.Kind || got.Depth != want.Depth ||
			got.Interval != want.Interval || string(got.Symbol) != string(want.Symbol) {
			t.Fatalf("ParseTopic(%q): got %+v (%s), %v; want %+v (%s), %v", in, got, got.Symbol, err, want, want.Symbol, wantErr)
		}
	}
	f("orderbook.50.BTCUSDT", TopicInfo{Kind: KindBook, Depth: 50, Symbol: []byte("BTCUSDT")}, nil)
	f("orderbook.1000.BTC-28JUN24-60000-P", TopicInfo{Kind: KindBook, Depth: 1000, Symbol: []byte("BTC-28JUN24-60000-P")}, nil)
	f("kline.D.BTCUSDT", TopicInfo{Kind: KindKline, Interval: IntervalD, Symbol: []byte("BTCUSDT")}, nil)
	f("kline.720.X", TopicInfo{Kind: KindKline, Interval: Interval720, Symbol: []byte("X")}, nil)
	f("tickers.BTCUSDT", TopicInfo{Kind: KindTicker, Symbol: []byte("BTCUSDT")}, nil)
	f("publicTrade.BTC", TopicInfo{Kind: KindTrade, Symbol: []byte("BTC")}, nil)
	for _, bad := range []string{"", "orderbook", "orderbook.", "orderbook.50.", "orderbook.50", "orderbook.rpi.BTCUSDT",
		"orderbook.0.X", "orderbook.65536.X", "orderbook.050.X", "orderbook.-1.X", "kline.2.X", "kline..X", "kline.1.",
		"tickers.", "publicTrade.", "liquidation.BTCUSDT", ".BTCUSDT", "Orderbook.50.X", "tickers"} {
		f(bad, TopicInfo{}, ErrUnknownTopic)
	}
}

func TestTopic(t *testing.T) {
	f := func(k Kind, param int, sym, want string) {
		t.Helper()
		if got := Topic(k, param, sym); got != want {
			t.Fatalf("Topic(%v, %d, %q): got %q; want %q", k, param, sym, got, want)
		}
		ti, err := ParseTopic([]byte(want))
		if err != nil || ti.Kind != k || string(ti.Symbol) != sym {
			t.Fatalf("ParseTopic(%q): got %+v, %v", want, ti, err)
		}
	}
	f(KindBook, 50, "BTCUSDT", "orderbook.50.BTCUSDT")
	f(KindKline, int(Interval5), "BTCUSDT", "kline.5.BTCUSDT")
	f(KindKline, int(IntervalM), "BTCUSDT", "kline.M.BTCUSDT")
	f(KindTicker, 0, "BTCUSDT", "tickers.BTCUSDT")
	f(KindTrade, 0, "BTC", "publicTrade.BTC")
	for _, bad := range []func(){
		func() { Topic(KindBook, 0, "X") },
		func() { Topic(KindBook, 70000, "X") },
		func() { Topic(KindKline, 0, "X") },
		func() { Topic(KindKline, int(numIntervals), "X") },
		func() { Topic(KindNone, 0, "X") },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Fatalf("got no panic; want one")
				}
			}()
			bad()
		}()
	}
}

func TestInterval(t *testing.T) {
	for iv := Interval1; iv < numIntervals; iv++ {
		got, err := ParseInterval([]byte(iv.String()))
		if err != nil || got != iv {
			t.Fatalf("ParseInterval(%q): got %v, %v; want %v", iv.String(), got, err, iv)
		}
	}
	if Interval15.Millis() != 900_000 || IntervalD.Millis() != 86_400_000 || IntervalW.Millis() != 604_800_000 || IntervalM.Millis() != 0 {
		t.Fatalf("got Millis 15=%d D=%d W=%d M=%d", Interval15.Millis(), IntervalD.Millis(), IntervalW.Millis(), IntervalM.Millis())
	}
	if Interval(200).String() != "" || Interval(200).Millis() != 0 {
		t.Fatalf("got a name or length for an invalid interval")
	}
}

// TestTickerFieldTables keeps the ticker tables consistent: every field has
// a key, a kind, a distinct error field name, and aliases map to real
// fields.
func TestTickerFieldTables(t *testing.T) {
	seen := map[string]bool{}
	for f := range NumTickerFields {
		k := f.String()
		if k == "" || seen[k] {
			t.Fatalf("field %d: key %q empty or duplicated", f, k)
		}
		seen[k] = true
		if got, ok := tickerByKey[k]; !ok || got != f {
			t.Fatalf("tickerByKey[%q]: got %v; want %v", k, got, f)
		}
		if fieldNames[fTickerBase+field(f)] != "data."+k {
			t.Fatalf("field name: got %q; want %q", fieldNames[fTickerBase+field(f)], "data."+k)
		}
	}
	if NumTickerFields > 64 {
		t.Fatalf("got %d ticker fields; the masks hold 64", NumTickerFields)
	}
	// tickerKey (the parsers' switch) and tickerByKey hold one mapping.
	for k, f := range tickerByKey {
		if got, ok := tickerKey([]byte(k)); !ok || got != f {
			t.Fatalf("tickerKey(%q): got %v, %v; want %v", k, got, ok, f)
		}
	}
	for _, k := range []string{"", "symbol", "lastprice", "bid1Price ", "cs"} {
		if f, ok := tickerKey([]byte(k)); ok {
			t.Fatalf("tickerKey(%q): got %v; want unknown", k, f)
		}
	}
	for _, c := range []struct {
		f    TickerField
		want int
	}{{TickLastPrice, StatPriceScale}, {TickBid1Size, 3}, {TickFundingRate, RateScale}, {TickTurnover24h, ValueScale},
		{TickNextFundingTime, 0}, {TickTickDirection, 0}, {NumTickerFields, 0}} {
		if got := c.f.Scale(3); got != c.want {
			t.Fatalf("%v.Scale(3): got %d; want %d", c.f, got, c.want)
		}
	}
}
