package parse

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// testSymbols registers one instrument per category with its real scales.
func testSymbols(t testing.TB) *Symbols {
	t.Helper()
	s := NewSymbols()
	for _, x := range []struct {
		name   string
		ps, ss int
	}{
		{"BTCUSDT", 2, 3},              // id 0, linear
		{"BTCUSD", 2, 0},               // id 1, inverse perpetual
		{"BTCUSDU23", 2, 0},            // id 2, inverse dated future
		{"BTC-28JUN24-60000-P", 0, 2},  // id 3, option
		{"ETH-27JUN25-3000-C", 1, 1},   // id 4, option
		{"XRPUSDT", 4, 0},              // id 5
		{"1000000BABYDOGEUSDT", 7, 0},  // id 6
		{"BTC-27JUN25-100000-C", 0, 2}, // id 7
	} {
		if _, err := s.Add(x.name, x.ps, x.ss); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func parseOne(t *testing.T, p *Parser, frame string, slots int) (Result, []Event) {
	t.Helper()
	sink := newSink(slots)
	r, err := p.Parse([]byte(frame), 7, sink)
	if err != nil {
		t.Fatalf("Parse(%.80s…): %v", frame, err)
	}
	if r.Events != sink.n {
		t.Fatalf("got Result.Events %d; want %d slots used", r.Events, sink.n)
	}
	return r, sink.events()
}

func TestParseBook(t *testing.T) {
	p := NewParser(testSymbols(t))
	cases := []struct {
		name  string
		frame string
		want  Event // header fields only
		bids  []Level
		asks  []Level
	}{{
		name:  "linear delta, type first, cts last",
		frame: `{"topic":"orderbook.50.BTCUSDT","type":"delta","ts":1700000000100,"data":{"s":"BTCUSDT","b":[["65000.10","1.234"],["64999.00","0"]],"a":[["65000.20","0.500"]],"u":1001,"seq":55501},"cts":1700000000098}`,
		want:  Event{Kind: KindBook, Flags: First | Last, Depth: 50, Sym: 0, TS: 1700000000100, CTS: 1700000000098, U: 1001, Seq: 55501},
		bids:  []Level{{6500010, 1234}, {6499900, 0}},
		asks:  []Level{{6500020, 500}},
	}, {
		name:  "spot snapshot, ts first, trimmed decimals",
		frame: `{"topic":"orderbook.1.BTCUSDT","ts":1700000000200,"type":"snapshot","data":{"s":"BTCUSDT","b":[["65000.1","1.2"]],"a":[["65001","3"]],"u":1,"seq":9}}`,
		want:  Event{Kind: KindBook, Flags: Snapshot | First | Last, Depth: 1, TS: 1700000000200, U: 1, Seq: 9},
		bids:  []Level{{6500010, 1200}},
		asks:  []Level{{6500100, 3000}},
	}, {
		name:  "option empty snapshot with id, u 0, no seq",
		frame: `{"id":"orderbook.25.BTC-28JUN24-60000-P-1-2","topic":"orderbook.25.BTC-28JUN24-60000-P","ts":1700000000300,"data":{"s":"BTC-28JUN24-60000-P","b":[],"a":[],"u":0},"type":"snapshot"}`,
		want:  Event{Kind: KindBook, Flags: Snapshot | First | Last, Depth: 25, Sym: 3, TS: 1700000000300},
	}, {
		name:  "inverse integer sizes, whitespace, escaped digit, extra level element",
		frame: "{ \"topic\" : \"orderbook.200.BTCUSD\" ,\n \"type\":\"delta\", \"ts\":5, \"data\": {\"u\":7, \"seq\":8, \"a\":[[\"6500\\u0031.50\", \"5823\", \"0\"]], \"b\":[ ], \"s\":\"BTCUSD\"} }",
		want:  Event{Kind: KindBook, Flags: First | Last, Depth: 200, Sym: 1, TS: 5, U: 7, Seq: 8},
		asks:  []Level{{6500150, 5823}},
	}, {
		name:  "no data.s is accepted",
		frame: `{"topic":"orderbook.50.XRPUSDT","type":"delta","ts":1,"data":{"b":[["1.9531","6198"]],"a":[],"u":2,"seq":3}}`,
		want:  Event{Kind: KindBook, Flags: First | Last, Depth: 50, Sym: 5, TS: 1, U: 2, Seq: 3},
		bids:  []Level{{19531, 6198}},
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, evs := parseOne(t, p, c.frame, 8)
			if r.Class != ClassData || r.Kind != KindBook || r.Sym != c.want.Sym || r.Depth != c.want.Depth || r.Interval != IntervalNone {
				t.Fatalf("got result %+v; want data/book/sym %d/depth %d", r, c.want.Sym, c.want.Depth)
			}
			bids, asks := levelsOf(t, evs)
			e := evs[0]
			c.want.RecvNs = 7
			e.Levels, e.NBids, e.NAsks = [LevelsPerEvent]Level{}, 0, 0
			if e.Kind != c.want.Kind || e.Flags != c.want.Flags || e.Depth != c.want.Depth || e.Sym != c.want.Sym ||
				e.TS != c.want.TS || e.CTS != c.want.CTS || e.U != c.want.U || e.Seq != c.want.Seq || e.RecvNs != 7 {
				t.Fatalf("got header %+v; want %+v", e, c.want)
			}
			if !slices.Equal(bids, c.bids) || !slices.Equal(asks, c.asks) {
				t.Fatalf("got bids %v asks %v; want %v %v", bids, asks, c.bids, c.asks)
			}
		})
	}
}

// TestParseBookSplit checks how a book larger than LevelsPerEvent is
// spread over consecutive events, at the boundaries of the split.
func TestParseBookSplit(t *testing.T) {
	p := NewParser(testSymbols(t))
	for _, n := range [][2]int{{0, 0}, {1, 0}, {0, 1}, {LevelsPerEvent, 0}, {LevelsPerEvent - 1, 1}, {LevelsPerEvent, 1},
		{LevelsPerEvent + 1, LevelsPerEvent - 1}, {3 * LevelsPerEvent, 2 * LevelsPerEvent}, {1000, 1000}} {
		bids := make([]Level, n[0])
		asks := make([]Level, n[1])
		for i := range bids {
			bids[i] = Level{int64(1_000_000 - i), int64(i)}
		}
		for i := range asks {
			asks[i] = Level{int64(1_000_001 + i), int64(i + 1)}
		}
		g := genBook{depth: 1000, sym: "BTCUSDT", snapshot: true, ts: 9, u: 10, seq: 11, bids: bids, asks: asks, ps: 2, ss: 3}
		r, evs := parseOne(t, p, string(g.frame()), 100)
		wantEvents := max(1, (n[0]+n[1]+LevelsPerEvent-1)/LevelsPerEvent)
		if r.Events != wantEvents {
			t.Fatalf("%v: got %d events; want %d", n, r.Events, wantEvents)
		}
		gb, ga := levelsOf(t, evs)
		if !slices.Equal(gb, bids) || !slices.Equal(ga, asks) {
			t.Fatalf("%v: levels differ after the split", n)
		}
	}
}

func TestParseKline(t *testing.T) {
	p := NewParser(testSymbols(t))
	frame := `{"topic":"kline.60.BTCUSDT","data":[` +
		`{"start":1699999200000,"end":1700002799999,"interval":"60","open":"65000","close":"65100.5","high":"65200","low":"64900.1","volume":"1234.567","turnover":"80000000.1234","confirm":true,"timestamp":1700002799999},` +
		`{"confirm":false,"start":1700002800000,"end":1700006399999,"interval":"60","open":"65100.5","close":"65100.5","high":"65100.5","low":"65100.5","volume":"0","turnover":"0","timestamp":1700002800001}` +
		`],"ts":1700002800002,"type":"snapshot"}`
	r, evs := parseOne(t, p, frame, 4)
	if r.Kind != KindKline || r.Sym != 0 || r.Interval != Interval60 || r.Depth != 0 || len(evs) != 2 {
		t.Fatalf("got %+v with %d events; want kline sym 0 with 2", r, len(evs))
	}
	want := []Candle{
		{Start: 1699999200000, End: 1700002799999, Open: 6500000, Close: 6510050, High: 6520000, Low: 6490010, Volume: 1234567, Turnover: 8000000012340000, Timestamp: 1700002799999, Confirm: true},
		{Start: 1700002800000, End: 1700006399999, Open: 6510050, Close: 6510050, High: 6510050, Low: 6510050, Timestamp: 1700002800001},
	}
	for i, e := range evs {
		if e.Candle != want[i] || e.Interval != Interval60 || e.TS != 1700002800002 || e.Flags&Snapshot == 0 ||
			e.Is(First) != (i == 0) || e.Is(Last) != (i == 1) {
			t.Fatalf("candle %d: got %+v interval %v flags %b; want %+v", i, e.Candle, e.Interval, e.Flags, want[i])
		}
	}
}

func TestParseTicker(t *testing.T) {
	p := NewParser(testSymbols(t))
	type fv struct {
		f TickerField
		v int64
	}
	cases := []struct {
		name     string
		frame    string
		sym      uint32
		snapshot bool
		seq      int64
		want     []fv          // present, non-empty
		empty    []TickerField // present as ""
	}{{
		name:     "linear delta: zero is present, absent is absent",
		frame:    `{"topic":"tickers.BTCUSDT","type":"delta","data":{"symbol":"BTCUSDT","bid1Price":"65000.10","bid1Size":"0","fundingRate":"-0.0001"},"cs":123,"ts":1700000000000}`,
		want:     []fv{{TickBid1Price, 6500010000000}, {TickBid1Size, 0}, {TickFundingRate, -1000000}},
		seq:      123,
		snapshot: false,
	}, {
		name:     "inverse dated future snapshot: empty strings and ISO delivery time",
		frame:    `{"topic":"tickers.BTCUSDU23","type":"snapshot","data":{"symbol":"BTCUSDU23","tickDirection":"MinusTick","lastPrice":"29026.00","volume24h":"8041559","turnover24h":"279.6816","openInterest":"4547176","deliveryTime":"2023-09-29T08:00:00Z","basisRate":"0.01600486","basis":"-459.06","nextFundingTime":"","fundingRate":"","curPreListingPhase":"","someNewField":"x"},"cs":5,"ts":6}`,
		sym:      2,
		snapshot: true,
		seq:      5,
		want: []fv{{TickTickDirection, int64(MinusTick)}, {TickLastPrice, 2902600000000}, {TickVolume24h, 8041559},
			{TickTurnover24h, 27968160000}, {TickOpenInterest, 4547176}, {TickDeliveryTime, 1695974400000},
			{TickBasisRate, 160048600}, {TickBasis, -45906000000}},
		empty: []TickerField{TickNextFundingTime, TickFundingRate},
	}, {
		name:     "spot snapshot: no cs after data, usdIndexPrice",
		frame:    `{"topic":"tickers.XRPUSDT","ts":9,"type":"snapshot","cs":77,"data":{"symbol":"XRPUSDT","lastPrice":"1.9531","volume24h":"7654321.00","turnover24h":"594624551.61837538","price24hPcnt":"-0.0127","usdIndexPrice":"1.953012"}}`,
		sym:      5,
		snapshot: true,
		seq:      77,
		want: []fv{{TickLastPrice, 195310000}, {TickVolume24h, 7654321}, {TickTurnover24h, 59462455161837538},
			{TickPrice24hPcnt, -127000000}, {TickUSDIndexPrice, 195301200}},
	}, {
		name:     "option snapshot: aliases, greeks, no cs",
		frame:    `{"topic":"tickers.BTC-28JUN24-60000-P","ts":10,"type":"snapshot","id":"x","data":{"symbol":"BTC-28JUN24-60000-P","bidPrice":"3475","bidSize":"10.14","bidIv":"0.5479","askPrice":"3520","askSize":"2.5","markPrice":"3502.0715721","underlyingPrice":"62588.50709846","delta":"-0.37596534","theta":"-51.54651685","totalVolume":"45","predictedDeliveryPrice":"0"}}`,
		sym:      3,
		snapshot: true,
		want: []fv{{TickBid1Price, 347500000000}, {TickBid1Size, 1014}, {TickBidIv, 5479000000}, {TickAsk1Price, 352000000000},
			{TickAsk1Size, 250}, {TickMarkPrice, 350207157210}, {TickUnderlyingPrice, 6258850709846},
			{TickDelta, -3759653400}, {TickTheta, -515465168500}, {TickTotalVolume, 4500}, {TickPredictedDeliveryPrice, 0}},
	}, {
		name:     "data as an array",
		frame:    `{"topic":"tickers.BTCUSDT","type":"snapshot","ts":1,"data":[{"symbol":"BTCUSDT","lastPrice":"1"}]}`,
		snapshot: true,
		want:     []fv{{TickLastPrice, 100000000}},
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, evs := parseOne(t, p, c.frame, 2)
			if r.Kind != KindTicker || r.Sym != c.sym || len(evs) != 1 {
				t.Fatalf("got %+v, %d events; want ticker sym %d, 1 event", r, len(evs), c.sym)
			}
			e := &evs[0]
			if e.Sym != c.sym || e.Is(Snapshot) != c.snapshot || e.Seq != c.seq || !e.Is(First|Last) {
				t.Fatalf("got header sym %d flags %b seq %d; want %d snapshot %v seq %d", e.Sym, e.Flags, e.Seq, c.sym, c.snapshot, c.seq)
			}
			var present, empty uint64
			for _, w := range c.want {
				present |= 1 << w.f
				if got, ok := e.Ticker.Get(w.f); !ok || got != w.v {
					t.Fatalf("%v: got %d (ok %v); want %d", w.f, got, ok, w.v)
				}
			}
			for _, f := range c.empty {
				present |= 1 << f
				empty |= 1 << f
				if _, ok := e.Ticker.Get(f); ok || !e.Ticker.IsEmpty(f) || !e.Ticker.Has(f) {
					t.Fatalf("%v: got not empty; want empty", f)
				}
			}
			if e.Ticker.Present != present || e.Ticker.Empty != empty {
				t.Fatalf("got Present %#x Empty %#x; want %#x %#x", e.Ticker.Present, e.Ticker.Empty, present, empty)
			}
		})
	}
}

