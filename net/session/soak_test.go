package session

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/ringfeed/ringfeed/net/bybitsim"
)

// soak runs a session through random faults for d, then stops the faults
// and checks that it converges: connected, every topic subscribed, and
// every book stream at the simulator's reference u (gaps resynced by the
// collector playing the processor).
func soak(t *testing.T, d time.Duration, seed uint64) {
	srv := startSim(t, bybitsim.Config{Seed: seed})
	topics := []string{
		"orderbook.1.BTCUSDT", "orderbook.50.BTCUSDT", "orderbook.200.ETHUSDT", "orderbook.50.XRPUSDT",
		"tickers.BTCUSDT", "tickers.ETHUSDT", "publicTrade.BTCUSDT", "publicTrade.XRPUSDT", "kline.1.ETHUSDT",
	}
	cfg := fastConfig(t, srv, "linear", topics...)
	cfg.PingInterval = 100 * time.Millisecond
	cfg.PongTimeout = 500 * time.Millisecond
	cfg.Silence = func(topic string) time.Duration {
		if strings.HasPrefix(topic, "orderbook.") {
			return time.Second
		}
		return 0
	}
	h := start(t, srv, cfg)
	onGap := func(key string) { h.s.Resync(key) }
	h.col.onGap.Store(&onGap)
	h.subscribedAll(10 * time.Second)

	rng := rand.New(rand.NewPCG(seed, 1))
	books := topics[:4]
	faults := 0
	for end := time.Now().Add(d); time.Now().Before(end); faults++ {
		time.Sleep(time.Duration(50+rng.IntN(200)) * time.Millisecond)
		var f bybitsim.Fault
		switch rng.IntN(10) {
		case 0:
			f = bybitsim.Fault{Kind: bybitsim.FaultDropAfter, D: time.Millisecond}
		case 1:
			f = bybitsim.Fault{Kind: bybitsim.FaultStall, D: time.Duration(100+rng.IntN(800)) * time.Millisecond}
		case 2:
			f = bybitsim.Fault{Kind: bybitsim.FaultGarbage}
		case 3:
			f = bybitsim.Fault{Kind: bybitsim.FaultBinary}
		case 4:
			f = bybitsim.Fault{Kind: bybitsim.FaultFragment, Size: 64 + rng.IntN(512), Ping: true}
		case 5:
			f = bybitsim.Fault{Kind: bybitsim.FaultSkipDelta, Category: "linear", Topic: books[rng.IntN(len(books))]}
		case 6:
			f = bybitsim.Fault{Kind: bybitsim.FaultRestart, Category: "linear", Topic: books[rng.IntN(len(books))]}
		case 7:
			f = bybitsim.Fault{Kind: bybitsim.FaultSilence, Category: "linear", Topic: books[rng.IntN(len(books))], D: 1500 * time.Millisecond}
		case 8:
			f = bybitsim.Fault{Kind: bybitsim.FaultRejectTopic, Category: "linear", Topic: topics[rng.IntN(len(topics))], N: 1 + rng.IntN(2)}
		case 9:
			f = bybitsim.Fault{Kind: bybitsim.FaultServerPing, D: 20 * time.Millisecond}
		}
		if _, err := srv.Inject(f); err != nil {
			t.Fatalf("Inject(%v): %v", f, err)
		}
	}
	// Faults stop; silences and stalls run out; everything converges.
	waitFor(t, 20*time.Second, "connected with every topic subscribed", func() bool {
		st := h.s.Stats()
		return st.Connected && st.Subscribed == len(topics)
	})
	srv.Pause()
	defer srv.Resume()
	for _, topic := range books {
		parts := strings.Split(topic, ".")
		waitFor(t, 20*time.Second, topic+" at the simulator's u", func() bool {
			want, err := srv.Book("linear", parts[2], atoi(parts[1]))
			if err != nil {
				t.Fatal(err)
			}
			_, u := h.col.gap(topic)
			return u == want.U
		})
	}
	st := h.s.Stats()
	t.Logf("%d faults in %v: %d connections, %d resyncs, %d silences, %d subscribe failures, %d parse errors",
		faults, d, st.Connections, st.Resyncs, st.Silences, st.SubscribeFailures, st.ParseErrors)
	// Reset runs before a connection is counted: wait for the pair to agree.
	waitFor(t, 10*time.Second, "one Sink.Reset per connection", func() bool {
		return h.sink.resets.Load() == h.s.Stats().Connections
	})
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

// TestSoakShort is the scaled-down soak that also runs under -race.
func TestSoakShort(t *testing.T) { soak(t, 2*time.Second, 31) }
