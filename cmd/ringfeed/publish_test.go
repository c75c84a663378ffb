package main

import (
	"bytes"
	"context"
	"encoding/json"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ringfeed/ringfeed/net/publish"
)

func TestPublishFlagsExit2NamingTheFlag(t *testing.T) {
	cases := []struct {
		args []string
		flag string
	}{
		{[]string{"--symbols", "BTCUSDT", "--publish", "http://127.0.0.1:4222"}, "--publish"},
		{[]string{"--symbols", "BTCUSDT", "--publish", "nats://:99999"}, "--publish"},
		{[]string{"--symbols", "BTCUSDT", "--publish", "embedded", "--nats-port", "70000"}, "--nats-port"},
		{[]string{"--symbols", "BTCUSDT", "--shard", "2/2"}, "shard"},
		{[]string{"--symbols", "BTCUSDT", "--publish", "nats://127.0.0.1:4222", "--publish-ring", "1000"}, "--publish-ring"},
		{[]string{"--symbols", "BTCUSDT", "--publish", "nats://127.0.0.1:4222", "--nats-creds", "/nonexistent/x.creds"}, "--nats-creds"},
		{[]string{"--symbols", "BTCUSDT", "--publish", "nats://127.0.0.1:4222", "--nats-ca", "/nonexistent/ca.pem"}, "--nats-ca"},
	}
	for _, c := range cases {
		code, _, stderr := runCLI(t, nil, c.args...)
		if code != 2 || !strings.Contains(stderr, c.flag) {
			t.Errorf("%v: exit %d, stderr %q; want 2 naming %s", c.args, code, stderr, c.flag)
		}
	}
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"tail", "--nats", "http://x", "ringfeed.>"}, nil, &out, &errb); code != 2 || !strings.Contains(errb.String(), "--nats") {
		t.Errorf("tail with a bad --nats: exit %d, stderr %q; want 2 naming --nats", code, errb.String())
	}
}

// ringfeed --sim --publish URL feeds NATS; `ringfeed tail` prints its
// subjects and, with --book --once --json, a replica in /v1/book's shape.
func TestTailPrintsPublishedFeed(t *testing.T) {
	ns, err := publish.Embedded{StoreDir: t.TempDir()}.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { ns.Shutdown(); ns.WaitForShutdown() }()
	url := ns.ClientURL()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		var out, errb bytes.Buffer
		done <- run(ctx, []string{"--sim", "--symbols", "BTCUSDT,ETHUSDT", "--topics", "orderbook.50,publicTrade",
			"--status", "0", "--log-level", "warn", "--admin", "off", "--publish", url}, nil, &out, &errb)
	}()
	defer func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("ringfeed exit %d", code)
		}
	}()
	tail := func(args ...string) string {
		t.Helper()
		var out, errb bytes.Buffer
		tctx, tcancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer tcancel()
		if code := run(tctx, append([]string{"tail", "--nats", url}, args...), nil, &out, &errb); code != 0 {
			t.Fatalf("tail %v: exit %d: %s", args, code, errb.String())
		}
		return out.String()
	}
	out := tail("--count", "5", "ringfeed.linear.book.50.*")
	if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 5 || !strings.HasPrefix(lines[0], "ringfeed.linear.book.50.") {
		t.Errorf("tail SUBJECT --count 5 printed:\n%s", out)
	}
	out = tail("--book", "BTCUSDT", "--once", "--json")
	var v map[string]any
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("tail --book --once --json: %v in %q", err, out)
	}
	var keys []string
	for k := range v {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	// The /v1/book shape: ringfeed.BookView's fields (cts only when Bybit sends it).
	if got := strings.Join(keys, ","); got != "asks,bids,category,depth,seq,stale,symbol,ts,u" && got != "asks,bids,category,cts,depth,seq,stale,symbol,ts,u" {
		t.Errorf("replica JSON keys %s; want /v1/book's", got)
	}
	if v["stale"] != false || v["symbol"] != "BTCUSDT" || v["depth"] != 50.0 || len(v["bids"].([]any)) == 0 {
		t.Errorf("replica: %.300s", out)
	}
}

// --publish embedded runs its own server (any free port here).
func TestPublishEmbedded(t *testing.T) {
	code, out, stderr := runCLI(t, nil, "--sim", "--duration", "2s", "--status", "0", "--symbols", "BTCUSDT",
		"--topics", "orderbook.50", "--log-level", "warn", "--admin", "off",
		"--publish", "embedded", "--nats-port", "0", "--nats-store", t.TempDir())
	if code != 0 || !strings.Contains(out, "stale_books=0/1") || !strings.Contains(out, "summary: nats category=linear published=") {
		t.Fatalf("exit %d; out %s; stderr %s", code, out, stderr)
	}
}