func TestParseTrades(t *testing.T) {
	p := NewParser(testSymbols(t))
	mk := func(tm int64, price, size int64, side Side, tick TickDirection, bt, rpi bool, id string) Trade {
		tr := Trade{Time: tm, Price: price, Size: size, Side: side, Tick: tick, BlockTrade: bt, RPI: rpi, IDLen: uint8(len(id))}
		copy(tr.IDBuf[:], id)
		return tr
	}
	cases := []struct {
		name    string
		frame   string
		syms    []uint32
		seqs    []int64
		want    []Trade
		skipped int
	}{{
		name:  "linear with RPI and seq",
		frame: `{"topic":"publicTrade.BTCUSDT","type":"snapshot","ts":1,"data":[{"T":100,"s":"BTCUSDT","S":"Buy","v":"0.020","p":"65000.90","L":"ZeroPlusTick","i":"2a74ac78-691c-5b54-9dbe-5aafe8364627","BT":false,"RPI":true,"seq":457514743450},{"T":101,"s":"BTCUSDT","S":"Sell","v":"1","p":"65000","L":"MinusTick","i":"x","BT":true,"RPI":false,"seq":457514743451}]}`,
		syms:  []uint32{0, 0},
		seqs:  []int64{457514743450, 457514743451},
		want: []Trade{mk(100, 6500090, 20, Buy, ZeroPlusTick, false, true, "2a74ac78-691c-5b54-9dbe-5aafe8364627"),
			mk(101, 6500000, 1000, Sell, MinusTick, true, false, "x")},
	}, {
		name:  "spot numeric id, no L, old frame without RPI or seq",
		frame: `{"topic":"publicTrade.XRPUSDT","ts":2,"type":"snapshot","data":[{"i":"2290000000050703789","T":5,"p":"1.9531","v":"100","S":"Sell","s":"XRPUSDT","BT":false}]}`,
		syms:  []uint32{5},
		seqs:  []int64{0},
		want:  []Trade{mk(5, 19531, 100, Sell, TickNone, false, false, "2290000000050703789")},
	}, {
		name:    "option batch per base coin: unregistered option skipped, option extras ignored",
		frame:   `{"id":"publicTrade.BTC-1-2","topic":"publicTrade.BTC","ts":3,"data":[{"p":"985","v":"0.01","i":"a","T":9,"BT":false,"s":"BTC-28JUN24-60000-P","S":"Sell","mP":"990","iP":"65000","mIv":"0.5","iv":"0.6"},{"p":"5","v":"1","i":"b","T":10,"BT":true,"s":"BTC-1JAN99-1-C","S":"Buy"},{"p":"1000","v":"2","i":"c","T":11,"BT":false,"s":"BTC-27JUN25-100000-C","S":"Buy"}],"type":"snapshot"}`,
		syms:    []uint32{3, 7},
		seqs:    []int64{0, 0},
		want:    []Trade{mk(9, 985, 1, Sell, TickNone, false, false, "a"), mk(11, 1000, 200, Buy, TickNone, false, false, "c")},
		skipped: 1,
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, evs := parseOne(t, p, c.frame, 4)
			if r.Kind != KindTrade || r.Skipped != c.skipped || len(evs) != len(c.want) || r.Sym != c.syms[0] {
				t.Fatalf("got %+v, %d events; want %d events, %d skipped", r, len(evs), len(c.want), c.skipped)
			}
			for i, e := range evs {
				if e.Trade != c.want[i] || e.Sym != c.syms[i] || e.Seq != c.seqs[i] || !e.Is(Snapshot) ||
					e.Is(First) != (i == 0) || e.Is(Last) != (i == len(evs)-1) {
					t.Fatalf("trade %d: got %+v sym %d seq %d flags %b; want %+v sym %d seq %d", i, e.Trade, e.Sym, e.Seq, e.Flags, c.want[i], c.syms[i], c.seqs[i])
				}
			}
		})
	}
}

