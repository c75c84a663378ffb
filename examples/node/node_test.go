// Package node holds a Node.js consumer of ringfeed's NATS fan-out
// (replica.mjs); this test runs it against a real engine and nats-server.
package node

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/ringfeed/ringfeed"
	"github.com/ringfeed/ringfeed/net/bybitsim"
	"github.com/ringfeed/ringfeed/net/publish"
)

// The Node replica, synced from JetStream and the live subject, prints
// exactly the engine's /v1/book answer once the feed is paused.
func TestNodeReplicaEqualsEngine(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not installed")
	}
	if _, err := os.Stat("node_modules/nats"); err != nil {
		t.Skip("npm package nats not installed here (run npm install in examples/node)")
	}
	ns, err := publish.Embedded{StoreDir: t.TempDir()}.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { ns.Shutdown(); ns.WaitForShutdown() }()
	sim, err := bybitsim.Start(bybitsim.Config{Seed: 31, TimeScale: 60})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	e, err := ringfeed.New(ringfeed.Config{
		Category: ringfeed.Linear, Symbols: []string{"BTCUSDT"}, Topics: []string{"orderbook.50"},
		WSURL: sim.URL("linear"), RESTURL: sim.RESTURL(), Admin: "off",
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
		Publish: ringfeed.PublishConfig{URL: ns.ClientURL()},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	select {
	case <-e.Ready():
	case err := <-done:
		t.Fatalf("Run: %v", err)
	}
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	book := func() ringfeed.BookView {
		qctx, qcancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer qcancel()
		v, err := e.Book(qctx, "BTCUSDT", 50, 0)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	// Let the feed run, then pause it and wait for the engine to catch up.
	deadline := time.Now().Add(20 * time.Second)
	for e.Stats().Messages < 300 || book().Stale {
		if time.Now().After(deadline) {
			t.Fatal("engine not live with 300 messages after 20s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	sim.Pause()
	for {
		want, err := sim.Book("linear", "BTCUSDT", 50)
		if err == nil && book().U == want.U {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("engine did not catch up with the paused simulator")
		}
		time.Sleep(20 * time.Millisecond)
	}
	want := book()

	nctx, ncancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer ncancel()
	var out, errb bytes.Buffer
	cmd := exec.CommandContext(nctx, node, "replica.mjs", "--nats", ns.ClientURL(), "--once", "BTCUSDT")
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("node replica.mjs: %v\n%s", err, errb.String())
	}
	// Byte for byte: the same fields in the same order, the same decimal
	// strings.
	got := bytes.TrimSpace(out.Bytes())
	wj, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, wj) {
		i := 0
		for i < len(got) && i < len(wj) && got[i] == wj[i] {
			i++
		}
		t.Errorf("node replica differs from the engine's /v1/book JSON at byte %d:\nnode:   %.300s\nengine: %.300s", i, got[max(0, i-100):], wj[max(0, i-100):])
	}
	if len(want.Bids) == 0 || want.Stale {
		t.Errorf("engine book empty or stale: nothing was compared")
	}
}
