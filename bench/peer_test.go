package bench

import (
	"errors"
	"slices"
	"testing"
)

// bookFrame renders an orderbook frame for the peer's tests.
func bookFrame(depth, typ, bids, asks string, u int64) []byte {
	return []byte(`{"topic":"orderbook.` + depth + `.BTCUSDT","type":"` + typ + `","ts":1700000000000,"data":{"s":"BTCUSDT","b":` +
		bids + `,"a":` + asks + `,"u":` + itoa(int(u)) + `,"seq":7},"cts":1700000000000}`)
}

func TestPeerBook(t *testing.T) {
	// f applies frames in order and checks the book's top levels, u and
	// staleness after the last one.
	f := func(name string, frames [][]byte, wantBids, wantAsks []PeerLevel, wantU int64, wantStale bool) {
		t.Helper()
		p := NewPeer(10, 10)
		for i, fr := range frames {
			if err := p.Handle(fr); err != nil {
				t.Fatalf("%s: frame %d: %v", name, i, err)
			}
		}
		b := p.Book("BTCUSDT", 2)
		if b == nil {
			t.Fatalf("%s: no book", name)
		}
		if b.U != wantU || b.Stale != wantStale {
			t.Errorf("%s: got u=%d stale=%v; want u=%d stale=%v", name, b.U, b.Stale, wantU, wantStale)
		}
		if !slices.Equal(b.TopBids, wantBids) || !slices.Equal(b.TopAsks, wantAsks) {
			t.Errorf("%s: got bids %v asks %v; want bids %v asks %v", name, b.TopBids, b.TopAsks, wantBids, wantAsks)
		}
	}
	snap := bookFrame("2", "snapshot", `[["100.5","1"],["100.4","2"]]`, `[["100.6","3"],["100.7","4"]]`, 10)
	f("snapshot", [][]byte{snap},
		[]PeerLevel{{100.5, 1}, {100.4, 2}}, []PeerLevel{{100.6, 3}, {100.7, 4}}, 10, false)
	f("delta updates and deletes", [][]byte{snap, bookFrame("2", "delta", `[["100.5","0"],["100.3","5"]]`, `[["100.6","9"]]`, 11)},
		[]PeerLevel{{100.4, 2}, {100.3, 5}}, []PeerLevel{{100.6, 9}, {100.7, 4}}, 11, false)
	f("depth cap drops the worst level", [][]byte{snap, bookFrame("2", "delta", `[["100.45","1"]]`, `[]`, 11)},
		[]PeerLevel{{100.5, 1}, {100.45, 1}}, []PeerLevel{{100.6, 3}, {100.7, 4}}, 11, false)
	f("gap marks stale and ignores", [][]byte{snap, bookFrame("2", "delta", `[["100.3","5"]]`, `[]`, 12)},
		[]PeerLevel{{100.5, 1}, {100.4, 2}}, []PeerLevel{{100.6, 3}, {100.7, 4}}, 10, true)
	f("snapshot clears stale", [][]byte{snap, bookFrame("2", "delta", `[]`, `[]`, 12), bookFrame("2", "snapshot", `[["99","1"]]`, `[["101","1"]]`, 20)},
		[]PeerLevel{{99, 1}}, []PeerLevel{{101, 1}}, 20, false)
	f("u=1 is a snapshot", [][]byte{snap, bookFrame("2", "delta", `[["1","1"]]`, `[["2","2"]]`, 1)},
		[]PeerLevel{{1, 1}}, []PeerLevel{{2, 2}}, 1, false)
}