func TestParseOp(t *testing.T) {
	p := NewParser(testSymbols(t))
	cases := []struct {
		name                  string
		frame                 string
		op                    Op
		success               bool
		retMsg, reqID, connID string
		serverMs              int64
		succ, fail            []string
	}{
		{"spot ack without req_id", `{"success":true,"ret_msg":"subscribe","conn_id":"c1","op":"subscribe"}`, OpSubscribe, true, "subscribe", "", "c1", 0, nil, nil},
		{"linear ack", `{"success":true,"ret_msg":"","conn_id":"c2","req_id":"s-17","op":"subscribe"}`, OpSubscribe, true, "", "s-17", "c2", 0, nil, nil},
		{"failure keeps ret_msg", `{"success":false,"ret_msg":"error:handler not found,topic:orderbook.500.BTCUSDT","conn_id":"c3","req_id":"","op":"subscribe"}`, OpSubscribe, false, "error:handler not found,topic:orderbook.500.BTCUSDT", "", "c3", 0, nil, nil},
		{"escaped ret_msg", `{"success":false,"ret_msg":"args size \u003e10","conn_id":"c4","req_id":"2","op":"subscribe"}`, OpSubscribe, false, "args size >10", "2", "c4", 0, nil, nil},
		{"unsubscribe", `{"success":true,"ret_msg":"","conn_id":"c5","req_id":"3","op":"unsubscribe"}`, OpUnsubscribe, true, "", "3", "c5", 0, nil, nil},
		{"spot pong", `{"success":true,"ret_msg":"pong","conn_id":"c6","op":"ping"}`, OpPong, true, "pong", "", "c6", 0, nil, nil},
		{"linear pong with req_id", `{"success":true,"ret_msg":"pong","conn_id":"c7","req_id":"hb-42","op":"ping"}`, OpPong, true, "pong", "hb-42", "c7", 0, nil, nil},
		{"option pong", `{"op":"pong","args":["1733011200123"]}`, OpPong, true, "", "", "", 1733011200123, nil, nil},
		{"private-style pong", `{"req_id":"hb","op":"pong","args":["17"],"conn_id":"c8"}`, OpPong, true, "", "hb", "c8", 17, nil, nil},
		{"option command response", `{"success":true,"conn_id":"c9","data":{"successTopics":["orderbook.25.BTC-28JUN24-60000-P","tickers.BTC-28JUN24-60000-P"],"failTopics":["orderbook.25.NOPE"]},"type":"COMMAND_RESP"}`, OpCommand, true, "", "", "c9", 0,
			[]string{"orderbook.25.BTC-28JUN24-60000-P", "tickers.BTC-28JUN24-60000-P"}, []string{"orderbook.25.NOPE"}},
		{"unknown op", `{"success":true,"ret_msg":"","op":"auth","conn_id":"c10"}`, OpUnknown, true, "", "", "c10", 0, nil, nil},
		{"success without op", `{"success":false,"ret_msg":"error:invalid op"}`, OpUnknown, false, "error:invalid op", "", "", 0, nil, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := p.Parse([]byte(c.frame), 0, nil) // control frames need no sink
			if err != nil {
				t.Fatal(err)
			}
			if r.Class != ClassOp || r.Op != c.op || r.Success != c.success || string(r.RetMsg) != c.retMsg ||
				string(r.ReqID) != c.reqID || string(r.ConnID) != c.connID || r.ServerMs != c.serverMs {
				t.Fatalf("got class %v op %v success %v ret_msg %q req_id %q conn_id %q server %d; want op %v success %v ret_msg %q req_id %q conn_id %q server %d",
					r.Class, r.Op, r.Success, r.RetMsg, r.ReqID, r.ConnID, r.ServerMs, c.op, c.success, c.retMsg, c.reqID, c.connID, c.serverMs)
			}
			if r.SuccessTopics != len(c.succ) || r.FailTopics != len(c.fail) {
				t.Fatalf("got %d/%d topics; want %d/%d", r.SuccessTopics, r.FailTopics, len(c.succ), len(c.fail))
			}
			for i, s := range c.succ {
				if string(r.SuccessTopic(i)) != s {
					t.Fatalf("success topic %d: got %q; want %q", i, r.SuccessTopic(i), s)
				}
			}
			for i, s := range c.fail {
				if string(r.FailTopic(i)) != s {
					t.Fatalf("fail topic %d: got %q; want %q", i, r.FailTopic(i), s)
				}
			}
			if r.SuccessTopic(-1) != nil || r.FailTopic(len(c.fail)) != nil {
				t.Fatalf("got a topic out of range; want nil")
			}
		})
	}
}

