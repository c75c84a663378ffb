package main

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ringfeed/ringfeed/net/bybitsim"
)

func TestFaultKinds(t *testing.T) {
	ks := faultKinds()
	if len(ks) < 17 {
		t.Fatalf("got %d fault kinds; want at least the 17 the simulator documents", len(ks))
	}
	for _, k := range ks {
		if _, ok := bybitsim.ParseFaultKind(k.String()); !ok {
			t.Errorf("kind %d: %q does not parse back", k, k)
		}
		if _, ok := behaviours[k.String()]; !ok {
			t.Errorf("kind %q has no failure-behaviour text", k)
		}
	}
}

func TestPlan(t *testing.T) {
	from, to := 5*time.Second, 65*time.Second
	a := plan(7, 0.5, from, to)
	b := plan(7, 0.5, from, to)
	if !slices.Equal(a, b) {
		t.Fatal("plan(7) twice: got different schedules; want the same")
	}
	if c := plan(8, 0.5, from, to); slices.Equal(a, c) {
		t.Error("plan(7) and plan(8): got the same schedule; want different")
	}
	// Gaps in [0.5, 1.5)/rate: 60 s at 0.5/s gives 20..60 faults.
	if n := len(a); n < 20 || n > 60 {
		t.Errorf("got %d faults in 60 s at 0.5/s; want 20..60", n)
	}
	for i, p := range a {
		if p.at < from || p.at >= to {
			t.Errorf("fault %d at %v: want within [%v, %v)", i, p.at, from, to)
		}
		if i > 0 && p.at <= a[i-1].at {
			t.Errorf("fault %d at %v: not after %v", i, p.at, a[i-1].at)
		}
	}
	// The first round holds every kind once.
	kinds := faultKinds()
	seen := map[bybitsim.FaultKind]bool{}
	for _, p := range a[:len(kinds)] {
		seen[p.kind] = true
	}
	if len(seen) != len(kinds) {
		t.Errorf("first round: got %d distinct kinds; want %d", len(seen), len(kinds))
	}
}

func TestBuild(t *testing.T) {
	conns := []bybitsim.ConnInfo{
		{ID: "c0", Category: "linear", Topics: []string{"orderbook.1.BTCUSDT", "orderbook.50.BTCUSDT", "publicTrade.BTCUSDT", "tickers.BTCUSDT"}},
		{ID: "c1", Category: "linear", Topics: []string{"orderbook.1.ETHUSDT", "orderbook.200.ETHUSDT", "kline.1.ETHUSDT"}},
	}
	const maxMsg = 1 << 20
	for i := range 2000 {
		p := plan(uint64(i), 1, 0, 40*time.Second)[i%17]
		f, kills, why := build(p, conns, maxMsg)
		if why != "" {
			t.Fatalf("%v: skipped (%s) with targets available", p.kind, why)
		}
		if _, err := bybitsim.ParseFault(f.String()); err != nil {
			t.Fatalf("%v: built %q does not parse: %v", p.kind, f, err)
		}
		switch p.kind {
		case bybitsim.FaultSkipDelta, bybitsim.FaultRestart, bybitsim.FaultCrossDelta, bybitsim.FaultSilence,
			bybitsim.FaultSplitTrades, bybitsim.FaultRejectTopic, bybitsim.FaultDuplicateDelta, bybitsim.FaultMute:
			// Stream faults name a category and topic (the simulator
			// refuses them otherwise: "unknown category").
			if f.Topic == "" || f.Category == "" || f.Conn != "" {
				t.Errorf("%v: built %q; want a stream fault (category and topic, no connection)", p.kind, f)
			}
		}
		switch p.kind {
		case bybitsim.FaultSkipDelta, bybitsim.FaultCrossDelta, bybitsim.FaultDuplicateDelta:
			if !strings.HasPrefix(f.Topic, "orderbook.") || strings.HasPrefix(f.Topic, "orderbook.1.") {
				t.Errorf("%v on %q: want a book topic with deltas", p.kind, f.Topic)
			}
		case bybitsim.FaultSplitTrades:
			if !strings.HasPrefix(f.Topic, "publicTrade.") {
				t.Errorf("%v on %q: want a trade topic", p.kind, f.Topic)
			}
		case bybitsim.FaultOversize:
			if kills != (f.Size > maxMsg) {
				t.Errorf("oversize %d: got kills=%v; want %v", f.Size, kills, f.Size > maxMsg)
			}
		case bybitsim.FaultDropMessages, bybitsim.FaultDropAfter:
			if !kills || f.Conn == "" {
				t.Errorf("%v: got kills=%v conn=%q; want a kill of one connection", p.kind, kills, f.Conn)
			}
		case bybitsim.FaultStall:
			if f.D < 100*time.Millisecond || f.D > 3*time.Second {
				t.Errorf("stall %v: want 100ms..3s", f.D)
			}
		}
		switch p.kind {
		case bybitsim.FaultOversize, bybitsim.FaultDropMessages, bybitsim.FaultDropAfter, bybitsim.FaultDelayHandshake:
		default:
			if kills {
				t.Fatalf("%v: got kills; want only drops, oversize and the drop that provokes a delayed handshake", p.kind)
			}
		}
	}
	// Nothing connected: connection and stream faults have no target;
	// refusals need none (a delay needs a connection to drop).
	for _, k := range faultKinds() {
		_, _, why := build(planned{kind: k}, nil, maxMsg)
		needsNone := k == bybitsim.FaultRefuseHandshake
		if (why == "") != needsNone {
			t.Errorf("%v with no connections: got skip reason %q; want skipped=%v", k, why, !needsNone)
		}
	}
}
