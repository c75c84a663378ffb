package parse_test

import (
	"errors"
	"fmt"

	"github.com/ringfeed/ringfeed/parse"
)

// slots is a minimal Sink over a fixed array, standing in for a ring.
type slots struct {
	buf [64]parse.Event
	n   int
}

func (s *slots) Next() *parse.Event {
	if s.n == len(s.buf) {
		return nil // no room: Parse returns ErrNoRoom
	}
	s.n++
	return &s.buf[s.n-1]
}

func ExampleParser_Parse() {
	syms := parse.NewSymbols()
	btc, _ := syms.Add("BTCUSDT", 2, 3) // tickSize 0.10, qtyStep 0.001
	p := parse.NewParser(syms)

	frame := []byte(`{"topic":"orderbook.50.BTCUSDT","type":"delta","ts":1758845431663,` +
		`"data":{"s":"BTCUSDT","b":[["109147.80","1.687"]],"a":[["109148.00","0"],["109154.30","0.076"]],` +
		`"u":21111423,"seq":457538796406},"cts":1758845431662}`)
	var ring slots
	r, err := p.Parse(frame, 0, &ring)
	if err != nil {
		panic(err)
	}
	ev := &ring.buf[0]
	fmt.Println(r.Kind, r.Events, ev.Sym == btc, ev.Depth, ev.U, ev.Is(parse.Snapshot))
	ps, ss := syms.Scales(ev.Sym)
	for _, l := range ev.Bids() {
		fmt.Printf("bid %s x %s\n", parse.AppendDecimal(nil, l.Price, ps), parse.AppendDecimal(nil, l.Size, ss))
	}
	for _, l := range ev.Asks() {
		fmt.Printf("ask %d x %d\n", l.Price, l.Size)
	}
	// Output:
	// book 1 true 50 21111423 false
	// bid 109147.8 x 1.687
	// ask 10914800 x 0
	// ask 10915430 x 76
}

// A book larger than LevelsPerEvent is split over consecutive slots, from
// a First event to a Last event.
func ExampleParser_Parse_splitSnapshot() {
	syms := parse.NewSymbols()
	syms.Add("XRPUSDT", 4, 0)
	p := parse.NewParser(syms)
	frame := []byte(`{"topic":"orderbook.200.XRPUSDT","type":"snapshot","ts":1,"data":{"s":"XRPUSDT","b":[`)
	for i := range 40 {
		if i > 0 {
			frame = append(frame, ',')
		}
		frame = fmt.Appendf(frame, `["1.%04d","100"]`, 9000-i)
	}
	frame = append(frame, `],"a":[["1.9001","5"]],"u":1,"seq":2}}`...)
	var ring slots
	r, _ := p.Parse(frame, 0, &ring)
	for _, ev := range ring.buf[:r.Events] {
		fmt.Println(ev.NBids, ev.NAsks, ev.Is(parse.First), ev.Is(parse.Last))
	}
	// Output:
	// 32 0 true false
	// 8 1 false true
}

// Control frames fill the Op part of the Result and need no sink.
func ExampleParser_Parse_control() {
	p := parse.NewParser(parse.NewSymbols())
	for _, frame := range []string{
		`{"success":true,"ret_msg":"pong","conn_id":"c1","req_id":"hb-1","op":"ping"}`,
		`{"op":"pong","args":["1733011200123"]}`,
		`{"success":false,"ret_msg":"args size \u003e10","conn_id":"c2","req_id":"s-2","op":"subscribe"}`,
	} {
		r, err := p.Parse([]byte(frame), 0, nil)
		if err != nil {
			panic(err)
		}
		fmt.Printf("%v success=%v req_id=%q ret_msg=%q server=%d\n", r.Op, r.Success, r.ReqID, r.RetMsg, r.ServerMs)
	}
	// Output:
	// pong success=true req_id="hb-1" ret_msg="pong" server=0
	// pong success=true req_id="" ret_msg="" server=1733011200123
	// subscribe success=false req_id="s-2" ret_msg="args size >10" server=0
}

