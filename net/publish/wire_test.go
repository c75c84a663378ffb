package publish

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/ringfeed/ringfeed/parse"
)

// The hand-written encoder's output decodes with encoding/json into the
// documented wire types, with the values the slots held.
func TestWireRoundTrip(t *testing.T) {
	var e encoder
	m := &Msg{N: 7, U: 42, Seq: 99, TS: 1700000000000, CTS: 1700000000001}
	bids := []parse.Level{{Price: 6500010000000, Size: 125000000}}
	asks := []parse.Level{{Price: 6500020000000, Size: 0}, {Price: 6500100000000, Size: 5}}
	f := func(got []byte, v any, want any) {
		t.Helper()
		if err := json.Unmarshal(got, v); err != nil {
			t.Fatalf("%s: %v", got, err)
		}
		if !reflect.DeepEqual(reflect.ValueOf(v).Elem().Interface(), want) {
			t.Errorf("%s decoded to %+v; want %+v", got, reflect.ValueOf(v).Elem().Interface(), want)
		}
	}
	f(e.book(TypeDelta, "BTCUSDT", 50, m, 123, 8, 8, bids, asks), &BookMsg{}, BookMsg{
		Type: "delta", Symbol: "BTCUSDT", Depth: 50, N: 7, U: 42, Seq: 99, TS: 1700000000000, CTS: 1700000000001, Recv: 123,
		Bids: [][2]string{{"65000.1", "1.25"}}, Asks: [][2]string{{"65000.2", "0"}, {"65001", "0.00000005"}}})
	f(e.book(TypeSnapshot, "BTCUSDT", 50, m, 0, 8, 8, nil, nil), &BookMsg{}, BookMsg{
		Type: "snapshot", Symbol: "BTCUSDT", Depth: 50, N: 7, U: 42, Seq: 99, TS: 1700000000000, CTS: 1700000000001,
		PriceScale: 8, SizeScale: 8, Bids: [][2]string{}, Asks: [][2]string{}})
	f(e.stale("BTCUSDT", 50, m, 0, "gap"), &BookMsg{}, BookMsg{
		Type: "stale", Symbol: "BTCUSDT", Depth: 50, N: 7, U: 42, Seq: 99, TS: 1700000000000, CTS: 1700000000001, Reason: "gap"})

	tm := &Msg{N: 3, Seq: 5, Trade: parse.Trade{Time: 17, Price: 6500010000000, Size: 1000000, Side: parse.Sell, Tick: parse.MinusTick, RPI: true}}
	tm.Trade.IDLen = uint8(copy(tm.Trade.IDBuf[:], `id"\x`))
	f(e.trade("BTCUSDT", tm, 9, 8, 8), &TradeMsg{}, TradeMsg{Symbol: "BTCUSDT", N: 3, Time: 17, Side: "Sell", Price: "65000.1",
		Size: "0.01", ID: `id"\x`, Tick: "MinusTick", RPI: true, Seq: 5, Recv: 9})

	km := &Msg{N: 4, TS: 8, Interval: parse.Interval1, Candle: parse.Candle{Start: 60000, End: 119999, Open: 100000000, High: 200000000,
		Low: 50000000, Close: 150000000, Volume: 300000000, Turnover: 450000000, Timestamp: 90000, Confirm: true}}
	f(e.kline("ETHUSDT", km, 0, 8, 8), &KlineMsg{}, KlineMsg{Symbol: "ETHUSDT", Interval: "1", N: 4, Start: 60000, End: 119999,
		Open: "1", High: "2", Low: "0.5", Close: "1.5", Volume: "3", Turnover: "4.5", Timestamp: 90000, Confirm: true, TS: 8})

	xm := &Msg{N: 5, TS: 8, Seq: 77, Reason: 1}
	xm.Ticker.Present = 1<<parse.TickLastPrice | 1<<parse.TickFundingRate | 1<<parse.TickBasis
	xm.Ticker.Empty = 1 << parse.TickBasis
	xm.Ticker.Values[parse.TickLastPrice] = 6500010000000
	xm.Ticker.Values[parse.TickFundingRate] = -1000000 // 1e-4 at RateScale 10
	f(e.ticker("ETHUSDT", xm, 0, 8), &TickerMsg{}, TickerMsg{Symbol: "ETHUSDT", N: 5, TS: 8, Seq: 77, Stale: true,
		Fields: map[string]string{"lastPrice": "65000.1", "fundingRate": "-0.0001", "basis": ""}})
}

func TestParseURLs(t *testing.T) {
	f := func(in, want string, ok bool) {
		t.Helper()
		got, err := ParseURLs(in)
		if (err == nil) != ok || got != want {
			t.Errorf("ParseURLs(%q) = %q, %v; want %q, ok %v", in, got, err, want, ok)
		}
	}
	f("nats://127.0.0.1:4222", "nats://127.0.0.1:4222", true)
	f("127.0.0.1:4222", "nats://127.0.0.1:4222", true)
	f("nats://a:1, tls://b:2", "nats://a:1,tls://b:2", true)
	f("http://a:1", "", false)
	f("nats://", "", false)
	f("nats://a:0", "", false)
	f("nats://a:x", "", false)
	f("", "", false)
	f(" , ", "", false)
}
