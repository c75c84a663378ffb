package session

import (
	"strings"
	"testing"
	"time"

	"github.com/ringfeed/ringfeed/net/bybitsim"
)

// TestStallPongTimeout: the simulator's stall fault (nothing sent, pings
// unanswered, socket open) is caught by the pong timeout, which closes the
// connection; the session reconnects and every topic comes back. (That a
// quiet connection triggers no silence resubscribe is checked on a fake
// clock: TestQuietConnectionIsNotSilence.)
func TestStallPongTimeout(t *testing.T) {
	srv := startSim(t, bybitsim.Config{Seed: 10})
	topics := []string{"orderbook.50.BTCUSDT", "orderbook.1.ETHUSDT"}
	cfg := fastConfig(t, srv, "linear", topics...)
	cfg.PingInterval = 100 * time.Millisecond
	cfg.PongTimeout = time.Second
	h := start(t, srv, cfg)
	h.subscribedAll(10 * time.Second)

	if n, err := srv.Stall("", time.Minute); err != nil || n != 1 {
		t.Fatalf("Stall: got %d, %v; want 1 connection", n, err)
	}
	waitFor(t, 20*time.Second, "reconnect after pong timeout", func() bool { return h.s.Stats().Connections >= 2 })
	waitFor(t, 20*time.Second, "every topic back", func() bool {
		return h.s.Stats().Subscribed == len(topics) && h.col.snaps(topics[0]) >= 2 && h.col.snaps(topics[1]) >= 2
	})
	if got := h.logs.count("connection lost", "no pong within PongTimeout"); got < 1 {
		t.Errorf("no 'connection lost … no pong' line\n%s", h.logs)
	}
	// Reset runs before a connection is counted: wait for the pair to agree.
	waitFor(t, 10*time.Second, "one Sink.Reset per connection", func() bool {
		return h.sink.resets.Load() == h.s.Stats().Connections
	})
}

// TestDropRepeatedly drops the connection about every second for several
// seconds: every drop is followed by one reconnect attempt after a backoff
// sleep, Sink.Reset runs once per connection, and every topic comes back
// each time. (The limiter's rate is checked on a fake clock: TestLimiter,
// TestWindowLimiterBound.)
func TestDropRepeatedly(t *testing.T) {
	srv := startSim(t, bybitsim.Config{Seed: 11})
	topics := []string{"orderbook.50.BTCUSDT", "orderbook.200.ETHUSDT", "tickers.XRPUSDT", "kline.1.BTCUSDT"}
	cfg := fastConfig(t, srv, "linear", topics...)
	cfg.Limiter = NewLimiter(2, 250*time.Millisecond)
	h := start(t, srv, cfg)
	h.subscribedAll(10 * time.Second)

	const drops = 4
	for i := 1; i <= drops; i++ {
		time.Sleep(time.Second)
		if _, err := srv.DropAfter("", time.Millisecond); err != nil {
			t.Fatalf("DropAfter: %v", err)
		}
		waitFor(t, 10*time.Second, "reconnected and resubscribed", func() bool {
			st := h.s.Stats()
			return st.Connections == int64(i+1) && st.Subscribed == len(topics)
		})
	}
	st := h.s.Stats()
	if st.Attempts != drops+1 {
		t.Errorf("got %d attempts for %d drops; want %d (one per drop, no storm)", st.Attempts, drops, drops+1)
	}
	if got := h.sink.resets.Load(); got != drops+1 {
		t.Errorf("got %d Sink.Reset calls; want %d, one per connection", got, drops+1)
	}
	if got := h.metric(`ringfeed_resubscribes_total{reason="reconnect"}`); got != float64(drops*len(topics)) {
		t.Errorf("resubscribes_total{reconnect}: got %v; want %d", got, drops*len(topics))
	}
	if got := h.metric("ringfeed_reconnect_attempts_total"); got != drops {
		t.Errorf("reconnect_attempts_total: got %v; want %d", got, drops)
	}
	// Every book gets a fresh snapshot from each connection; the last one
	// follows its ack.
	waitFor(t, 20*time.Second, "a snapshot per connection for every book", func() bool {
		return h.col.snaps(topics[0]) >= drops+1 && h.col.snaps(topics[1]) >= drops+1
	})
	// One warning per outage, not per attempt.
	if got := h.logs.count("WARN", "connection lost"); got != drops {
		t.Errorf("got %d 'connection lost' warnings; want %d", got, drops)
	}
}

