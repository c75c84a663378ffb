package bybitsim_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/coder/websocket"

	"github.com/ringfeed/ringfeed/net/bybitsim"
)

// Start a simulator, subscribe over its WebSocket URL, read the ack and the
// first snapshot, close.
func ExampleStart() {
	s, err := bybitsim.Start(bybitsim.Config{Seed: 1})
	if err != nil {
		panic(err)
	}
	defer s.Close()
	s.Pause() // nothing but the subscribe snapshot, for a stable output

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, s.URL("linear"), nil)
	if err != nil {
		panic(err)
	}
	defer c.CloseNow()
	c.SetReadLimit(1 << 20)
	_ = c.Write(ctx, websocket.MessageText, []byte(`{"op":"subscribe","req_id":"1","args":["orderbook.50.BTCUSDT"]}`))
	_, ack, _ := c.Read(ctx)
	fmt.Println(string(ack))
	_, snap, _ := c.Read(ctx)
	var f struct {
		Topic, Type string
		Data        struct{ B, A [][2]string }
	}
	_ = json.Unmarshal(snap, &f)
	fmt.Println(f.Topic, f.Type, len(f.Data.B), "bids", len(f.Data.A), "asks")
	// Output:
	// {"success":true,"ret_msg":"","conn_id":"96e6c23a-cd49-563c-beab-51ef6be0d730","req_id":"1","op":"subscribe"}
	// orderbook.50.BTCUSDT snapshot 50 bids 50 asks
}

// Pause the generator, step it by hand and compare a client's view with
// the reference state.
func ExampleServer_Step() {
	s, _ := bybitsim.Start(bybitsim.Config{Seed: 2, Rate: bybitsim.Rate{Mode: bybitsim.RateMax}})
	defer s.Close()
	s.Pause()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, _ := websocket.Dial(ctx, s.URL("spot"), nil)
	defer c.CloseNow()
	_ = c.Write(ctx, websocket.MessageText, []byte(`{"op":"subscribe","args":["orderbook.1.ETHUSDT"]}`))
	type book struct {
		Type string
		Data struct {
			U    int64
			B, A [][2]string
		}
	}
	read := func() book {
		_, p, _ := c.Read(ctx)
		var b book
		_ = json.Unmarshal(p, &b)
		return b
	}
	read() // ack
	last := read()
	for n := s.Step(20); n > 0; n-- {
		last = read()
	}
	want, _ := s.Book("spot", "ETHUSDT", 1)
	fmt.Println(last.Type, last.Data.U == want.U, last.Data.B[0] == want.Bids[0], last.Data.A[0] == want.Asks[0])
	// Output: snapshot true true true
}

func ExampleParseRate() {
	for _, v := range []string{"mixed", "max", "500/stream", "20000"} {
		r, _ := bybitsim.ParseRate(v)
		fmt.Println(r)
	}
	_, err := bybitsim.ParseRate("fast")
	fmt.Println(err != nil)
	// Output:
	// mixed
	// max
	// 500/stream
	// 20000
	// true
}

func ExampleParseFault() {
	f, _ := bybitsim.ParseFault("skip-delta,cat=linear,topic=orderbook.50.BTCUSDT")
	fmt.Println(f.Kind, f.Category, f.Topic)
	f, _ = bybitsim.ParseFault("stall,d=2s")
	fmt.Println(f)
	// Output:
	// skip-delta linear orderbook.50.BTCUSDT
	// stall,d=2s
}

func ExampleParseFaultSchedule() {
	fs, _ := bybitsim.ParseFaultSchedule("7:0.5")
	fmt.Println(fs.Seed, fs.PerSecond)
	// Output: 7 0.5
}

// Refuse the next handshake with HTTP 429, as Bybit does when throttling.
func ExampleServer_Inject() {
	s, _ := bybitsim.Start(bybitsim.Config{})
	defer s.Close()
	_, _ = s.Inject(bybitsim.Fault{Kind: bybitsim.FaultRefuseHandshake, N: 1})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, resp, err := websocket.Dial(ctx, s.URL("linear"), nil)
	fmt.Println(err != nil, resp.StatusCode, s.Stats().HandshakesRefused)
	// Output: true 429 1
}

// The REST endpoints share the listener.
func ExampleServer_RESTURL() {
	s, _ := bybitsim.Start(bybitsim.Config{})
	defer s.Close()
	resp, err := http.Get(s.RESTURL() + "/v5/market/instruments-info?category=inverse")
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var e struct {
		RetCode int
		Result  struct {
			List []struct{ Symbol, PriceScale string }
		}
	}
	_ = json.Unmarshal(body, &e)
	fmt.Println(e.RetCode, e.Result.List)
	// Output: 0 [{BTCUSD 2}]
}

func ExampleSyntheticInstruments() {
	for _, in := range bybitsim.SyntheticInstruments("linear", 2) {
		fmt.Println(in.Symbol, in.TickSize, in.QtyStep)
	}
	// Output:
	// S0001USDT 0.01 0.01
	// S0002USDT 0.01 0.01
}