const goodBook = `{"topic":"orderbook.50.BTCUSDT","type":"delta","ts":1,"data":{"s":"BTCUSDT","b":[["1.00","2.000"]],"a":[],"u":2,"seq":3}}`

// TestParseBadInput checks that each kind of bad input yields an *Error
// naming the field, and that the Parser then parses a good frame.
func TestParseBadInput(t *testing.T) {
	book := func(data string) string {
		return `{"topic":"orderbook.50.BTCUSDT","type":"delta","ts":1,"data":` + data + `}`
	}
	level := func(b string) string { return book(`{"s":"BTCUSDT","b":[` + b + `],"a":[],"u":2}`) }
	ticker := func(data string) string {
		return `{"topic":"tickers.BTCUSDT","type":"delta","ts":1,"data":{"symbol":"BTCUSDT",` + data + `}}`
	}
	kline := func(c string) string { return `{"topic":"kline.1.BTCUSDT","ts":1,"data":[` + c + `]}` }
	candle := `"start":1,"end":2,"open":"1","close":"1","high":"1","low":"1","volume":"1","turnover":"1","confirm":false`
	trade := func(tr string) string { return `{"topic":"publicTrade.BTCUSDT","ts":1,"data":[` + tr + `]}` }
	optTrade := func(tr string) string { return `{"topic":"publicTrade.BTC","ts":1,"data":[` + tr + `]}` }
	cases := []struct {
		name, frame, field string
		reason             error
	}{
		{"not JSON", `not json`, "frame", ErrSyntax},
		{"truncated", goodBook[:len(goodBook)/2], "frame", ErrSyntax},
		{"trailing garbage", goodBook + `x`, "frame", ErrSyntax},
		{"empty frame", ``, "frame", ErrSyntax},
		{"array frame", `[1,2]`, "frame", ErrType},
		{"empty object", `{}`, "topic", ErrMissing},
		{"topic not a string", `{"topic":5,"ts":1}`, "topic", ErrType},
		{"unknown topic", `{"topic":"liquidation.BTCUSDT","ts":1,"data":{}}`, "topic", ErrUnknownTopic},
		{"rpi topic", `{"topic":"orderbook.rpi.BTCUSDT","ts":1,"data":{}}`, "topic", ErrUnknownTopic},
		{"bad interval", `{"topic":"kline.2.BTCUSDT","ts":1,"data":[]}`, "topic", ErrUnknownTopic},
		{"depth 0", `{"topic":"orderbook.0.BTCUSDT","ts":1,"data":{}}`, "topic", ErrUnknownTopic},
		{"unknown symbol", `{"topic":"orderbook.50.DOGEUSDT","type":"delta","ts":1,"data":{}}`, "topic", ErrUnknownSymbol},
		{"invalid UTF-8 symbol", "{\"topic\":\"tickers.BTC\xff\xfe\",\"type\":\"delta\",\"ts\":1,\"data\":{}}", "topic", ErrUTF8},
		{"invalid UTF-8 topic", "{\"topic\":\"\xffrderbook.50.X\",\"ts\":1}", "topic", ErrUTF8},
		{"missing ts", `{"topic":"orderbook.50.BTCUSDT","type":"delta","data":{}}`, "ts", ErrMissing},
		{"ts as string", `{"topic":"orderbook.50.BTCUSDT","type":"delta","ts":"1","data":{}}`, "ts", ErrType},
		{"ts exponent", `{"topic":"orderbook.50.BTCUSDT","type":"delta","ts":1e12,"data":{}}`, "ts", ErrExponent},
		{"ts negative", `{"topic":"orderbook.50.BTCUSDT","type":"delta","ts":-1,"data":{}}`, "ts", ErrSign},
		{"ts fraction", `{"topic":"orderbook.50.BTCUSDT","type":"delta","ts":1.5,"data":{}}`, "ts", ErrSyntax},
		{"ts overflow", `{"topic":"orderbook.50.BTCUSDT","type":"delta","ts":99999999999999999999,"data":{}}`, "ts", ErrRange},
		{"ts malformed number", `{"topic":"orderbook.50.BTCUSDT","type":"delta","ts":1-2,"data":{}}`, "ts", ErrSyntax},
		{"missing type", `{"topic":"orderbook.50.BTCUSDT","ts":1,"data":{}}`, "type", ErrMissing},
		{"bad type", `{"topic":"orderbook.50.BTCUSDT","type":"full","ts":1,"data":{}}`, "type", ErrSyntax},
		{"cts as string", `{"topic":"orderbook.50.BTCUSDT","type":"delta","ts":1,"cts":"2","data":{}}`, "cts", ErrType},
		{"missing data", `{"topic":"orderbook.50.BTCUSDT","type":"delta","ts":1}`, "data", ErrMissing},
		{"book data array", book(`[]`), "data", ErrType},
		{"symbol mismatch", book(`{"s":"ETHUSDT","b":[],"a":[],"u":1}`), "data.s", ErrMismatch},
		{"symbol invalid UTF-8", book("{\"s\":\"\xff\",\"b\":[],\"a\":[],\"u\":1}"), "data.s", ErrUTF8},
		{"symbol not a string", book(`{"s":1,"b":[],"a":[],"u":1}`), "data.s", ErrType},
		{"missing u", book(`{"s":"BTCUSDT","b":[],"a":[]}`), "data.u", ErrMissing},
		{"seq as string", book(`{"s":"BTCUSDT","b":[],"a":[],"u":1,"seq":"2"}`), "data.seq", ErrType},
		{"missing bids", book(`{"s":"BTCUSDT","a":[],"u":1}`), "data.b", ErrMissing},
		{"asks as object", book(`{"s":"BTCUSDT","b":[],"a":{},"u":1}`), "data.a", ErrType},
		{"level not array", level(`"1.00"`), "data.b", ErrType},
		{"level one element", level(`["1.00"]`), "data.b", ErrMissing},
		{"price as number", level(`[1.00,"2.000"]`), "data.b", ErrType},
		{"size as null", level(`["1.00",null]`), "data.b", ErrType},
		{"price too precise", level(`["1.001","2"]`), "data.b", ErrPrecision},
		{"size too precise", level(`["1","2.0001"]`), "data.b", ErrPrecision},
		{"negative price", level(`["-1","2"]`), "data.b", ErrSign},
		{"exponent price", level(`["1e2","2"]`), "data.b", ErrExponent},
		{"empty size", level(`["1",""]`), "data.b", ErrEmpty},
		{"huge size", level(`["1","99999999999999999999"]`), "data.b", ErrRange},
		{"garbage price", level(`["1.0.0","2"]`), "data.b", ErrSyntax},
		{"escaped garbage", level(`["1\u0041","2"]`), "data.b", ErrSyntax},
		{"bad ask", book(`{"s":"BTCUSDT","b":[],"a":[["x","1"]],"u":1}`), "data.a", ErrSyntax},
		{"kline data object", `{"topic":"kline.1.BTCUSDT","ts":1,"data":{}}`, "data", ErrType},
		{"kline candle not object", kline(`1`), "data", ErrType},
		{"kline missing close", kline(`{"start":1,"end":2,"open":"1","high":"1","low":"1","volume":"1","turnover":"1","confirm":false}`), "data.close", ErrMissing},
		{"kline confirm string", kline(`{"start":1,"end":2,"open":"1","close":"1","high":"1","low":"1","volume":"1","turnover":"1","confirm":"false"}`), "data.confirm", ErrType},
		{"kline start string", kline(`{` + strings.Replace(candle, `"start":1`, `"start":"1"`, 1) + `}`), "data.start", ErrType},
		{"kline volume precise", kline(`{` + strings.Replace(candle, `"volume":"1"`, `"volume":"1.0001"`, 1) + `}`), "data.volume", ErrPrecision},
		{"ticker number value", ticker(`"lastPrice":65000`), "data.lastPrice", ErrType},
		{"ticker garbage", ticker(`"fundingRate":"abc"`), "data.fundingRate", ErrSyntax},
		{"ticker exponent", ticker(`"markPrice":"6.5e4"`), "data.markPrice", ErrExponent},
		{"ticker bad time", ticker(`"deliveryTime":"soon"`), "data.deliveryTime", ErrSyntax},
		{"ticker signed time", ticker(`"nextFundingTime":"-1"`), "data.nextFundingTime", ErrSign},
		{"ticker symbol mismatch", `{"topic":"tickers.BTCUSDT","type":"delta","ts":1,"data":{"symbol":"XRPUSDT"}}`, "data.symbol", ErrMismatch},
		{"ticker missing type", `{"topic":"tickers.BTCUSDT","ts":1,"data":{"symbol":"BTCUSDT"}}`, "type", ErrMissing},
		{"ticker data string", `{"topic":"tickers.BTCUSDT","type":"delta","ts":1,"data":"x"}`, "data", ErrType},
		{"trade missing price", trade(`{"T":1,"s":"BTCUSDT","S":"Buy","v":"1","i":"a"}`), "data.p", ErrMissing},
		{"trade bad side", trade(`{"T":1,"s":"BTCUSDT","S":"Hold","v":"1","p":"1","i":"a"}`), "data.S", ErrSyntax},
		{"trade long id", trade(`{"T":1,"s":"BTCUSDT","S":"Buy","v":"1","p":"1","i":"` + strings.Repeat("a", TradeIDMax+1) + `"}`), "data.i", ErrRange},
		{"trade empty id", trade(`{"T":1,"s":"BTCUSDT","S":"Buy","v":"1","p":"1","i":""}`), "data.i", ErrEmpty},
		{"trade BT string", trade(`{"T":1,"s":"BTCUSDT","S":"Buy","v":"1","p":"1","i":"a","BT":"false"}`), "data.BT", ErrType},
		{"trade T string", trade(`{"T":"1","s":"BTCUSDT","S":"Buy","v":"1","p":"1","i":"a"}`), "data.T", ErrType},
		{"trade size precise", trade(`{"T":1,"s":"BTCUSDT","S":"Buy","v":"0.0001","p":"1","i":"a"}`), "data.v", ErrPrecision},
		{"trade symbol mismatch", trade(`{"T":1,"s":"XRPUSDT","S":"Buy","v":"1","p":"1","i":"a"}`), "data.s", ErrMismatch},
		{"trade not object", trade(`[]`), "data", ErrType},
		{"option trade without s", optTrade(`{"T":1,"S":"Buy","v":"1","p":"1","i":"a"}`), "data.s", ErrMissing},
		{"option trades all unknown", optTrade(`{"T":1,"s":"BTC-1JAN99-1-C","S":"Buy","v":"1","p":"1","i":"a"}`), "data.s", ErrUnknownSymbol},
		{"option trade invalid UTF-8", optTrade("{\"T\":1,\"s\":\"BTC-\xff\",\"S\":\"Buy\",\"v\":\"1\",\"p\":\"1\",\"i\":\"a\"}"), "data.s", ErrUTF8},
		{"unknown trade topic symbol", `{"topic":"publicTrade.DOGEUSDT","ts":1,"data":[]}`, "", nil},
		{"op not a string", `{"op":1}`, "op", ErrType},
		{"success as string", `{"success":"true","op":"subscribe"}`, "success", ErrType},
		{"ret_msg as number", `{"success":true,"ret_msg":1,"op":"subscribe"}`, "ret_msg", ErrType},
		{"req_id as number", `{"success":true,"req_id":1,"op":"subscribe"}`, "req_id", ErrType},
		{"command topics not strings", `{"success":true,"data":{"successTopics":["a",1],"failTopics":[]},"type":"COMMAND_RESP"}`, "data.successTopics", ErrType},
		{"command data array", `{"success":true,"data":[],"type":"COMMAND_RESP"}`, "data", ErrType},
		{"neither topic nor op", `{"type":"something"}`, "topic", ErrMissing},
	}
	p := NewParser(testSymbols(t))
	sink := newSink(8)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sink.reset()
			_, err := p.Parse([]byte(c.frame), 0, sink)
			if c.reason == nil {
				// An empty trade batch of an unknown topic symbol writes
				// nothing and is not an error: nothing was skipped.
				if err != nil {
					t.Fatalf("got %v; want nil", err)
				}
			} else {
				wantErr(t, err, c.field, c.reason)
				if msg := err.Error(); !strings.Contains(msg, c.field) {
					t.Fatalf("got message %q; want it to name %q", msg, c.field)
				}
			}
			sink.reset()
			if r, err := p.Parse([]byte(goodBook), 0, sink); err != nil || r.Events != 1 || sink.evs[0].Levels[0] != (Level{100, 2000}) {
				t.Fatalf("good frame after bad: got %+v, %v", r, err)
			}
		})
	}
}

