package session

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ringfeed/ringfeed/parse"
	"github.com/ringfeed/ringfeed/ring"
)

// ringSink is a Sink over a real ring.SPSC, as the engine's: Next reserves,
// Abort rolls back the message's reserved slots, Flush publishes. It counts
// the calls so tests can check the contract.
type ringSink struct {
	r   *ring.SPSC[parse.Event]
	cur int // slots reserved by the message being parsed

	commits, aborts, flushes, resets, full atomic.Int64
	lastAbort                              atomic.Pointer[error]

	mu      sync.Mutex
	silents []parse.Result // Sink.Silent calls, in order
}

func newRingSink(capacity int) *ringSink {
	// The consumer parks right away: on two cores nothing here may spin.
	opts := ring.Options{Consumer: ring.Wait{}, Producer: ring.Wait{}}
	return &ringSink{r: ring.NewWithOptions[parse.Event](capacity, opts)}
}

func (s *ringSink) Next() *parse.Event {
	ev := s.r.Reserve()
	if ev == nil {
		s.full.Add(1)
		return nil
	}
	s.cur++
	return ev
}

func (s *ringSink) Commit() { s.cur = 0; s.commits.Add(1) }

func (s *ringSink) Abort(_ parse.Result, err error) {
	s.r.Rollback(s.cur)
	s.cur = 0
	s.aborts.Add(1)
	s.lastAbort.Store(&err)
}

func (s *ringSink) Silent(res parse.Result) {
	s.mu.Lock()
	s.silents = append(s.silents, res)
	s.mu.Unlock()
}

// silent returns the Sink.Silent calls so far.
func (s *ringSink) silent() []parse.Result {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]parse.Result(nil), s.silents...)
}

func (s *ringSink) Flush() { s.r.Publish(); s.flushes.Add(1) }
func (s *ringSink) Reset() { s.resets.Add(1) }

// collector drains a ringSink on its own goroutine (the processor's role)
// and keeps what tests ask about.
type collector struct {
	sink *ringSink
	syms *parse.Symbols
	done chan struct{}

	mu        sync.Mutex
	events    int
	byTopic   map[string]int // messages (First events) by topic-like key
	snapshots map[string]int // book snapshots (First events) by key
	lastU     map[string]int64
	gaps      map[string]int
	// onGap, if set, is called (on the collector goroutine) for a book
	// delta whose u does not follow its stream's last u: the processor's
	// resync trigger.
	onGap atomic.Pointer[func(key string)]
}

// startCollector consumes sink until the test ends.
func startCollector(t *testing.T, sink *ringSink, syms *parse.Symbols) *collector {
	t.Helper()
	c := &collector{
		sink:      sink,
		syms:      syms,
		done:      make(chan struct{}),
		byTopic:   map[string]int{},
		snapshots: map[string]int{},
		lastU:     map[string]int64{},
		gaps:      map[string]int{},
	}
	go func() {
		defer close(c.done)
		for {
			batch, err := sink.r.PeekWait()
			if err != nil {
				if err == ring.ErrWoken {
					continue
				}
				return
			}
			c.mu.Lock()
			for i := range batch {
				c.add(&batch[i])
			}
			c.mu.Unlock()
			sink.r.Release(len(batch))
		}
	}()
	t.Cleanup(func() {
		sink.r.Close()
		<-c.done
	})
	return c
}

// key names the stream of an event like its topic (option trades by
// symbol, not base coin).
func (c *collector) key(ev *parse.Event) string {
	switch ev.Kind {
	case parse.KindBook:
		return parse.Topic(parse.KindBook, int(ev.Depth), c.syms.Name(ev.Sym))
	case parse.KindKline:
		return parse.Topic(parse.KindKline, int(ev.Interval), c.syms.Name(ev.Sym))
	}
	return parse.Topic(ev.Kind, 0, c.syms.Name(ev.Sym))
}

func (c *collector) add(ev *parse.Event) {
	c.events++
	if !ev.Is(parse.First) {
		return
	}
	k := c.key(ev)
	c.byTopic[k]++
	if ev.Kind == parse.KindBook {
		if ev.Is(parse.Snapshot) {
			c.snapshots[k]++
		} else if last, ok := c.lastU[k]; ok && ev.U != last+1 {
			c.gaps[k]++
			if f := c.onGap.Load(); f != nil {
				(*f)(k)
			}
		}
		c.lastU[k] = ev.U
	}
}

// count returns the messages seen for key.
func (c *collector) count(key string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.byTopic[key]
}

// snaps returns the book snapshots seen for key.
func (c *collector) snaps(key string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.snapshots[key]
}

// gap returns the u gaps seen for key, and the last u.
func (c *collector) gap(key string) (int, int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gaps[key], c.lastU[key]
}

// eventually polls cond every 10 ms until it holds or limit passes; it
// reports whether it held. Bounded in time and count.
func eventually(limit time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if cond() {
			return true
		}
		time.Sleep(10 * time.Millisecond)
	}
	return cond()
}

// waitFor fails the test if cond does not hold within limit.
func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	if !eventually(limit, cond) {
		t.Fatalf("%s: did not happen within %v", what, limit)
	}
}

// testSymbols registers names with the default scales.
func testSymbols(t testing.TB, names ...string) *parse.Symbols {
	t.Helper()
	syms := parse.NewSymbols()
	for _, n := range names {
		if _, err := syms.Add(n, parse.DefaultPriceScale, parse.DefaultSizeScale); err != nil {
			t.Fatalf("Add(%q): %v", n, err)
		}
	}
	return syms
}

// allocFrames are data messages in Bybit's shapes, one per kind.
var allocFrames = []struct {
	name, frame string
}{
	{"book_delta", `{"topic":"orderbook.50.BTCUSDT","type":"delta","ts":1700000000123,"data":{"s":"BTCUSDT","b":[["65000.10","1.204"],["64999.90","0"]],"a":[["65000.20","3.917"],["65000.40","0.012"]],"u":1001,"seq":431890771234},"cts":1700000000120}`},
	{"book_snapshot", `{"topic":"orderbook.50.BTCUSDT","type":"snapshot","ts":1700000000123,"data":{"s":"BTCUSDT","b":[["65000.10","1.204"]],"a":[["65000.20","3.917"]],"u":1,"seq":431890771234},"cts":1700000000120}`},
	{"trade", `{"topic":"publicTrade.BTCUSDT","type":"snapshot","ts":1700000000123,"data":[{"T":1700000000121,"s":"BTCUSDT","S":"Buy","v":"0.020","p":"65000.10","L":"ZeroPlusTick","i":"2a74ac78-691c-5b54-9dbe-5aafe8364627","BT":false,"RPI":false,"seq":457514743450}]}`},
	{"ticker", `{"topic":"tickers.BTCUSDT","type":"delta","data":{"symbol":"BTCUSDT","bid1Price":"65000.10","bid1Size":"1.2"},"cs":176530004279,"ts":1700000000123}`},
	{"kline", `{"topic":"kline.1.BTCUSDT","data":[{"start":1700000000000,"end":1700000059999,"interval":"1","open":"65000","close":"65010.5","high":"65020","low":"64990","volume":"12.5","turnover":"812500.25","confirm":false,"timestamp":1700000000123}],"ts":1700000000123,"type":"snapshot"}`},
}
