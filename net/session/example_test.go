package session_test

import (
	"context"
	"fmt"
	"time"

	"github.com/ringfeed/ringfeed/net/bybitsim"
	"github.com/ringfeed/ringfeed/net/session"
	"github.com/ringfeed/ringfeed/parse"
	"github.com/ringfeed/ringfeed/ring"
)

// ringSink is the smallest useful Sink: events go into a ring, a message
// is published when committed and rolled back when aborted.
type ringSink struct {
	r      *ring.SPSC[parse.Event]
	cur    int
	resets int
}

func (s *ringSink) Next() *parse.Event {
	ev := s.r.Reserve()
	if ev != nil {
		s.cur++
	}
	return ev
}
func (s *ringSink) Commit()                   { s.cur = 0 }
func (s *ringSink) Abort(parse.Result, error) { s.r.Rollback(s.cur); s.cur = 0 }
func (s *ringSink) Silent(parse.Result)       {}
func (s *ringSink) Flush()                    { s.r.Publish() }
func (s *ringSink) Reset()                    { s.resets++ }
func newSink() *ringSink                      { return &ringSink{r: ring.New[parse.Event](1024)} }
func symbols(names ...string) *parse.Symbols {
	syms := parse.NewSymbols()
	for _, n := range names {
		syms.Add(n, parse.DefaultPriceScale, parse.DefaultSizeScale)
	}
	return syms
}

func ExampleNew() {
	s, err := session.New(session.Config{
		Category: "linear",
		URL:      "wss://stream.bybit.com/v5/public/linear",
		Topics:   []string{"orderbook.50.BTCUSDT", "publicTrade.BTCUSDT"},
		Symbols:  symbols("BTCUSDT"),
		Sink:     newSink(),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(s.NumTopics(), s.Topic(1), s.Connected())
	// Output: 2 publicTrade.BTCUSDT false
}

func ExampleSession_Run() {
	srv, err := bybitsim.Start(bybitsim.Config{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()
	sink := newSink()
	s, err := session.New(session.Config{
		Category: "linear",
		URL:      srv.URL("linear"),
		Topics:   []string{"orderbook.50.BTCUSDT"},
		Symbols:  symbols("BTCUSDT"),
		Sink:     sink,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- s.Run(ctx) }()
	// The processor's side: take the first book snapshot from the ring.
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		if batch := sink.r.Peek(); len(batch) > 0 {
			ev := &batch[0]
			fmt.Println(ev.Kind, ev.Is(parse.Snapshot), ev.Depth)
			sink.r.Release(len(batch))
			break
		}
		time.Sleep(time.Millisecond)
	}
	cancel() // Run sends a close frame and returns
	fmt.Println(<-done)
	// Output:
	// book true 50
	// context canceled
}

func ExampleSession_Resync() {
	s, _ := session.New(session.Config{
		Category: "spot",
		URL:      "wss://stream.bybit.com/v5/public/spot",
		Topics:   []string{"orderbook.50.BTCUSDT"},
		Symbols:  symbols("BTCUSDT"),
		Sink:     newSink(),
	})
	// A processor found a gap in BTCUSDT's book: name its topic and ask
	// for a fresh snapshot. A second call while one is pending says false.
	i, _ := s.TopicIndex(parse.KindBook, 0, 50)
	fmt.Println(s.Topic(i), s.Resync(s.Topic(i)), s.ResyncIndex(i))
	// Output: orderbook.50.BTCUSDT true false
}

func ExampleNewLimiter() {
	// One limiter for every session of the process: bursts of 2, then one
	// new connection per hour.
	lim := session.NewLimiter(2, time.Hour)
	for range 2 {
		fmt.Println(lim.Wait(context.Background())) // within the burst: at once
	}
	// The third would wait an hour; Wait gives up when its context ends.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	fmt.Println(lim.Wait(ctx))
	// Output:
	// <nil>
	// <nil>
	// context canceled
}

func ExampleNewWindowLimiter() {
	// Bybit allows 500 new connections per 5 minutes per IP: take 400,
	// 200 of them at once, then one every 1.5 s.
	lim := session.NewWindowLimiter(400, session.ConnectWindow)
	n := 0
	for n < 200 && lim.Wait(context.Background()) == nil {
		n++
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	fmt.Println(n, lim.Wait(ctx))
	// Output: 200 context canceled
}

func ExampleNewProbe() {
	srv, err := bybitsim.Start(bybitsim.Config{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()
	p, err := session.NewProbe(session.ProbeConfig{URL: srv.RESTURL()})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer p.Close()
	err = p.RunOnce(context.Background())
	st := p.Stats()
	fmt.Println(err, st.Up, st.Tries)
	// Output: <nil> true 1
}

func ExampleDefaultSilence() {
	fmt.Println(session.DefaultSilence("orderbook.1.BTCUSDT"), session.DefaultSilence("publicTrade.BTCUSDT"))
	// Output: 10s 0s
}

func ExampleSession_Stats() {
	srv, err := bybitsim.Start(bybitsim.Config{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()
	s, _ := session.New(session.Config{
		Category: "spot",
		URL:      srv.URL("spot"),
		Topics:   []string{"orderbook.1.BTCUSDT", "tickers.ETHUSDT"},
		Symbols:  symbols("BTCUSDT", "ETHUSDT"),
		Sink:     newSink(),
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- s.Run(ctx) }()
	defer func() { cancel(); <-done }()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if s.Stats().Subscribed == 2 {
			break
		}
	}
	st := s.Stats()
	fmt.Println(st.Connected, st.Subscribed, st.Attempts, st.Reconnects)
	// Output: true 2 1 0
}

func ExampleProbe_Offset() {
	srv, err := bybitsim.Start(bybitsim.Config{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()
	p, _ := session.NewProbe(session.ProbeConfig{URL: srv.RESTURL()})
	defer p.Close()
	// At engine start: in its own goroutine, the WebSocket never waits
	// for REST.
	p.Trigger()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if p.Stats().Runs > 0 {
			break
		}
	}
	// Exchange time of a local receive time: now + Offset. The simulator
	// runs on this machine's clock, so the offset is tiny.
	fmt.Println(p.Offset().Abs() < time.Second)
	// Output: true
}