func TestParseLimits(t *testing.T) {
	syms := testSymbols(t)
	p := NewParser(syms, WithMaxLevels(3), WithMaxItems(2))
	sink := newSink(8)
	_, err := p.Parse([]byte(`{"topic":"orderbook.50.BTCUSDT","type":"snapshot","ts":1,"data":{"b":[["1","1"],["2","1"],["3","1"],["4","1"]],"a":[],"u":1}}`), 0, sink)
	wantErr(t, err, "data.b", ErrTooMany)
	_, err = p.Parse([]byte(`{"topic":"publicTrade.BTCUSDT","ts":1,"data":[{},{},{}]}`), 0, sink)
	wantErr(t, err, "data", ErrTooMany)
	_, err = p.Parse([]byte(`{"topic":"kline.1.BTCUSDT","ts":1,"data":[{},{},{}]}`), 0, sink)
	wantErr(t, err, "data", ErrTooMany)
	_, err = p.Parse([]byte(`{"success":true,"data":{"successTopics":["a","b","c"]},"type":"COMMAND_RESP"}`), 0, sink)
	wantErr(t, err, "data.successTopics", ErrTooMany)
	for _, f := range []func(){func() { WithMaxLevels(0) }, func() { WithMaxItems(-1) }, func() { NewParser(nil) }} {
		func() {
			defer func() {
				if recover() == nil {
					t.Fatalf("got no panic; want one")
				}
			}()
			f()
		}()
	}
}