// TestRefusedHandshakes: 429 three times, then accepted.
func TestRefusedHandshakes(t *testing.T) {
	srv := startSim(t, bybitsim.Config{Seed: 12})
	if err := srv.RefuseHandshakes(3, 429); err != nil {
		t.Fatal(err)
	}
	h := start(t, srv, fastConfig(t, srv, "linear", "orderbook.50.BTCUSDT"))
	h.subscribedAll(10 * time.Second)
	st := h.s.Stats()
	if st.Attempts != 4 || st.Connections != 1 {
		t.Errorf("got %d attempts, %d connections; want 4, 1", st.Attempts, st.Connections)
	}
	if got := h.metric(`ringfeed_connects_total{result="refused"}`); got != 3 {
		t.Errorf("connects_total{refused}: got %v; want 3", got)
	}
	if got := h.metric(`ringfeed_connects_total{result="ok"}`); got != 1 {
		t.Errorf("connects_total{ok}: got %v; want 1", got)
	}
	if got := srv.Stats().HandshakesRefused; got != 3 {
		t.Errorf("simulator refused %d handshakes; want 3", got)
	}
	if got := h.logs.count("WARN", "connect failed", "429"); got != 1 {
		t.Errorf("got %d warnings naming 429; want 1 per outage\n%s", got, h.logs)
	}
}

// TestDelayedHandshake: a handshake held beyond HandshakeTimeout fails as a
// handshake error; the next attempt succeeds.
func TestDelayedHandshake(t *testing.T) {
	srv := startSim(t, bybitsim.Config{Seed: 13})
	if err := srv.DelayHandshakes(1, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	cfg := fastConfig(t, srv, "linear", "orderbook.50.BTCUSDT")
	// Well below the 5 s delay, and far above a loopback handshake on a
	// busy machine, which would otherwise count a third attempt.
	cfg.Dial.HandshakeTimeout = 1500 * time.Millisecond
	h := start(t, srv, cfg)
	h.subscribedAll(10 * time.Second)
	if got := h.metric(`ringfeed_connects_total{result="handshake_error"}`); got != 1 {
		t.Errorf("connects_total{handshake_error}: got %v; want 1", got)
	}
	if st := h.s.Stats(); st.Attempts != 2 || st.Connections != 1 {
		t.Errorf("got %d attempts, %d connections; want 2, 1", st.Attempts, st.Connections)
	}
}

// TestTopicSilence: one stream goes silent while the connection stays up:
// that topic alone is resubscribed and counted; the others are untouched.
// (That a talking topic is not resubscribed is checked on a fake clock:
// TestSilenceMarksTopic.)
func TestTopicSilence(t *testing.T) {
	srv := startSim(t, bybitsim.Config{Seed: 14})
	topics := []string{"orderbook.50.BTCUSDT", "orderbook.50.ETHUSDT", "tickers.XRPUSDT"}
	cfg := fastConfig(t, srv, "linear", topics...)
	cfg.Silence = func(topic string) time.Duration {
		if topic == topics[0] {
			return 2 * time.Second
		}
		return 0
	}
	cfg.ResyncInterval = 300 * time.Millisecond
	h := start(t, srv, cfg)
	h.subscribedAll(10 * time.Second)

	if err := srv.Silence("linear", topics[0], -1); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "silent topic resubscribed", func() bool { return h.s.Stats().Silences >= 1 })
	waitFor(t, 20*time.Second, "fresh snapshot of the silent topic", func() bool { return h.col.snaps(topics[0]) >= 2 })
	if err := srv.Silence("linear", topics[0], 0); err != nil {
		t.Fatal(err)
	}
	// Every silence resubscribe unsubscribed once (nothing else does here).
	waitFor(t, 20*time.Second, "resubscribes acked and counted", func() bool {
		return h.s.Stats().Subscribed == len(topics) && srv.Stats().UnsubscribesOK == h.s.Stats().Silences
	})
	st := h.s.Stats()
	if got := h.metric(`ringfeed_resubscribes_total{reason="silence"}`); got != float64(st.Silences) {
		t.Errorf("resubscribes_total{silence}: got %v; want %d", got, st.Silences)
	}
	if got := h.col.snaps(topics[1]); got != 1 {
		t.Errorf("%s: got %d snapshots; want 1 (untouched)\n%s", topics[1], got, h.logs)
	}
	if st.Connections != 1 {
		t.Errorf("got %d connections; want 1", st.Connections)
	}
	if got := h.logs.count("topic silent", topics[0]); got < 1 {
		t.Errorf("no 'topic silent' log line for %s", topics[0])
	}
}