// Option trades arrive per base coin; each trade names its option, and
// trades of unregistered options are skipped and counted.
func ExampleParser_Parse_optionTrades() {
	syms := parse.NewSymbols()
	syms.Add("BTC-28JUN24-60000-P", 0, 2)
	p := parse.NewParser(syms)
	frame := []byte(`{"id":"publicTrade.BTC-1","topic":"publicTrade.BTC","ts":3,"type":"snapshot","data":[` +
		`{"p":"985","v":"0.01","i":"0404c393-8419-5bac-95c3-5fea28404754","T":9,"BT":false,"s":"BTC-28JUN24-60000-P","S":"Sell"},` +
		`{"p":"5","v":"1","i":"b","T":10,"BT":true,"s":"BTC-27DEC24-1000-C","S":"Buy"}]}`)
	var ring slots
	r, _ := p.Parse(frame, 0, &ring)
	tr := &ring.buf[0].Trade
	fmt.Println(r.Events, r.Skipped, syms.Name(ring.buf[0].Sym), tr.Side, tr.Price, tr.Size, string(tr.ID()))
	// Output:
	// 1 1 BTC-28JUN24-60000-P Sell 985 1 0404c393-8419-5bac-95c3-5fea28404754
}

func ExampleParser_Parse_ticker() {
	syms := parse.NewSymbols()
	syms.Add("BTCUSDU23", 2, 0)
	p := parse.NewParser(syms)
	frame := []byte(`{"topic":"tickers.BTCUSDU23","type":"delta","data":{"symbol":"BTCUSDU23",` +
		`"bid1Price":"29025.00","bid1Size":"0","fundingRate":""},"cs":12321470236,"ts":1680673822199}`)
	var ring slots
	p.Parse(frame, 0, &ring)
	t := &ring.buf[0].Ticker
	_, ss := syms.Scales(ring.buf[0].Sym)
	for _, f := range []parse.TickerField{parse.TickBid1Price, parse.TickBid1Size, parse.TickFundingRate, parse.TickAsk1Price} {
		v, ok := t.Get(f)
		fmt.Printf("%s present=%v empty=%v value=%s ok=%v\n", f, t.Has(f), t.IsEmpty(f), parse.AppendDecimal(nil, v, f.Scale(ss)), ok)
	}
	// Output:
	// bid1Price present=true empty=false value=29025 ok=true
	// bid1Size present=true empty=false value=0 ok=true
	// fundingRate present=true empty=true value=0 ok=false
	// ask1Price present=false empty=false value=0 ok=false
}

// Errors name the field; the Parser is ready for the next frame.
func ExampleError() {
	syms := parse.NewSymbols()
	syms.Add("BTCUSDT", 2, 3)
	p := parse.NewParser(syms)
	var ring slots
	_, err := p.Parse([]byte(`{"topic":"orderbook.50.BTCUSDT","type":"delta","ts":1,"data":{"b":[["1.001","1"]],"a":[],"u":2}}`), 0, &ring)
	var pe *parse.Error
	fmt.Println(errors.As(err, &pe), pe.Field, errors.Is(err, parse.ErrPrecision))
	fmt.Println(err)
	// Output:
	// true data.b true
	// parse: data.b: too many decimals for the scale
}

func ExampleNewParser() {
	syms := parse.NewSymbols()
	syms.Add("BTCUSDT", 2, 3)
	p := parse.NewParser(syms, parse.WithMaxLevels(100), parse.WithMaxItems(10))
	_, err := p.Parse([]byte(`{"topic":"publicTrade.BTCUSDT","ts":1,"data":[{},{},{},{},{},{},{},{},{},{},{}]}`), 0, nil)
	fmt.Println(err)
	// Output:
	// parse: data: too many items
}

func ExampleSymbols_Add() {
	syms := parse.NewSymbols()
	id, err := syms.Add("BTCUSDT", 2, 3)
	fmt.Println(id, err)
	id, err = syms.Add("ETHUSDT", parse.DefaultPriceScale, parse.DefaultSizeScale)
	fmt.Println(id, err)
	_, err = syms.Add("BTCUSDT", 1, 1)
	fmt.Println(errors.Is(err, parse.ErrDuplicate))
	got, ok := syms.Lookup([]byte("ETHUSDT"))
	p, s := syms.Scales(got)
	fmt.Println(got, ok, syms.Name(got), p, s)
	// Output:
	// 0 <nil>
	// 1 <nil>
	// true
	// 1 true ETHUSDT 8 8
}

func ExampleSymbols_SetScales() {
	syms := parse.NewSymbols()
	id, _ := syms.Add("BTCUSDT", 2, 3)
	syms.SetScales(id, 1, 3) // the tick grew from 0.01 to 0.1
	fmt.Println(syms.Scales(id))
	// Output:
	// 1 3
}

