package main

import (
	"bufio"
	"context"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

func TestBadFlags(t *testing.T) {
	cases := []struct{ args, flag string }{
		{"--rate fast", "--rate"},
		{"--faults 7", "--faults"},
		{"--time-scale 0", "--time-scale"},
		{"--queue 10", "--queue"},
		{"--symbols -1", "--symbols"},
		{"--fault nope", "-fault"},
		{"--fault stall,d=1s,every=x", "-fault"},
		{"--duration -1s", "--duration"},
		{"extra", "unexpected"},
	}
	for _, c := range cases {
		var out, errb strings.Builder
		code := run(context.Background(), strings.Fields(c.args), &out, &errb)
		if code != 2 || !strings.Contains(errb.String(), c.flag) {
			t.Fatalf("%s: exit %d, stderr %q; want 2 and a message naming %s", c.args, code, errb.String(), c.flag)
		}
	}
}

// syncBuf is a goroutine-safe writer whose lines a test can read.
type syncBuf struct {
	mu sync.Mutex
	pw *io.PipeWriter
}

func (b *syncBuf) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.pw.Write(p)
}

// TestRunServes starts the command, dials the printed address, receives
// data, then stops it by cancelling (as SIGINT does) and reads the counters.
func TestRunServes(t *testing.T) {
	pr, pw := io.Pipe()
	out := &syncBuf{pw: pw}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	code := make(chan int, 1)
	go func() {
		code <- run(ctx, []string{"--seed", "3", "--symbols", "2", "--stats", "50ms",
			"--fault", "server-ping,d=20ms,at=10ms", "--fault", "skip-delta,cat=linear,topic=orderbook.50.S0001USDT,every=30ms"}, out, io.Discard)
		_ = pw.Close()
	}()
	sc := bufio.NewScanner(pr)
	if !sc.Scan() || !strings.HasPrefix(sc.Text(), "bybitsim listening on 127.0.0.1:") {
		t.Fatalf("first line %q", sc.Text())
	}
	addr := strings.TrimPrefix(sc.Text(), "bybitsim listening on ")
	lines := make(chan string, 1024)
	go func() {
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			default:
			}
		}
		close(lines)
	}()
	dctx, dcancel := context.WithTimeout(ctx, 5*time.Second)
	defer dcancel()
	c, _, err := websocket.Dial(dctx, "ws://"+addr+"/v5/public/linear", nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer c.CloseNow()
	_ = c.Write(dctx, websocket.MessageText, []byte(`{"op":"subscribe","args":["orderbook.50.S0001USDT"]}`))
	for i := range 5 {
		_, p, err := c.Read(dctx)
		if err != nil {
			t.Fatalf("read %d: %v", i, err)
		}
		if i > 0 && !strings.Contains(string(p), `"topic":"orderbook.50.S0001USDT"`) {
			t.Fatalf("message %d: %s", i, p)
		}
	}
	cancel()
	select {
	case got := <-code:
		if got != 0 {
			t.Fatalf("exit %d; want 0", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("did not stop after cancel")
	}
	var all []string
	for l := range lines {
		all = append(all, l)
	}
	text := strings.Join(all, "\n")
	if !strings.Contains(text, "linear.orderbook") || !strings.Contains(text, "stats: conns 1") {
		t.Fatalf("output:\n%s", text)
	}
}

func TestDuration(t *testing.T) {
	var out strings.Builder
	start := time.Now()
	code := run(context.Background(), []string{"--duration", "100ms"}, &out, io.Discard)
	if code != 0 || time.Since(start) < 100*time.Millisecond || !strings.Contains(out.String(), "stats:") {
		t.Fatalf("exit %d after %v, output %q", code, time.Since(start), out.String())
	}
}
