//go:build !race

package wsconn

import (
	"bufio"
	"net"
	"net/http"
	"testing"
)

// The race detector allocates, so these gates run only without it (the
// Makefile's norace target: -run 'Alloc|NoRace').

func TestReadMessageAlloc(t *testing.T) {
	small := tradeJSON(300)
	large := bookJSON(40000)
	tests := []struct {
		name    string
		bufSize int
		stream  []byte
	}{
		{name: "small in place", stream: frame(true, opText, small)},
		{name: "large in place", stream: frame(true, opText, large)},
		{name: "binary", stream: frame(true, opBinary, small)},
		{
			name: "fragmented with ping",
			stream: join(
				frame(false, opText, small[:100]),
				frame(true, opPing, []byte("1727262700042")),
				frame(true, opContinuation, small[100:]),
			),
		},
		{name: "larger than the buffer", bufSize: 4096, stream: frame(true, opText, large)},
		{name: "buffer-sized frames that straddle reads", bufSize: MinReadBufferSize, stream: frame(true, opText, small)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := memTest(t, &replay{stream: tt.stream}, nil, Options{ReadBufferSize: tt.bufSize, IdleTimeout: 1e9})
			for range 10 { // warm up: grow the assembly buffer
				if _, err := c.ReadMessage(); err != nil {
					t.Fatalf("ReadMessage: %v", err)
				}
			}
			allocs := testing.AllocsPerRun(1000, func() {
				if _, err := c.ReadMessage(); err != nil {
					t.Fatalf("ReadMessage: %v", err)
				}
			})
			if allocs != 0 {
				t.Errorf("got %v allocs per message; want 0", allocs)
			}
		})
	}
}

func TestReadMessageTCPAlloc(t *testing.T) {
	const runs = 1000
	msg := frame(true, opText, tradeJSON(300))
	var stream []byte
	for range runs + 100 {
		stream = append(stream, msg...)
	}
	url, wait := startRaw(t, func(conn net.Conn, br *bufio.Reader, _ *http.Request, resp []byte) error {
		if _, err := conn.Write(join(resp, stream)); err != nil {
			return err
		}
		return drain(br)
	})
	c := dialTest(t, url, Options{IdleTimeout: testTimeout})
	for range 10 {
		if _, err := c.ReadMessage(); err != nil {
			t.Fatalf("ReadMessage: %v", err)
		}
	}
	allocs := testing.AllocsPerRun(runs, func() {
		if _, err := c.ReadMessage(); err != nil {
			t.Fatalf("ReadMessage: %v", err)
		}
	})
	if allocs != 0 {
		t.Errorf("got %v allocs per message over TCP; want 0", allocs)
	}
	// The idle deadline is pushed rarely, but it must not allocate either.
	allocs = testing.AllocsPerRun(100, func() { c.pushDeadline(Nanotime()) })
	if allocs != 0 {
		t.Errorf("got %v allocs per read-deadline push; want 0", allocs)
	}
	c.Close(CloseNormal, "")
	if err := wait(); err != nil {
		t.Errorf("server: %v", err)
	}
}

func TestWriteTextAlloc(t *testing.T) {
	c, _ := memTest(t, &replay{stream: text("x")}, nil, Options{})
	p := []byte(`{"op":"ping","req_id":"hb-42"}`)
	allocs := testing.AllocsPerRun(1000, func() {
		if err := c.WriteText(p); err != nil {
			t.Fatalf("WriteText: %v", err)
		}
	})
	if allocs != 0 {
		t.Errorf("got %v allocs per WriteText; want 0", allocs)
	}
}

func TestStatsAlloc(t *testing.T) {
	c, _ := memTest(t, &replay{stream: text("x")}, nil, Options{})
	var st Stats
	allocs := testing.AllocsPerRun(1000, func() { st = c.Stats() })
	if allocs != 0 {
		t.Errorf("got %v allocs per Stats; want 0 (%d)", allocs, st.Messages)
	}
}

func TestNanotimeAlloc(t *testing.T) {
	var sink int64
	allocs := testing.AllocsPerRun(1000, func() { sink += Nanotime() })
	if allocs != 0 {
		t.Errorf("got %v allocs per Nanotime; want 0 (%d)", allocs, sink)
	}
}