func TestPeerOtherStreams(t *testing.T) {
	p := NewPeer(2, 3)
	frames := []string{
		`{"success":true,"ret_msg":"","conn_id":"x","req_id":"1","op":"subscribe"}`,
		`{"topic":"tickers.BTCUSDT","type":"snapshot","data":{"symbol":"BTCUSDT","lastPrice":"100","volume24h":"5"},"cs":1,"ts":1}`,
		`{"topic":"tickers.BTCUSDT","type":"delta","data":{"symbol":"BTCUSDT","lastPrice":"101"},"cs":2,"ts":2}`,
		`{"topic":"kline.1.BTCUSDT","data":[{"start":60000,"end":119999,"interval":"1","open":"1","close":"2","high":"3","low":"0.5","volume":"4","turnover":"5","confirm":false,"timestamp":1}],"ts":1,"type":"snapshot"}`,
		`{"topic":"kline.1.BTCUSDT","data":[{"start":60000,"end":119999,"interval":"1","open":"1","close":"2.5","high":"3","low":"0.5","volume":"6","turnover":"7","confirm":true,"timestamp":2}],"ts":2,"type":"snapshot"}`,
		`{"topic":"kline.1.BTCUSDT","data":[{"start":120000,"end":179999,"interval":"1","open":"2.5","close":"2.5","high":"2.5","low":"2.5","volume":"0","turnover":"0","confirm":false,"timestamp":3}],"ts":3,"type":"snapshot"}`,
		`{"topic":"kline.1.BTCUSDT","data":[{"start":180000,"end":239999,"interval":"1","open":"2.5","close":"2.5","high":"2.5","low":"2.5","volume":"0","turnover":"0","confirm":false,"timestamp":4}],"ts":4,"type":"snapshot"}`,
		`{"topic":"publicTrade.BTCUSDT","type":"snapshot","ts":1,"data":[{"T":1,"s":"BTCUSDT","S":"Buy","v":"1","p":"100","L":"PlusTick","i":"a","BT":false},{"T":1,"s":"BTCUSDT","S":"Sell","v":"2","p":"99","L":"MinusTick","i":"b","BT":false}]}`,
		`{"topic":"publicTrade.BTCUSDT","type":"snapshot","ts":2,"data":[{"T":2,"s":"BTCUSDT","S":"Buy","v":"3","p":"101","L":"PlusTick","i":"c","BT":false},{"T":2,"s":"BTCUSDT","S":"Buy","v":"4","p":"102","L":"PlusTick","i":"d","BT":false}]}`,
	}
	for i, fr := range frames {
		if err := p.Handle([]byte(fr)); err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
	}
	if got, want := p.Messages(), len(frames)-1; got != want {
		t.Errorf("got %d messages; want %d (acks do not count)", got, want)
	}
	if got := p.tickers["BTCUSDT"]; got["lastPrice"] != "101" || got["volume24h"] != "5" {
		t.Errorf("ticker: got %v; want lastPrice 101 merged over the snapshot's volume24h 5", got)
	}
	w := p.klines["kline.1.BTCUSDT"]
	if len(w) != 2 || w[0].Start != 120000 || w[1].Start != 180000 {
		t.Errorf("klines: got %+v; want the last 2 candles (120000, 180000)", w)
	}
	tr := p.trades["BTCUSDT"]
	if len(tr) != 3 || tr[0].ID != "b" || tr[2].ID != "d" || !tr[2].Buy || tr[2].Price != 102 {
		t.Errorf("trades: got %+v; want the last 3 (b, c, d)", tr)
	}
}

func TestPeerBadFrames(t *testing.T) {
	for _, fr := range []string{
		`not json`,
		`{"topic":"orderbook.x.BTCUSDT","type":"snapshot","data":{"s":"BTCUSDT","b":[],"a":[],"u":1}}`,
		`{"topic":"orderbook.50","type":"snapshot","data":{}}`,
		`{"topic":"orderbook.50.BTCUSDT","type":"snapshot","data":{"s":"BTCUSDT","b":[["abc","1"]],"a":[],"u":1}}`,
		`{"topic":"orderbook.50.BTCUSDT","type":"snapshot","data":{"s":"BTCUSDT","b":[["1","1"]],"a":[],"u":"1"}}`,
		`{"topic":"kline.1.BTCUSDT","data":[{"start":1,"open":"x"}]}`,
		`{"topic":"publicTrade.BTCUSDT","data":[{"p":"1","v":"y"}]}`,
		`{"topic":"tickers.BTCUSDT","data":{"lastPrice":1}}`,
		`{"topic":"liquidation.BTCUSDT","data":{}}`,
	} {
		p := NewPeer(1, 1)
		if err := p.Handle([]byte(fr)); !errors.Is(err, ErrPeerFrame) {
			t.Errorf("Handle(%s): got %v; want ErrPeerFrame", fr, err)
		}
		if p.Messages() != 0 {
			t.Errorf("Handle(%s): got %d messages; want 0", fr, p.Messages())
		}
	}
}

func TestNewPeerPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("NewPeer(0, 1): got no panic; want one")
		}
	}()
	NewPeer(0, 1)
}
