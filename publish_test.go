package ringfeed

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/ringfeed/ringfeed/net/bybitsim"
	"github.com/ringfeed/ringfeed/net/client"
	"github.com/ringfeed/ringfeed/net/publish"
	"github.com/ringfeed/ringfeed/net/session"
)

// startNATS runs a real nats-server with JetStream on 127.0.0.1 (port 0:
// a free one) and stops it when the test ends.
func startNATS(t *testing.T, dir string, port int) *server.Server {
	t.Helper()
	ns, err := publish.Embedded{StoreDir: dir, Port: port}.Start()
	if err != nil {
		t.Fatalf("embedded NATS: %v", err)
	}
	t.Cleanup(func() {
		ns.Shutdown()
		ns.WaitForShutdown()
	})
	return ns
}

func natsConnect(t *testing.T, url string) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(url, nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond))
	if err != nil {
		t.Fatalf("nats.Connect: %v", err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// replicas subscribes a replica of every engine symbol's depth stream.
func replicas(t *testing.T, c *client.Client, symbols []string, depth int) map[string]*client.Book {
	t.Helper()
	out := map[string]*client.Book{}
	for _, s := range symbols {
		b, err := c.SubscribeBook(s, depth, nil)
		if err != nil {
			t.Fatalf("SubscribeBook(%s): %v", s, err)
		}
		t.Cleanup(func() { _ = b.Close() })
		out[s] = b
	}
	return out
}

// replicasMatch waits until every replica equals the engine's book as
// /v1/book serves it (same JSON, byte for byte) and the book is live.
func replicasMatch(t *testing.T, e *Engine, reps map[string]*client.Book, depth int) {
	t.Helper()
	var diff string
	deadline := time.Now().Add(30 * time.Second)
	for {
		diff = ""
		for s, r := range reps {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			want, err := e.Book(ctx, s, depth, 0)
			cancel()
			if err != nil {
				t.Fatalf("Book(%s): %v", s, err)
			}
			wj, _ := json.Marshal(want)
			gj, _ := json.Marshal(r.View(0))
			if want.Stale || string(wj) != string(gj) || len(want.Bids) == 0 {
				diff = fmt.Sprintf("%s: replica %.300s\nengine %.300s", s, gj, wj)
				break
			}
		}
		if diff == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("replicas differ from the engine after 30s: %s", diff)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// tradesComplete checks that the trade stream holds, for every symbol,
// every trade number the engine handed over: 1 … its count, none missing.
func tradesComplete(t *testing.T, e *Engine, c *client.Client) {
	t.Helper()
	want := map[string]uint64{}
	for _, st := range e.bySym {
		if st == nil {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		var n uint64
		if err := e.query(ctx, st.conn.proc, func() { n = st.pubTradeN }); err != nil {
			t.Fatalf("query: %v", err)
		}
		cancel()
		want[st.name] = n
	}
	var missing string
	defer func() {
		if t.Failed() {
			t.Logf("trades missing: %s", missing)
		}
	}()
	waitFor(t, 30*time.Second, "every trade in the trade stream", func() bool {
		seen := map[string]map[uint64]bool{}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		err := c.ReadTrades(ctx, "*", time.Time{}, func(tm publish.TradeMsg) {
			if seen[tm.Symbol] == nil {
				seen[tm.Symbol] = map[uint64]bool{}
			}
			seen[tm.Symbol][tm.N] = true
		})
		if err != nil {
			missing = err.Error()
			return false
		}
		missing = ""
		for s, n := range want {
			var lost []uint64
			for i := uint64(1); i <= n; i++ {
				if !seen[s][i] {
					lost = append(lost, i)
				}
			}
			if len(lost) > 0 {
				missing += fmt.Sprintf("%s: %d of %d missing, first %v; ", s, len(lost), n, lost[:min(len(lost), 10)])
			}
		}
		return missing == ""
	})
	total := uint64(0)
	for _, n := range want {
		total += n
	}
	if total == 0 {
		t.Fatal("no trades were published; nothing was checked")
	}
	t.Logf("%d trades all in the stream (last missing while waiting: %s)", total, missing)
}

// testRate is the simulator's feed rate in these tests: 2000 msgs/s, so a
// test reaches its message counts in a second or two.
func testRate(t *testing.T) bybitsim.Rate {
	t.Helper()
	r, err := bybitsim.ParseRate("2000")
	if err != nil {
		t.Fatal(err)
	}
	return r
}

var publishTopics = []string{"orderbook.50", "kline.1", "tickers", "publicTrade"}

// startPublishing starts an engine on a simulator of the given seed that
// publishes publishTopics to ns, and a depth-50 replica of every symbol's
// book built from the NATS fan-out by the returned client.
func startPublishing(t *testing.T, ns *server.Server, seed uint64) (*harness, *client.Client, map[string]*client.Book) {
	t.Helper()
	h := startHarness(t, bybitsim.Config{Seed: seed, TimeScale: 60, Rate: testRate(t)}, Config{
		Topics:  publishTopics,
		Publish: PublishConfig{URL: ns.ClientURL(), SnapshotEvery: time.Hour},
	})
	c, err := client.New(natsConnect(t, ns.ClientURL()), "linear")
	if err != nil {
		t.Fatal(err)
	}
	return h, c, replicas(t, c, h.e.cfg.Symbols, 50)
}

// Replicas built from the NATS fan-out equal the engine's books after a
// run with exchange-side faults: u gaps, crossed deltas, stream restarts
// and dropped connections, each of which makes books stale and resyncs
// them.
func TestPublishReplicasMatchAfterFaults(t *testing.T) {
	ns := startNATS(t, t.TempDir(), 0)
	h, c, reps := startPublishing(t, ns, 11)
	waitFor(t, 20*time.Second, "1000 messages", func() bool { return h.e.Stats().Messages > 1000 })
	syms := h.e.cfg.Symbols
	for i, s := range syms {
		topic := "orderbook.50." + s
		var err error
		switch i % 3 {
		case 0:
			err = h.sim.SkipDelta("linear", topic)
		case 1:
			err = h.sim.CrossDelta("linear", topic)
		case 2:
			err = h.sim.Restart("linear", topic)
		}
		if err != nil {
			t.Fatalf("fault on %s: %v", topic, err)
		}
	}
	if _, err := h.sim.DropAfterMessages("", 200); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "a reconnect", func() bool { return h.e.Stats().Reconnects > 0 })
	base := h.e.Stats().Messages
	waitFor(t, 20*time.Second, "1000 more messages", func() bool { return h.e.Stats().Messages > base+1000 })
	h.quiesce("linear", 50)
	replicasMatch(t, h.e, reps, 50)
	tradesComplete(t, h.e, c)

	st := h.e.Stats()
	var updates uint64
	for _, r := range reps {
		updates += r.Stats().Updates
	}
	if st.Resyncs == 0 || updates == 0 {
		t.Errorf("resyncs %d, replica updates %d: the faults or the updates did not happen", st.Resyncs, updates)
	}
	if ps := h.e.Publisher().Stats(); ps.Dropped != 0 {
		t.Errorf("publisher drops: %d; want 0", ps.Dropped)
	}
	var prom bytes.Buffer
	h.e.WritePrometheus(&prom)
	for _, want := range []string{`ringfeed_publish_messages_total{category="linear"} `, `ringfeed_nats_connected{category="linear"} 1`,
		"ringfeed_publish_latency_seconds_bucket", `ringfeed_publish_dropped_total{category="linear",side="processor"} 0`,
		`ringfeed_publish_dropped_total{category="linear",side="publisher"} 0`, `ringfeed_nats_reconnects_total{category="linear"} 0`,
		"# HELP ringfeed_publish_messages_total Updates"} {
		if !strings.Contains(prom.String(), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	t.Logf("engine %s; replica updates %d", st, updates)
}

// The NATS server goes away for seconds mid-stream and comes back: the
// engine keeps its books live meanwhile, the publisher reconnects, the
// replicas resync and equal the engine's books, and the trade stream holds
// every trade from before, during and after the outage.
func TestPublishSurvivesNATSOutage(t *testing.T) {
	dir := t.TempDir()
	ns := startNATS(t, dir, 0)
	port := ns.Addr().(*net.TCPAddr).Port
	h, c, reps := startPublishing(t, ns, 12)
	pub := h.e.Publisher()
	waitFor(t, 20*time.Second, "published messages", func() bool { return pub.Stats().Published > 1000 })

	ns.Shutdown()
	ns.WaitForShutdown()
	waitFor(t, 10*time.Second, "the publisher to see the outage", func() bool { return !pub.Connected() })
	base := h.e.Stats().Messages
	// Several seconds of feed while NATS is away (at least 3 s and 3000
	// messages): the engine must go on applying and keep its books live.
	down := time.Now()
	waitFor(t, 30*time.Second, "3 s and 3000 messages applied during the outage", func() bool {
		return h.e.Stats().Messages > base+3000 && time.Since(down) > 3*time.Second
	})
	if st := h.e.Stats(); st.StaleBooks != 0 {
		t.Errorf("%d books stale during the NATS outage; the engine must not depend on NATS", st.StaleBooks)
	}

	ns2 := startNATS(t, dir, port)
	_ = ns2
	waitFor(t, 20*time.Second, "the publisher to reconnect", pub.Connected)
	base = h.e.Stats().Messages
	waitFor(t, 20*time.Second, "1000 messages after the outage", func() bool { return h.e.Stats().Messages > base+1000 })
	h.quiesce("linear", 50)
	replicasMatch(t, h.e, reps, 50)
	tradesComplete(t, h.e, c)
	ps := pub.Stats()
	if ps.Reconnects == 0 {
		t.Errorf("publisher reconnects: 0; want ≥ 1")
	}
	t.Logf("publisher %+v; engine %s", ps, h.e.Stats())
}

// An unreachable NATS server at start is logged and retried; the engine
// runs regardless.
func TestPublishUnreachableAtStart(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close() // nothing listens there now
	logs := &syncBuffer{}
	// The publisher retries with the engine's backoff; keep it short so
	// the test does not wait out a long jittered delay.
	h := startHarness(t, bybitsim.Config{Seed: 13, TimeScale: 60, Rate: testRate(t)}, Config{
		Topics:  publishTopics,
		Session: session.Config{BackoffBase: 20 * time.Millisecond, BackoffCap: 300 * time.Millisecond},
		Publish: PublishConfig{URL: "nats://127.0.0.1:" + strconv.Itoa(port)},
		Logger:  slog.New(slog.NewTextHandler(logs, nil)),
	})
	waitFor(t, 20*time.Second, "the engine to apply 500 messages", func() bool { return h.e.Stats().Messages > 500 })
	if h.e.Publisher().Connected() {
		t.Fatal("publisher connected to a port nothing listens on")
	}
	for _, want := range []string{"NATS unreachable at start", "NATS connect failed; retrying with backoff"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs.String())
		}
	}
	// The server appears later: the publisher's retries find it.
	startNATS(t, t.TempDir(), port)
	waitFor(t, 30*time.Second, "the publisher to connect", h.e.Publisher().Connected)
	waitFor(t, 20*time.Second, "messages published", func() bool { return h.e.Publisher().Stats().Published > 100 })
}

// syncBuffer is a log sink safe for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestPublishBadURL(t *testing.T) {
	for _, u := range []string{"http://127.0.0.1:4222", "nats://", "nats://host:99999", "nats://a b"} {
		cfg := Config{Category: Linear, Symbols: []string{"BTCUSDT"}, Topics: []string{"orderbook.50"}, Publish: PublishConfig{URL: u}}
		err := cfg.Validate()
		ce, ok := err.(*ConfigError)
		if !ok || ce.Field != "Publish.URL" {
			t.Errorf("Validate with --publish %q: got %v; want a ConfigError naming publish", u, err)
		}
	}
}

// Two engines with shards 0/2 and 1/2 of one symbol list publish into one
// NATS server; one consumer sees every symbol, each from one engine only.
func TestPublishShardsCoverEverySymbolOnce(t *testing.T) {
	ns := startNATS(t, t.TempDir(), 0)
	simCfg := bybitsim.Config{Seed: 14, TimeScale: 60,
		Instruments: append(bybitsim.DefaultInstruments(), bybitsim.SyntheticInstruments("linear", 5)...)}
	nc := natsConnect(t, ns.ClientURL())
	type streamSeen struct {
		last      uint64
		backwards int
		msgs      int
	}
	var mu sync.Mutex
	seen := map[string]*streamSeen{}
	sub, err := nc.Subscribe("ringfeed.linear.book.50.*", func(m *nats.Msg) {
		var bm publish.BookMsg
		if json.Unmarshal(m.Data, &bm) != nil {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		s := seen[bm.Symbol]
		if s == nil {
			s = &streamSeen{}
			seen[bm.Symbol] = s
		}
		// One engine numbers a stream 1, 2, 3 …; a second one
		// publishing the same symbol would send numbers going back.
		if bm.N < s.last {
			s.backwards++
		}
		s.last = max(s.last, bm.N)
		s.msgs++
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()

	var engines []*harness
	for i := range 2 {
		engines = append(engines, startHarness(t, simCfg, Config{
			Topics:  []string{"orderbook.50"},
			Shard:   Shard{i, 2},
			Publish: PublishConfig{URL: ns.ClientURL()},
		}))
	}
	all := engines[0].sim.Symbols("linear")
	owner := map[string]int{}
	for i, h := range engines {
		for _, s := range h.e.cfg.Symbols {
			if j, dup := owner[s]; dup {
				t.Fatalf("%s is in shard %d and shard %d", s, j, i)
			}
			owner[s] = i
		}
	}
	if len(owner) != len(all) || len(engines[0].e.cfg.Symbols) == 0 || len(engines[1].e.cfg.Symbols) == 0 {
		t.Fatalf("shards hold %d of %d symbols (%v, %v); want all, both non-empty", len(owner), len(all),
			engines[0].e.cfg.Symbols, engines[1].e.cfg.Symbols)
	}
	waitFor(t, 30*time.Second, "updates of every symbol", func() bool {
		mu.Lock()
		defer mu.Unlock()
		for _, s := range all {
			if seen[s] == nil || seen[s].msgs < 20 {
				return false
			}
		}
		return true
	})
	mu.Lock()
	defer mu.Unlock()
	for s, st := range seen {
		if st.backwards != 0 {
			t.Errorf("%s: %d messages numbered backwards: published by two engines", s, st.backwards)
		}
	}
}