// TestParseNoRoom checks ErrNoRoom: whole events before it, and the symbol.
func TestParseNoRoom(t *testing.T) {
	p := NewParser(testSymbols(t))
	g := genBook{depth: 200, sym: "XRPUSDT", snapshot: true, ts: 1, u: 1, ps: 4}
	for i := range 2*LevelsPerEvent + 5 {
		g.bids = append(g.bids, Level{int64(100000 - i), 1})
	}
	sink := newSink(2)
	r, err := p.Parse(g.frame(), 0, sink)
	wantErr(t, err, "sink", ErrNoRoom)
	if !errors.Is(err, ErrNoRoom) || r.Events != 2 || r.Sym != 5 || r.Depth != 200 || sink.evs[0].Flags != Snapshot|First || sink.evs[1].Flags != Snapshot {
		t.Fatalf("got %+v; want 2 events of sym 5", r)
	}
	// A trade batch keeps the trades that fit.
	sink = newSink(1)
	r, err = p.Parse(benchTrades(3), 0, sink)
	wantErr(t, err, "sink", ErrNoRoom)
	if r.Events != 1 || r.Sym != 0 {
		t.Fatalf("got %+v; want 1 event of sym 0", r)
	}
	// A nil sink has no room for data.
	r, err = p.Parse([]byte(goodBook), 0, nil)
	wantErr(t, err, "sink", ErrNoRoom)
	if r.Events != 0 || r.Sym != 0 {
		t.Fatalf("got %+v; want 0 events of sym 0", r)
	}
}

// TestParseSetScales checks that a scale change applies to the next frame.
func TestParseSetScales(t *testing.T) {
	syms := testSymbols(t)
	p := NewParser(syms)
	frame := []byte(`{"topic":"orderbook.50.BTCUSDT","type":"delta","ts":1,"data":{"b":[["1.5","2"]],"a":[],"u":2}}`)
	sink := newSink(1)
	if _, err := p.Parse(frame, 0, sink); err != nil || sink.evs[0].Levels[0] != (Level{150, 2000}) {
		t.Fatalf("got %v, %v; want {150 2000}", sink.evs[0].Levels[0], err)
	}
	if err := syms.SetScales(0, 0, 0); err != nil {
		t.Fatal(err)
	}
	sink.reset()
	_, err := p.Parse(frame, 0, sink)
	wantErr(t, err, "data.b", ErrPrecision)
}
