package parse

import "testing"

// A ticker member that does not fit its field's scale is left out and
// flagged in Unfit; the rest of the message stands (issue 14 item 6). Both
// parsers agree.
func TestTickerUnfitFieldLeftOut(t *testing.T) {
	syms := testSymbols(t) // BTCUSDT: size scale 3
	for _, tc := range []struct {
		name, frame string
		unfit       TickerField
	}{
		{"out of range", `{"topic":"tickers.BTCUSDT","type":"snapshot","ts":1,"cs":2,"data":{"symbol":"BTCUSDT","lastPrice":"65000.1","turnover24h":"99999999999999.5","volume24h":"12.5"}}`, TickTurnover24h},
		{"too many decimals", `{"topic":"tickers.BTCUSDT","type":"snapshot","ts":1,"cs":2,"data":{"symbol":"BTCUSDT","lastPrice":"65000.1","turnover24h":"5.5","volume24h":"12.5001"}}`, TickVolume24h},
	} {
		for _, fast := range []bool{false, true} {
			p := NewParser(syms)
			sink := newSink(4)
			var err error
			if fast {
				var ok bool
				if ok, err = p.fastParse([]byte(tc.frame), 1, sink, &Result{}); !ok {
					t.Fatalf("%s: the single-pass parser declined the frame", tc.name)
				}
			} else {
				_, err = p.parseTree([]byte(tc.frame), 1, sink)
			}
			if err != nil {
				t.Fatalf("%s (fast %v): got %v; want the message accepted", tc.name, fast, err)
			}
			evs := sink.events()
			if len(evs) != 1 {
				t.Fatalf("%s: got %d events; want 1", tc.name, len(evs))
			}
			tk := &evs[0].Ticker
			if tk.Unfit != 1<<tc.unfit || tk.Has(tc.unfit) || tk.Values[tc.unfit] != 0 {
				t.Errorf("%s (fast %v): got Unfit %b, present %v, value %d; want only %v unfit and absent", tc.name, fast, tk.Unfit, tk.Has(tc.unfit), tk.Values[tc.unfit], tc.unfit)
			}
			if !tk.Has(TickLastPrice) || tk.Values[TickLastPrice] != 6500010000000 {
				t.Errorf("%s (fast %v): lastPrice got %d; want 6500010000000 (the rest of the message stands)", tc.name, fast, tk.Values[TickLastPrice])
			}
		}
	}
}