// TestResync: Resync(topic) unsubscribes and subscribes that topic alone;
// a fresh snapshot arrives.
func TestResync(t *testing.T) {
	srv := startSim(t, bybitsim.Config{Seed: 15})
	topics := []string{"orderbook.50.BTCUSDT", "orderbook.50.ETHUSDT"}
	cfg := fastConfig(t, srv, "linear", topics...)
	cfg.ResyncInterval = 250 * time.Millisecond
	h := start(t, srv, cfg)
	h.subscribedAll(10 * time.Second)
	before := srv.Stats()

	if !h.s.Resync(topics[0]) {
		t.Fatal("Resync: got false; want true")
	}
	waitFor(t, 5*time.Second, "fresh snapshot", func() bool { return h.col.snaps(topics[0]) >= 2 })
	waitFor(t, 5*time.Second, "resubscribed", func() bool { return h.s.Stats().Subscribed == len(topics) })
	after := srv.Stats()
	if got := after.UnsubscribesOK - before.UnsubscribesOK; got != 1 {
		t.Errorf("simulator saw %d unsubscribes; want 1", got)
	}
	if got := after.SubscribesOK - before.SubscribesOK; got != 1 {
		t.Errorf("simulator saw %d subscribes; want 1", got)
	}
	if got := h.col.snaps(topics[1]); got != 1 {
		t.Errorf("%s: got %d snapshots; want 1 (untouched)", topics[1], got)
	}

	// The rate of repeated calls is checked on a fake clock:
	// TestResyncRateFakeClock.
}

// TestResyncGlobalCap: resyncs of many topics at once, under the
// ResyncPerSecond cap, are all done in the end. (The cap's rate is checked
// on a fake clock: TestResyncGlobalCapFakeClock.)
func TestResyncGlobalCap(t *testing.T) {
	srv := startSim(t, bybitsim.Config{Seed: 16})
	var topics []string
	for _, sym := range []string{"BTCUSDT", "ETHUSDT", "XRPUSDT"} {
		for _, d := range []string{"1", "50", "200", "1000"} {
			topics = append(topics, "orderbook."+d+"."+sym)
		}
	}
	cfg := fastConfig(t, srv, "linear", topics...)
	cfg.ResyncPerSecond = 4
	h := start(t, srv, cfg)
	h.subscribedAll(10 * time.Second)
	for _, topic := range topics {
		h.s.Resync(topic)
	}
	// Each resync ends with a fresh snapshot, which follows the ack.
	waitFor(t, 20*time.Second, "all resyncs done, each with a fresh snapshot", func() bool {
		if h.s.Stats().Resyncs != int64(len(topics)) || h.s.Stats().Subscribed != len(topics) {
			return false
		}
		for _, topic := range topics {
			if h.col.snaps(topic) < 2 {
				return false
			}
		}
		return true
	})
}

