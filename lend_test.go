package ringfeed

import (
	"fmt"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ringfeed/ringfeed/net/bybitsim"
	"github.com/ringfeed/ringfeed/ring"
)

// In park mode the readers apply for their parked processor (lend), and
// the state stays exact: three connections on one processor, so readers
// also apply each other's rings and contend for the processor with each
// other and with it, while queries (served on the processor goroutine
// only) run all along. Run under -race in make test: every hand-over of
// the processor's state between goroutines must be ordered.
func TestParkReadersLendAndStateStaysExact(t *testing.T) {
	rate, _ := bybitsim.ParseRate("4000")
	syms := []string{"BTCUSDT", "ETHUSDT", "XRPUSDT"}
	h := startHarness(t, bybitsim.Config{Seed: 12, Rate: rate}, Config{
		Symbols:        syms,
		Topics:         []string{"orderbook.50", "publicTrade"},
		SymbolsPerConn: 1,
		Processors:     1,
	})
	if len(h.e.conns) != 3 || len(h.e.procs) != 1 {
		t.Fatalf("%d connections on %d processors; want 3 on 1", len(h.e.conns), len(h.e.procs))
	}
	// Queries beside the feed, each answered by the processor goroutine.
	var served atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; i < 5000; i++ { // bounded; stops at the end of the test
			select {
			case <-stop:
				return
			default:
			}
			resp, err := h.client.Get(fmt.Sprintf("http://%s/v1/book/%s?stream=50", h.e.AdminAddr(), syms[i%len(syms)]))
			if err != nil {
				continue
			}
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				served.Add(1)
			}
			time.Sleep(2 * time.Millisecond)
		}
	})
	waitFor(t, 30*time.Second, "500 messages lent and 20 queries served", func() bool {
		return h.e.Stats().Lent > 500 && served.Load() > 20
	})
	close(stop)
	wg.Wait()
	h.quiesce("linear", 50)
	h.compareBooks("linear", 50)
	st := h.e.Stats()
	if st.Lent > st.Messages {
		t.Errorf("lent %d of %d messages applied", st.Lent, st.Messages)
	}
	if n := histCount(h.metrics(), `ringfeed_messages_lent_total{category="linear"}`); n <= 0 {
		t.Errorf("ringfeed_messages_lent_total = %v; want > 0", n)
	}
}

// Where the work must stay on the processor goroutine, no reader applies
// for it: NoLend, a registered hook (hooks run on the processor
// goroutine), spin mode.
func TestProcessorWorkStaysOnProcessor(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cfg   Config
		setup func(*Engine)
		hooks *atomic.Int64
	}{
		{name: "NoLend", cfg: Config{NoLend: true}},
		{name: "hook", hooks: new(atomic.Int64)},
		{name: "spin", cfg: Config{Wait: ring.Spin, Processors: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.cfg.Wait == ring.Spin && runtime.GOMAXPROCS(0) < 2 {
				t.Skip("spin mode needs GOMAXPROCS ≥ 2")
			}
			var setup []func(*Engine)
			if tc.hooks != nil {
				n := tc.hooks
				setup = append(setup, func(e *Engine) { e.OnBook(func(BookRef) { n.Add(1) }) })
			}
			rate, _ := bybitsim.ParseRate("2000")
			cfg := tc.cfg
			cfg.Symbols = []string{"BTCUSDT", "ETHUSDT"}
			cfg.Topics = []string{"orderbook.50"}
			h := startHarness(t, bybitsim.Config{Seed: 13, Rate: rate}, cfg, setup...)
			waitFor(t, 30*time.Second, "500 messages", func() bool { return h.e.Stats().Messages > 500 })
			h.quiesce("linear", 50)
			h.compareBooks("linear", 50)
			if n := h.e.Stats().Lent; n != 0 {
				t.Errorf("%d messages applied by readers; want 0", n)
			}
			if tc.hooks != nil && tc.hooks.Load() == 0 {
				t.Error("the book hook never ran")
			}
		})
	}
}
