//go:build !race

package parse

import "testing"

// TestParseAlloc: zero allocations per frame in steady state, for every
// message kind, including frames that fail after JSON parsing succeeded.
func TestParseAlloc(t *testing.T) {
	opt := `{"id":"publicTrade.BTC-1-2","topic":"publicTrade.BTC","ts":3,"data":[{"p":"985","v":"0.01","i":"a","T":9,"BT":false,"s":"BTC-28JUN24-60000-P","S":"Sell","mP":"990"},{"p":"5","v":"1","i":"b","T":10,"BT":true,"s":"BTC-1JAN99-1-C","S":"Buy"}],"type":"snapshot"}`
	cases := []struct {
		name  string
		frame []byte
		fails bool
	}{
		{"book50delta", benchBook(50, 12, 8, false), false},
		{"book50snapshot", benchBook(50, 50, 50, true), false},
		{"book1000snapshot", benchBook(1000, 1000, 1000, true), false},
		{"bookEscaped", []byte(`{"topic":"orderbook.50.BTCUSDT","type":"delta","ts":1,"data":{"b":[["6500\u0031.5","1"]],"a":[],"u":2}}`), false},
		{"kline", []byte(frameKline), false},
		{"tickerDelta", []byte(frameTickerDelta), false},
		{"tickerSnapshot", []byte(frameTickerSnapshot), false},
		{"tickerDated", []byte(`{"topic":"tickers.BTCUSDU23","type":"snapshot","data":{"symbol":"BTCUSDU23","deliveryTime":"2023-09-29T08:00:00Z","fundingRate":"","tickDirection":"PlusTick"},"cs":5,"ts":6}`), false},
		{"trades", benchTrades(10), false},
		{"optionTrades", []byte(opt), false},
		{"ack", []byte(`{"success":true,"ret_msg":"","conn_id":"c2","req_id":"s-17","op":"subscribe"}`), false},
		{"failure", []byte(`{"success":false,"ret_msg":"args size \u003e10","conn_id":"c4","req_id":"2","op":"subscribe"}`), false},
		{"pong", []byte(`{"success":true,"ret_msg":"pong","conn_id":"c6","op":"ping"}`), false},
		{"optionPong", []byte(`{"op":"pong","args":["1733011200123"]}`), false},
		{"commandResp", []byte(`{"success":true,"conn_id":"c9","data":{"successTopics":["orderbook.25.A","tickers.A"],"failTopics":["x"]},"type":"COMMAND_RESP"}`), false},
		{"unknownSymbol", []byte(`{"topic":"orderbook.50.DOGEUSDT","type":"delta","ts":1,"data":{}}`), true},
		{"precision", []byte(`{"topic":"orderbook.50.BTCUSDT","type":"delta","ts":1,"data":{"b":[["1.001","1"]],"a":[],"u":2}}`), true},
		{"unknownTopic", []byte(`{"topic":"liquidation.BTCUSDT","ts":1}`), true},
		{"wrongType", []byte(`{"topic":"orderbook.50.BTCUSDT","type":"delta","ts":"1","data":{}}`), true},
	}
	syms := testSymbols(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := NewParser(syms)
			sink := newSink(128)
			run := func() {
				sink.reset()
				_, err := p.Parse(c.frame, 1, sink)
				if (err != nil) != c.fails {
					t.Fatalf("got error %v; want failure %v", err, c.fails)
				}
			}
			run() // grow the parser's caches
			if n := testing.AllocsPerRun(50, run); n != 0 {
				t.Fatalf("got %v allocs per Parse; want 0", n)
			}
		})
	}
}

func TestDecimalAlloc(t *testing.T) {
	in := []byte("109378.80")
	buf := make([]byte, 0, 32)
	n := testing.AllocsPerRun(100, func() {
		v, err := ParseDecimal(in, 2)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ParseUDecimal([]byte("1e5"), 2); err == nil {
			t.Fatal("want an error")
		}
		buf = AppendDecimal(buf[:0], v, 2)
		buf = AppendDecimalFixed(buf[:0], -v, 8)
	})
	if n != 0 {
		t.Fatalf("got %v allocs; want 0", n)
	}
}

func TestLookupAlloc(t *testing.T) {
	syms := testSymbols(t)
	name := []byte("BTC-28JUN24-60000-P")
	topic := []byte("kline.15.BTCUSDT")
	n := testing.AllocsPerRun(100, func() {
		if _, ok := syms.Lookup(name); !ok {
			t.Fatal("not found")
		}
		if _, err := ParseTopic(topic); err != nil {
			t.Fatal(err)
		}
		syms.Scales(3)
	})
	if n != 0 {
		t.Fatalf("got %v allocs; want 0", n)
	}
}
