package client

import (
	"encoding/json"
	"reflect"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/valyala/fastjson"

	"github.com/ringfeed/ringfeed/net/publish"
)

func startServer(t *testing.T) *nats.Conn {
	t.Helper()
	ns, err := publish.Embedded{StoreDir: t.TempDir()}.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ns.Shutdown(); ns.WaitForShutdown() })
	nc, err := nats.Connect(ns.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after 10s waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A replica follows snapshot + deltas, trims to its depth as the engine's
// capped book does, stops on a jump in n, asks the engine for a snapshot,
// and resumes from the snapshot that comes.
func TestBookReplicaGapAndTrim(t *testing.T) {
	nc := startServer(t)
	c, err := New(nc, "linear")
	if err != nil {
		t.Fatal(err)
	}
	var requests atomic.Int32
	if _, err := nc.Subscribe(publish.SnapshotRequestSubject("linear", "BTCUSDT", 2), func(*nats.Msg) { requests.Add(1) }); err != nil {
		t.Fatal(err)
	}
	b, err := c.SubscribeBook("BTCUSDT", 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	subj := publish.BookSubject("linear", "BTCUSDT", 2)
	send := func(m publish.BookMsg) {
		t.Helper()
		m.Symbol, m.Depth = "BTCUSDT", 2
		data, _ := json.Marshal(m)
		if err := nc.Publish(subj, data); err != nil {
			t.Fatal(err)
		}
		if err := nc.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	waitUntil(t, "the replica to ask for a snapshot (none stored)", func() bool { return requests.Load() > 0 })
	send(publish.BookMsg{Type: publish.TypeSnapshot, N: 1, U: 10, PriceScale: 2, SizeScale: 3,
		Bids: [][2]string{{"100.5", "1"}, {"100.4", "2"}}, Asks: [][2]string{{"100.6", "1.5"}}})
	waitUntil(t, "live", b.Live)
	// A better bid pushes the worst out of the 2-level window.
	send(publish.BookMsg{Type: publish.TypeDelta, N: 2, U: 11, Bids: [][2]string{{"100.55", "3"}}, Asks: [][2]string{{"100.6", "0"}, {"100.7", "4"}}})
	waitUntil(t, "n=2", func() bool { return b.N() == 2 })
	want := BookView{Category: "linear", Symbol: "BTCUSDT", Depth: 2, U: 11, Bids: [][2]string{{"100.55", "3"}, {"100.5", "1"}}, Asks: [][2]string{{"100.7", "4"}}}
	if got := b.View(0); !reflect.DeepEqual(got, want) {
		t.Fatalf("after trim: got %+v; want %+v", got, want)
	}
	before := requests.Load()
	send(publish.BookMsg{Type: publish.TypeDelta, N: 4, U: 13, Bids: [][2]string{{"100.1", "1"}}})
	waitUntil(t, "the gap to be seen", func() bool { return b.Stats().Gaps == 1 })
	if b.Live() || !b.View(0).Stale {
		t.Error("replica served as live after a gap")
	}
	waitUntil(t, "a snapshot request after the gap", func() bool { return requests.Load() > before })
	send(publish.BookMsg{Type: publish.TypeDelta, N: 5, U: 14, Bids: [][2]string{{"100.2", "1"}}})
	send(publish.BookMsg{Type: publish.TypeSnapshot, N: 5, U: 14, PriceScale: 2, SizeScale: 3,
		Bids: [][2]string{{"99", "1"}}, Asks: [][2]string{{"101", "1"}}})
	send(publish.BookMsg{Type: publish.TypeDelta, N: 6, U: 15, Asks: [][2]string{{"101", "2.25"}}})
	waitUntil(t, "resynced at n=6", func() bool { return b.N() == 6 && b.Live() })
	want = BookView{Category: "linear", Symbol: "BTCUSDT", Depth: 2, U: 15, Bids: [][2]string{{"99", "1"}}, Asks: [][2]string{{"101", "2.25"}}}
	if got := b.View(0); !reflect.DeepEqual(got, want) {
		t.Fatalf("after resync: got %+v; want %+v", got, want)
	}
	send(publish.BookMsg{Type: publish.TypeStale, N: 7, U: 15, Reason: "gap"})
	waitUntil(t, "stale", func() bool { return !b.Live() })
	if v := b.View(0); !v.Stale || v.Reason != "gap" {
		t.Errorf("after a stale notice: %+v; want stale, reason gap", v)
	}
}

var sampleBook = []byte(`{"type":"delta","symbol":"BTCUSDT","depth":50,"n":1234,"u":998877,"seq":5566,"ts":1733400000123,"cts":1733400000120,"recv":1733400000123456789,"bids":[["65000.1","1.25"],["64999.9","0"]],"asks":[["65000.2","0.5"],["65000.3","2"],["65001","7.125"]]}`)

func TestDecodeBookMatchesEncodingJSON(t *testing.T) {
	msgs := [][]byte{
		sampleBook,
		[]byte(`{"type":"snapshot","symbol":"X","depth":1,"n":1,"u":1,"seq":0,"ts":5,"ps":8,"ss":3,"bids":[],"asks":[["1","2"]]}`),
		[]byte(`{"type":"stale","symbol":"X","depth":1,"n":2,"u":1,"seq":0,"ts":5,"reason":"crossed"}`),
	}
	var p fastjson.Parser
	var got publish.BookMsg
	for _, m := range msgs {
		var want publish.BookMsg
		if err := json.Unmarshal(m, &want); err != nil {
			t.Fatal(err)
		}
		if err := decodeBook(&p, m, &got); err != nil {
			t.Fatalf("decodeBook(%s): %v", m, err)
		}
		g := got
		if len(g.Bids) == 0 {
			g.Bids = want.Bids
		}
		if len(g.Asks) == 0 {
			g.Asks = want.Asks
		}
		if !reflect.DeepEqual(g, want) {
			t.Errorf("decodeBook(%s) = %+v; want %+v", m, g, want)
		}
	}
	for _, bad := range []string{`{`, `[]`, `{"type":"delta","bids":[["1"]]}`, `{"type":"delta","asks":[[1,2]]}`, `{"n":1}`} {
		if err := decodeBook(&p, []byte(bad), &got); err == nil {
			t.Errorf("decodeBook(%s): no error", bad)
		}
	}
}

func BenchmarkDecodeBook(b *testing.B) {
	b.Run("fastjson", func(b *testing.B) {
		var p fastjson.Parser
		var m publish.BookMsg
		b.SetBytes(int64(len(sampleBook)))
		b.ReportAllocs()
		for b.Loop() {
			if err := decodeBook(&p, sampleBook, &m); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding_json", func(b *testing.B) {
		b.SetBytes(int64(len(sampleBook)))
		b.ReportAllocs()
		for b.Loop() {
			var m publish.BookMsg
			if err := json.Unmarshal(sampleBook, &m); err != nil {
				b.Fatal(err)
			}
		}
	})
}