// TestRejectedSubscription: a topic rejected 3 times is retried alone on
// the backoff schedule, counted, and logged once; its batch-mate (rejected
// with it, as Bybit rejects the whole request) comes back on its first
// retry.
func TestRejectedSubscription(t *testing.T) {
	srv := startSim(t, bybitsim.Config{Seed: 17})
	if err := srv.RejectTopic("linear", "tickers.BTCUSDT", 3); err != nil {
		t.Fatal(err)
	}
	topics := []string{"orderbook.50.BTCUSDT", "tickers.BTCUSDT"}
	h := start(t, srv, fastConfig(t, srv, "linear", topics...))
	h.subscribedAll(10 * time.Second)
	st := h.s.Stats()
	if st.SubscribeFailures != 3 {
		t.Errorf("got %d subscribe failures; want 3", st.SubscribeFailures)
	}
	var tries int
	for _, f := range h.tap.all() {
		if strings.Contains(f, `"success":false`) {
			tries++
			if !strings.Contains(f, "error:handler not found,topic:tickers.BTCUSDT") {
				t.Errorf("unexpected failure: %s", f)
			}
		}
	}
	if tries != 3 {
		t.Errorf("got %d failed acks; want 3 (no extra retries)", tries)
	}
	if got := h.logs.count("WARN", "subscribe failed", "topic=tickers.BTCUSDT", "handler not found"); got != 1 {
		t.Errorf("got %d warnings for tickers.BTCUSDT; want 1\n%s", got, h.logs)
	}
	if got := h.logs.count("subscribed after failures", "topic=tickers.BTCUSDT"); got != 1 {
		t.Errorf("got %d recovery lines; want 1", got)
	}

	// Rejected for good: retried on and on, logged once for the streak.
	// (That retries keep to the backoff is checked on a fake clock:
	// TestRetryBackoffFakeClock.)
	if err := srv.RejectTopic("linear", "tickers.ETHUSDT", 1_000_000); err != nil {
		t.Fatal(err)
	}
	h2 := start(t, srv, fastConfig(t, srv, "linear", "tickers.ETHUSDT"))
	waitFor(t, 20*time.Second, "five failures", func() bool { return h2.s.Stats().SubscribeFailures >= 5 })
	if got := h2.logs.count("WARN", "subscribe failed"); got != 1 {
		t.Errorf("got %d warnings; want 1 for the whole streak", got)
	}
	if st := h2.s.TopicState(0); st.Subscribed {
		t.Errorf("refused topic: got %+v; want not subscribed", st)
	}
}

// TestBadFrames: garbage and binary frames are counted and skipped and the
// connection stays; an oversize frame ends the connection (1009) and the
// session reconnects.
func TestBadFrames(t *testing.T) {
	srv := startSim(t, bybitsim.Config{Seed: 18})
	topics := []string{"orderbook.50.BTCUSDT", "tickers.ETHUSDT"}
	cfg := fastConfig(t, srv, "linear", topics...)
	cfg.Dial.MaxMessageSize = 256 << 10
	h := start(t, srv, cfg)
	h.subscribedAll(10 * time.Second)

	for range 3 {
		if _, err := srv.SendGarbage(""); err != nil {
			t.Fatal(err)
		}
		if _, err := srv.SendBinary(""); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, 5*time.Second, "garbage and binary frames counted", func() bool {
		return h.s.Stats().ParseErrors >= 3 && h.metric(`ringfeed_frames_total{opcode="binary"}`) >= 3
	})
	if got := h.logs.count("bad message skipped"); got != 1 {
		t.Errorf("got %d 'bad message' lines for 3 bad frames; want 1 (rate-limited)", got)
	}
	if !strings.Contains(h.logs.String(), "sample=") {
		t.Error("bad-message log line has no sample")
	}
	// Fragmented frames with a ping between fragments still parse.
	if _, err := srv.Fragment("", 64, true); err != nil {
		t.Fatal(err)
	}
	n := h.col.snaps(topics[0])
	h.s.Resync(topics[0])
	waitFor(t, 5*time.Second, "a fragmented snapshot", func() bool { return h.col.snaps(topics[0]) > n })
	if got := h.metric(`ringfeed_frames_total{opcode="continuation"}`); got == 0 {
		t.Error("frames_total{continuation}: got 0; want > 0")
	}
	if st := h.s.Stats(); st.Connections != 1 {
		t.Fatalf("got %d connections after garbage/binary/fragments; want 1", st.Connections)
	}
	errsBefore := h.s.Stats().ParseErrors

	if _, err := srv.SendOversize("", 512<<10); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "reconnect after oversize", func() bool {
		st := h.s.Stats()
		return st.Connections == 2 && st.Subscribed == len(topics)
	})
	if got := h.metric("ringfeed_oversize_total"); got != 1 {
		t.Errorf("oversize_total: got %v; want 1", got)
	}
	if got := h.s.Stats().ParseErrors; got != errsBefore {
		t.Errorf("parse errors went from %d to %d around the oversize frame; want unchanged", errsBefore, got)
	}
	if got := h.metric(`ringfeed_parse_errors_total{reason="syntax"}`); got < 3 {
		t.Errorf("parse_errors_total{syntax}: got %v; want >= 3", got)
	}
}

