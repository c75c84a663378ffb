package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestOutageAttribution(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	r := &runner{
		faults: []*faultRec{
			{id: 0, kind: "drop-after", kills: true, rfConn: 0, at: at(10)},
			{id: 1, kind: "oversize", kills: true, rfConn: 0, at: at(20)},
			{id: 2, kind: "stall", mayKill: true, rfConn: 1, at: at(30)},
			{id: 3, kind: "garbage", rfConn: 2, at: at(40)},
		},
		outages: []outage{
			{conn: 0, start: at(12), end: at(13), attempts: 1}, // drop-after
			{conn: 0, start: at(21), end: at(25), attempts: 3}, // oversize, the nearest
			{conn: 1, start: at(41), end: at(42), attempts: 1}, // stall's pong timeout
			{conn: 2, start: at(41), end: at(42), attempts: 1}, // garbage kills nothing
			{conn: 0, start: at(200), end: at(201), attempts: 1},
		},
	}
	for _, c := range []struct {
		kind string
		want int
	}{{"drop-after", 1}, {"oversize", 1}, {"stall", 1}, {"garbage", 0}} {
		if got := len(r.outagesAfter(c.kind)); got != c.want {
			t.Errorf("outagesAfter(%q): got %d; want %d", c.kind, got, c.want)
		}
	}
	for i, want := range []bool{true, true, true, false, false} {
		if got := r.explained(r.outages[i]); got != want {
			t.Errorf("explained(outage %d): got %v; want %v", i, got, want)
		}
	}
}

func TestIsolate(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	r := &runner{faults: []*faultRec{
		{kind: "a", at: at(0), closed: at(2)},
		{kind: "b", at: at(1), closed: at(3)},
		{kind: "c", at: at(5), closed: at(6)},
		{kind: "d", at: at(5), skipped: "no target"},
	}}
	r.isolate()
	for i, want := range []bool{false, false, true, false} {
		if r.faults[i].isolated != want {
			t.Errorf("fault %s: got isolated=%v; want %v", r.faults[i].kind, r.faults[i].isolated, want)
		}
	}
}

func TestResultPrint(t *testing.T) {
	res := &Result{Header: "h"}
	res.add(check{name: "a", value: "1", bound: "= 1"})
	res.add(check{name: "b", value: "x", info: true})
	if res.Failed() {
		t.Fatal("Failed: got true with no failing line; want false")
	}
	res.add(check{name: "c", value: "2", bound: "= 0", fail: true})
	if !res.Failed() {
		t.Fatal("Failed: got false with a failing line; want true")
	}
	res.Rows = []behaviour{{kind: "stall", does: "d", metric: "m", injected: 2, isolated: 1, outcome: "o"}}
	var b bytes.Buffer
	res.Print(&b)
	out := b.String()
	for _, want := range []string{"CHECK", "ok", "info", "FAIL", "stall", "2/1"} {
		if !strings.Contains(out, want) {
			t.Errorf("Print: output lacks %q:\n%s", want, out)
		}
	}
	b.Reset()
	res.Markdown(&b, "make soak")
	if md := b.String(); !strings.Contains(md, "| stall | d | m | 2 / 1: o |") || !strings.Contains(md, "`make soak`") {
		t.Errorf("Markdown: got\n%s", md)
	}
}

func TestPct(t *testing.T) {
	ds := []time.Duration{5, 1, 3, 2, 4}
	for _, c := range []struct {
		p    int
		want time.Duration
	}{{0, 1}, {50, 3}, {100, 5}} {
		if got := pctRaw(ds, c.p); got != c.want {
			t.Errorf("pctRaw(%d): got %v; want %v", c.p, got, c.want)
		}
	}
	if got := pct(nil, 50); got != 0 {
		t.Errorf("pct(nil): got %v; want 0", got)
	}
}
