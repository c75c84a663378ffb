package wsconn

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
)

type benchCase struct {
	name    string
	payload []byte
}

// ~300 B is a trade or ticker push; ~40 KB an orderbook.1000 snapshot.
func benchCases() []benchCase {
	return []benchCase{
		{name: "small", payload: tradeJSON(300)},
		{name: "large", payload: bookJSON(40000)},
	}
}

func reportMsgs(b *testing.B) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// readWsutil is the baseline: gobwas' streaming wsutil.Reader, reading each
// message into a reused buffer (no allocation either, but a copy).
func readWsutil(b *testing.B, src io.Reader, size int) {
	b.Helper()
	rd := wsutil.Reader{Source: src, State: ws.StateClientSide}
	scratch := make([]byte, size)
	b.SetBytes(int64(size))
	b.ReportAllocs()
	for b.Loop() {
		hdr, err := rd.NextFrame()
		if err != nil {
			b.Fatalf("NextFrame: %v", err)
		}
		if _, err := io.ReadFull(&rd, scratch[:hdr.Length]); err != nil {
			b.Fatalf("read payload: %v", err)
		}
	}
	reportMsgs(b)
}

func readWsconn(b *testing.B, c *Conn, size int) {
	b.Helper()
	b.SetBytes(int64(size))
	b.ReportAllocs()
	for b.Loop() {
		m, err := c.ReadMessage()
		if err != nil || len(m.Payload) != size {
			b.Fatalf("got %d bytes, %v; want %d", len(m.Payload), err, size)
		}
	}
	reportMsgs(b)
}

// BenchmarkReadMessage measures framing alone: the stream comes from memory,
// so no syscall hides the difference.
func BenchmarkReadMessage(b *testing.B) {
	for _, bc := range benchCases() {
		stream := frame(true, opText, bc.payload)
		b.Run(bc.name+"/wsconn", func(b *testing.B) {
			c, _ := memTest(b, &replay{stream: stream}, nil, Options{IdleTimeout: time.Minute})
			readWsconn(b, c, len(bc.payload))
		})
		b.Run(bc.name+"/wsutil.Reader", func(b *testing.B) {
			readWsutil(b, bufio.NewReaderSize(&replay{stream: stream}, DefaultReadBufferSize), len(bc.payload))
		})
		b.Run(bc.name+"/wsutil.ReadServerData", func(b *testing.B) {
			// The helper most gobwas users call: allocates per message.
			rw := &memConn{r: bufio.NewReaderSize(&replay{stream: stream}, DefaultReadBufferSize)}
			b.SetBytes(int64(len(bc.payload)))
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := wsutil.ReadServerData(rw); err != nil {
					b.Fatalf("ReadServerData: %v", err)
				}
			}
			reportMsgs(b)
		})
	}
	// A snapshot in four fragments with a ping between two of them: copied
	// into the assembly buffer, pong written.
	large := bookJSON(40000)
	q := len(large) / 4
	stream := join(
		frame(false, opText, large[:q]),
		frame(false, opContinuation, large[q:2*q]),
		frame(true, opPing, []byte("1727262700042")),
		frame(false, opContinuation, large[2*q:3*q]),
		frame(true, opContinuation, large[3*q:]),
	)
	b.Run("large-fragmented/wsconn", func(b *testing.B) {
		c, _ := memTest(b, &replay{stream: stream}, nil, Options{})
		readWsconn(b, c, len(large))
	})
}

// streamServer upgrades by hand and then writes copies of one frame until
// the client goes away.
func streamServer(b *testing.B, f []byte) string {
	b.Helper()
	chunk := f
	for len(chunk) < 256<<10 {
		chunk = append(chunk, f...)
	}
	url, _ := startRaw(b, func(conn net.Conn, _ *bufio.Reader, _ *http.Request, resp []byte) error {
		_ = conn.SetDeadline(time.Time{})
		if _, err := conn.Write(resp); err != nil {
			return err
		}
		for {
			if _, err := conn.Write(chunk); err != nil {
				return nil
			}
		}
	})
	return url
}

// BenchmarkReadMessageTCP reads from a server streaming over loopback: the
// syscalls and the other goroutine make it noisy on a shared machine, but it
// is the path the engine runs.
func BenchmarkReadMessageTCP(b *testing.B) {
	for _, bc := range benchCases() {
		f := frame(true, opText, bc.payload)
		b.Run(bc.name+"/wsconn", func(b *testing.B) {
			c := dialTest(b, streamServer(b, f), Options{IdleTimeout: time.Minute})
			readWsconn(b, c, len(bc.payload))
		})
		b.Run(bc.name+"/wsutil.Reader", func(b *testing.B) {
			ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
			defer cancel()
			conn, br, _, err := ws.Dial(ctx, streamServer(b, f))
			if err != nil {
				b.Fatalf("ws.Dial: %v", err)
			}
			defer conn.Close()
			var src io.Reader = conn
			if br != nil {
				src = io.MultiReader(br, conn)
			}
			readWsutil(b, bufio.NewReaderSize(src, DefaultReadBufferSize), len(bc.payload))
		})
	}
}

// BenchmarkUTF8Valid is the cost ReadMessage does not pay by leaving text
// unchecked (see the package comment); compare with BenchmarkReadMessage.
func BenchmarkUTF8Valid(b *testing.B) {
	for _, bc := range benchCases() {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(bc.payload)))
			b.ReportAllocs()
			for b.Loop() {
				if !utf8.Valid(bc.payload) {
					b.Fatal("invalid UTF-8")
				}
			}
		})
	}
}

func BenchmarkNanotime(b *testing.B) {
	b.Run("Nanotime", func(b *testing.B) {
		var sink int64
		for b.Loop() {
			sink += Nanotime()
		}
		_ = sink
	})
	b.Run("time.Now", func(b *testing.B) {
		var sink int64
		for b.Loop() {
			sink += time.Now().UnixNano()
		}
		_ = sink
	})
}

func BenchmarkWriteText(b *testing.B) {
	p := []byte(`{"op":"subscribe","req_id":"s-1","args":["orderbook.50.BTCUSDT","publicTrade.BTCUSDT","tickers.BTCUSDT"]}`)
	b.Run("wsconn", func(b *testing.B) {
		c, _ := memTest(b, &replay{stream: text("x")}, nil, Options{})
		b.SetBytes(int64(len(p)))
		b.ReportAllocs()
		for b.Loop() {
			if err := c.WriteText(p); err != nil {
				b.Fatalf("WriteText: %v", err)
			}
		}
	})
	b.Run("wsutil.WriteClientText", func(b *testing.B) {
		w := &memConn{}
		b.SetBytes(int64(len(p)))
		b.ReportAllocs()
		for b.Loop() {
			if err := wsutil.WriteClientText(w, p); err != nil {
				b.Fatalf("WriteClientText: %v", err)
			}
		}
	})
}