// TestRingFullKeepsReading: a processor that stops consuming fills the
// ring; the reader aborts each message that does not fit (the engine rolls
// it back and marks the book stale), counts it, and keeps reading and
// answering the heartbeat: the connection survives.
func TestRingFullKeepsReading(t *testing.T) {
	srv := startSim(t, bybitsim.Config{Seed: 19})
	sink := newRingSink(8) // nobody consumes it
	cfg := fastConfig(t, srv, "linear", "orderbook.50.BTCUSDT", "orderbook.1000.ETHUSDT")
	cfg.Sink = sink
	cfg.PingInterval = 50 * time.Millisecond
	h := start(t, srv, cfg)
	waitFor(t, 10*time.Second, "drops and pongs", func() bool {
		st := h.s.Stats()
		return st.Dropped >= 20 && st.Pongs >= 5
	})
	st := h.s.Stats()
	if st.Connections != 1 || st.Subscribed != 2 {
		t.Errorf("got %d connections, %d subscribed; want 1, 2", st.Connections, st.Subscribed)
	}
	if got := sink.aborts.Load(); got < st.Dropped {
		t.Errorf("got %d Sink.Abort calls for %d dropped messages; want one each", got, st.Dropped)
	}
	if st.ParseErrors != 0 {
		t.Errorf("got %d parse errors; want 0 (a full ring is not bad input)", st.ParseErrors)
	}
	if got := sink.r.Len(); got > 8 {
		t.Errorf("ring holds %d; want <= 8", got)
	}
}

// TestGapResync plays the engine end to end: the simulator withholds a
// delta, the processor (the collector) sees the u gap and calls Resync, and
// the fresh snapshot brings the stream back to the simulator's book.
func TestGapResync(t *testing.T) {
	srv := startSim(t, bybitsim.Config{Seed: 20})
	topics := []string{"orderbook.50.BTCUSDT", "orderbook.50.ETHUSDT"}
	h := start(t, srv, fastConfig(t, srv, "linear", topics...))
	onGap := func(key string) { h.s.Resync(key) }
	h.col.onGap.Store(&onGap)
	h.subscribedAll(10 * time.Second)

	if err := srv.SkipDelta("linear", topics[0]); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "gap seen and resynced", func() bool {
		gaps, _ := h.col.gap(topics[0])
		return gaps == 1 && h.s.Stats().Resyncs == 1 && h.col.snaps(topics[0]) == 2
	})
	// Quiesce and compare with the simulator's reference.
	srv.Pause()
	defer srv.Resume()
	want, err := srv.Book("linear", "BTCUSDT", 50)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "stream caught up with the simulator", func() bool {
		_, u := h.col.gap(topics[0])
		return u == want.U
	})
	if gaps, _ := h.col.gap(topics[1]); gaps != 0 || h.col.snaps(topics[1]) != 1 {
		t.Errorf("%s: got %d gaps, %d snapshots; want 0, 1 (untouched)", topics[1], gaps, h.col.snaps(topics[1]))
	}
}

// TestIdleTimeout: with a pong timeout longer than the idle timeout, a
// stalled connection is ended by wsconn's read deadline (no frame at all)
// and the session reconnects.
func TestIdleTimeout(t *testing.T) {
	srv := startSim(t, bybitsim.Config{Seed: 21})
	cfg := fastConfig(t, srv, "linear", "orderbook.50.BTCUSDT")
	cfg.PingInterval = 300 * time.Millisecond
	cfg.PongTimeout = 20 * time.Second
	cfg.Dial.IdleTimeout = 2 * time.Second
	h := start(t, srv, cfg)
	h.subscribedAll(10 * time.Second)
	if _, err := srv.Stall("", time.Minute); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "reconnect after idle timeout", func() bool {
		st := h.s.Stats()
		return st.Connections >= 2 && st.Subscribed == 1
	})
	if got := h.logs.count("connection lost", "idle timeout"); got < 1 {
		t.Errorf("no 'connection lost … idle timeout' line\n%s", h.logs)
	}
}