func ExampleParseDecimal() {
	for _, s := range []string{"109378.80", "-0.00008055", "1.20", "1.25", "1e5", ""} {
		v, err := parse.ParseDecimal([]byte(s), 8)
		if s == "1.25" {
			v, err = parse.ParseDecimal([]byte(s), 1)
		}
		fmt.Println(v, err)
	}
	// Output:
	// 10937880000000 <nil>
	// -8055 <nil>
	// 120000000 <nil>
	// 0 parse: too many decimals for the scale
	// 0 parse: exponent notation not allowed
	// 0 parse: empty value
}

func ExampleParseUDecimal() {
	_, err := parse.ParseUDecimal([]byte("-1"), 2)
	fmt.Println(err)
	// Output:
	// parse: sign not allowed
}

func ExampleAppendDecimal() {
	buf := make([]byte, 0, 32)
	buf = parse.AppendDecimal(buf, 10937880, 2)
	buf = append(buf, ' ')
	buf = parse.AppendDecimal(buf, -8055, 8)
	fmt.Println(string(buf))
	// Output:
	// 109378.8 -0.00008055
}

func ExampleAppendDecimalFixed() {
	fmt.Println(string(parse.AppendDecimalFixed(nil, 10937880, 2)), string(parse.AppendDecimalFixed(nil, 20, 3)))
	// Output:
	// 109378.80 0.020
}

func ExampleTopic() {
	fmt.Println(parse.Topic(parse.KindBook, 50, "BTCUSDT"))
	fmt.Println(parse.Topic(parse.KindKline, int(parse.Interval60), "BTCUSDT"))
	fmt.Println(parse.Topic(parse.KindTicker, 0, "BTCUSDT"))
	fmt.Println(parse.Topic(parse.KindTrade, 0, "BTC")) // option trades: base coin
	fmt.Println(string(parse.AppendTopic([]byte(`"`), parse.KindBook, 1, "ETHUSDT")))
	// Output:
	// orderbook.50.BTCUSDT
	// kline.60.BTCUSDT
	// tickers.BTCUSDT
	// publicTrade.BTC
	// "orderbook.1.ETHUSDT
}

func ExampleParseTopic() {
	ti, err := parse.ParseTopic([]byte("kline.D.BTCUSDT"))
	fmt.Println(ti.Kind, ti.Interval, ti.Interval.Millis(), string(ti.Symbol), err)
	_, err = parse.ParseTopic([]byte("orderbook.rpi.BTCUSDT"))
	fmt.Println(err)
	// Output:
	// kline D 86400000 BTCUSDT <nil>
	// parse: unknown topic
}

func ExampleParseInterval() {
	iv, err := parse.ParseInterval([]byte("240"))
	fmt.Println(iv, iv.Millis(), err)
	// Output:
	// 240 14400000 <nil>
}

// Option COMMAND_RESP acks list topics; read them without allocating.
func ExampleResult_SuccessTopic() {
	p := parse.NewParser(parse.NewSymbols())
	r, _ := p.Parse([]byte(`{"success":true,"conn_id":"c","data":{"successTopics":["orderbook.25.A","tickers.A"],"failTopics":["orderbook.25.B"]},"type":"COMMAND_RESP"}`), 0, nil)
	fmt.Println(r.Op, r.SuccessTopics, r.FailTopics)
	for i := range r.SuccessTopics {
		fmt.Println(string(r.SuccessTopic(i)))
	}
	fmt.Println(string(r.FailTopic(0)))
	// Output:
	// command 2 1
	// orderbook.25.A
	// tickers.A
	// orderbook.25.B
}

// ParseTo fills a Result the caller keeps, for a loop over many frames.
func ExampleParser_ParseTo() {
	syms := parse.NewSymbols()
	syms.Add("BTCUSDT", 2, 3)
	p := parse.NewParser(syms)
	frames := [][]byte{
		[]byte(`{"topic":"orderbook.1.BTCUSDT","type":"snapshot","ts":1,"data":{"s":"BTCUSDT","b":[["100.5","2"]],"a":[["100.6","1"]],"u":7,"seq":9},"cts":1}`),
		[]byte(`{"success":true,"ret_msg":"pong","conn_id":"c1","op":"ping"}`),
		[]byte(`{"topic":"orderbook.1.ETHUSDT","type":"snapshot","ts":1,"data":{"s":"ETHUSDT","b":[],"a":[],"u":1,"seq":1}}`),
	}
	var r parse.Result
	for _, f := range frames {
		var ring slots
		err := p.ParseTo(&r, f, 0, &ring)
		fmt.Println(r.Class == parse.ClassData, r.Kind, r.Op, r.Events, errors.Is(err, parse.ErrUnknownSymbol))
	}
	// Output:
	// true book none 1 false
	// false none pong 0 false
	// true book none 0 true
}
