package main

import (
	"strconv"
	"testing"
	"time"
)

func TestBackoffMax(t *testing.T) {
	for _, c := range []struct {
		n    int
		want time.Duration
	}{
		{0, 500 * time.Millisecond}, {1, time.Second}, {5, 16 * time.Second}, {6, 30 * time.Second}, {100, 30 * time.Second},
	} {
		if got := backoffMax(c.n); got != c.want {
			t.Errorf("backoffMax(%d): got %v; want %v", c.n, got, c.want)
		}
	}
}

func TestOutageBoundAndLimit(t *testing.T) {
	if got, want := outageBound(0, 1, 0), 500*time.Millisecond+perAttempt; got != want {
		t.Errorf("outageBound(0, 1): got %v; want %v", got, want)
	}
	if got, want := outageBound(2, 3, time.Second), (2+4+8)*time.Second+3*perAttempt+time.Second; got != want {
		t.Errorf("outageBound(2, 3): got %v; want %v", got, want)
	}
	if got := attemptLimit(0); got != limiterBurst {
		t.Errorf("attemptLimit(0): got %d; want %d", got, limiterBurst)
	}
	if got := attemptLimit(2*limiterEvery + limiterEvery/2); got != limiterBurst+3 {
		t.Errorf("attemptLimit(2.5 periods): got %d; want %d", got, limiterBurst+3)
	}
}

// connSamples is one scrape of a single connection's gauges.
func connSamples(up bool, ok, att int) samples {
	u := 0.0
	if up {
		u = 1
	}
	return samples{
		`ringfeed_connection_up{conn="0",category="linear"}`:                   u,
		`ringfeed_connects_total{conn="0",category="linear",result="ok"}`:      float64(ok),
		`ringfeed_reconnect_attempts_total{conn="0",category="linear"}`:        float64(att),
		`ringfeed_connects_total{conn="0",category="linear",result="refused"}`: 0,
	}
}

func TestTrackConns(t *testing.T) {
	poll := 100 * time.Millisecond
	t0 := time.Unix(1000, 0)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	type step struct {
		ms      int
		up      bool
		ok, att int
	}
	for _, c := range []struct {
		name  string
		steps []step
		want  []outage // conn, attempts, exp, start, end compared
	}{
		{"first connection is no outage", []step{{0, false, 0, 0}, {100, true, 1, 0}, {200, true, 1, 0}}, nil},
		{"seen down, two attempts", []step{{0, true, 1, 0}, {40000, true, 1, 0}, {40100, false, 1, 1}, {40200, false, 1, 1}, {40300, true, 2, 2}},
			[]outage{{attempts: 2, exp: 0, start: at(40000), end: at(40300)}}},
		{"down and up between polls", []step{{0, true, 1, 0}, {100, true, 1, 0}, {200, true, 2, 1}},
			[]outage{{attempts: 1, exp: 0, start: at(100), end: at(200)}}},
		{"unhealthy connection keeps the exponent", []step{{0, true, 1, 0}, {100, true, 2, 1}, {200, true, 2, 1}, {300, true, 3, 3}},
			[]outage{{attempts: 1, exp: 0, start: at(0), end: at(100)}, {attempts: 2, exp: 1, start: at(200), end: at(300)}}},
		{"healthy connection resets it", []step{{0, true, 1, 0}, {100, true, 2, 1}, {40000, true, 2, 1}, {40100, true, 3, 2}},
			[]outage{{attempts: 1, exp: 0, start: at(0), end: at(100)}, {attempts: 1, exp: 0, start: at(40000), end: at(40100)}}},
	} {
		cs := []*connTrack{{}}
		var got []outage
		prev := at(c.steps[0].ms)
		for _, s := range c.steps {
			got = append(got, trackConns(cs, connSamples(s.up, s.ok, s.att), prev, at(s.ms), poll)...)
			prev = at(s.ms)
		}
		if len(got) != len(c.want) {
			t.Errorf("%s: got %d outages; want %d (%+v)", c.name, len(got), len(c.want), got)
			continue
		}
		for i, w := range c.want {
			g := got[i]
			if g.attempts != w.attempts || g.exp != w.exp || !g.start.Equal(w.start) || !g.end.Equal(w.end) {
				t.Errorf("%s: outage %d: got attempts %d exp %d %v..%v; want %d %d %v..%v", c.name, i,
					g.attempts, g.exp, g.start.Sub(t0), g.end.Sub(t0), w.attempts, w.exp, w.start.Sub(t0), w.end.Sub(t0))
			}
			if g.bound != outageBound(g.exp, g.attempts, 2*poll+500*time.Millisecond) {
				t.Errorf("%s: outage %d: bound %v does not follow the schedule", c.name, i, g.bound)
			}
		}
	}
}

func TestNewSegment(t *testing.T) {
	mk := func(ms int, sent, recv, applied, dropped float64) checkpoint {
		return checkpoint{t: time.UnixMilli(int64(ms)), sent: map[string]float64{"book": sent, "trade": 10},
			recv: map[string]float64{"book": recv, "trade": 10}, applied: applied, dropped: dropped}
	}
	s := newSegment(mk(0, 100, 100, 110, 0), mk(1000, 250, 240, 240, 5), true, nil)
	if s.sent != 150 || s.lost != 20 || s.lostBy["book"] != 10 || s.lostBy["trade"] != 0 || s.ringLost != 5 {
		t.Errorf("got sent %v lost %v by %v ring %v; want 150 20 book 10 trade 0 ring 5", s.sent, s.lost, s.lostBy, s.ringLost)
	}
}

func TestLineWriter(t *testing.T) {
	var lines []string
	w := &lineWriter{line: func(b []byte) { lines = append(lines, string(b)) }}
	for _, p := range []string{"a", "b\nc", "\n\nd\n", "tail"} {
		if n, err := w.Write([]byte(p)); n != len(p) || err != nil {
			t.Fatalf("Write(%q): got %d, %v", p, n, err)
		}
	}
	want := []string{"ab", "c", "", "d"}
	if strconv.Quote(fmtLines(lines)) != strconv.Quote(fmtLines(want)) {
		t.Errorf("got lines %q; want %q", lines, want)
	}
}

func fmtLines(l []string) string {
	s := ""
	for _, x := range l {
		s += x + "|"
	}
	return s
}
