package ringfeed

import (
	"bytes"
	"net/http"
	"testing"
	"time"

	"github.com/ringfeed/ringfeed/book"
	"github.com/ringfeed/ringfeed/net/bybitsim"
)

// staleTotal sums the live → stale transitions of every reason.
func (h *harness) staleTotal() uint64 {
	var n uint64
	for r := range book.NumReasons {
		n += h.e.m.staleBy(book.Reason(r)).Get()
	}
	return n
}

// A duplicate delta from the exchange is dropped and counted; the book
// stays live and no resync is asked for (issue 14 items 9 and 15).
func TestDuplicateDeltaDroppedNotResynced(t *testing.T) {
	h := startHarness(t, bybitsim.Config{Seed: 21}, Config{Symbols: []string{"BTCUSDT"}, Topics: []string{"orderbook.50"}})
	waitFor(t, 15*time.Second, "a live book", func() bool { return h.get("/healthz", nil) == http.StatusOK })
	stale0, resyncs0 := h.staleTotal(), h.e.conns[0].sess.Stats().Resyncs
	if err := h.sim.DuplicateDelta("linear", "orderbook.50.BTCUSDT"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 15*time.Second, "the duplicate counted", func() bool { return h.e.anom[anomDuplicate].Get() > 0 })
	h.quiesce("linear", 50)
	h.compareBooks("linear", 50)
	if got := h.staleTotal() - stale0; got != 0 {
		t.Errorf("books gone stale after the duplicate: got %d; want 0", got)
	}
	if got := h.e.conns[0].sess.Stats().Resyncs - resyncs0; got != 0 {
		t.Errorf("resyncs after the duplicate: got %d; want 0", got)
	}
}

// A restart (u == 1) is counted, the instrument re-read through REST, and
// the book carries on from the new snapshot; a crossed delta is counted
// under its own label.
func TestBookAnomaliesCounted(t *testing.T) {
	h := startHarness(t, bybitsim.Config{Seed: 22}, Config{Symbols: []string{"BTCUSDT", "ETHUSDT"}, Topics: []string{"orderbook.50"}})
	waitFor(t, 15*time.Second, "live books", func() bool { return h.get("/healthz", nil) == http.StatusOK })
	if err := h.sim.Restart("linear", "orderbook.50.BTCUSDT"); err != nil {
		t.Fatal(err)
	}
	if err := h.sim.CrossDelta("linear", "orderbook.50.ETHUSDT"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 15*time.Second, "the restart counted", func() bool { return h.e.anom[anomRestart].Get() > 0 })
	waitFor(t, 15*time.Second, "the instrument re-read", func() bool { return h.e.refill.m.instrumentReloads.Get() > 0 })
	waitFor(t, 15*time.Second, "the cross counted", func() bool { return h.e.anom[anomCrossed].Get() > 0 })
	if got := h.e.refill.m.scaleChanges.Get(); got != 0 {
		t.Errorf("scale changes: got %d; want 0 (the simulator's tick did not change)", got)
	}
	h.quiesce("linear", 50)
	h.compareBooks("linear", 50)
	var body bytes.Buffer
	h.e.set.WritePrometheus(&body)
	for _, r := range anomalyNames {
		if !bytes.Contains(body.Bytes(), []byte(`ringfeed_book_anomalies_total{reason="`+r+`"}`)) {
			t.Errorf("/metrics lacks ringfeed_book_anomalies_total{reason=%q}", r)
		}
	}
}
