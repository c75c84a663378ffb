package wsconn

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestCloseUnblocksReader(t *testing.T) {
	url, wait := startRaw(t, func(conn net.Conn, br *bufio.Reader, _ *http.Request, resp []byte) error {
		if _, err := conn.Write(resp); err != nil {
			return err
		}
		if err := expectClose(br, 1000); err != nil {
			return err
		}
		return drain(br)
	})
	c := dialTest(t, url, Options{})
	errc := make(chan error, 1)
	go func() {
		_, err := c.ReadMessage()
		errc <- err
	}()
	if err := c.Close(CloseNormal, "bye"); err != nil {
		t.Errorf("Close: got %v; want nil", err)
	}
	select {
	case err := <-errc:
		if err != ErrClosed {
			t.Errorf("ReadMessage: got %v; want ErrClosed", err)
		}
	case <-time.After(testTimeout):
		t.Fatal("ReadMessage still blocked after Close")
	}
	if err := c.Close(CloseNormal, ""); err != nil {
		t.Errorf("second Close: got %v; want nil", err)
	}
	if err := c.WriteText([]byte("late")); err != ErrClosed {
		t.Errorf("WriteText after Close: got %v; want ErrClosed", err)
	}
	if err := wait(); err != nil {
		t.Errorf("server: %v", err)
	}
}

func TestCloseFrameBody(t *testing.T) {
	long := strings.Repeat("é", 100) // 200 bytes: cut at 123 without splitting a rune
	tests := []struct {
		name   string
		code   StatusCode
		reason string
		want   []byte
	}{
		{name: "code and reason", code: 1000, reason: "bye", want: []byte{0x03, 0xE8, 'b', 'y', 'e'}},
		{name: "application code", code: 4000, want: []byte{0x0F, 0xA0}},
		{name: "no status", code: CloseNoStatus, reason: "ignored", want: []byte{}},
		{name: "abnormal", code: CloseAbnormal, want: []byte{}},
		{name: "out of range", code: 5000, want: []byte{}},
		{name: "long reason", code: 1001, reason: long, want: join([]byte{0x03, 0xE9}, []byte(long[:122]))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var sent bytes.Buffer
			c, mc := memTest(t, &oneByteReader{}, &sent, Options{})
			if err := c.Close(tt.code, tt.reason); err != nil {
				t.Fatalf("Close: %v", err)
			}
			if !mc.closed {
				t.Error("socket not closed")
			}
			f, err := readClientFrame(bufio.NewReader(&sent))
			if err != nil || f.op != opClose || !f.fin || !bytes.Equal(f.payload, tt.want) {
				t.Errorf("got %+v, %v; want close %x", f, err, tt.want)
			}
		})
	}
}

func TestWriteText(t *testing.T) {
	const writers, each, pings = 4, 50, 20
	large := payload(70000, 9)
	want := map[string]int{string(large): 1}
	msgs := make([][][]byte, writers)
	for w := range writers {
		for i := range each {
			p := fmt.Appendf(nil, `{"op":"subscribe","req_id":"%d-%d","args":["orderbook.50.BTCUSDT"]}`, w, i)
			msgs[w] = append(msgs[w], p)
			want[string(p)]++
		}
	}
	var pingFrames []byte
	for i := range pings {
		pingFrames = append(pingFrames, frame(true, opPing, fmt.Appendf(nil, "%d", i))...)
	}
	url, wait := startRaw(t, func(conn net.Conn, br *bufio.Reader, _ *http.Request, resp []byte) error {
		if _, err := conn.Write(join(resp, pingFrames)); err != nil {
			return err
		}
		got := map[string]int{}
		pongs := 0
		for texts := 0; texts < writers*each+1 || pongs < pings; {
			f, err := readClientFrame(br)
			if err != nil {
				return err
			}
			if !f.masked || !f.fin {
				return fmt.Errorf("got frame masked %v fin %v; want both", f.masked, f.fin)
			}
			switch f.op {
			case opText:
				texts++
				got[string(f.payload)]++
			case opPong:
				pongs++
			default:
				return fmt.Errorf("got opcode %d; want text or pong", f.op)
			}
		}
		for k, n := range want {
			if got[k] != n {
				return fmt.Errorf("message %.40q received %d times; want %d", k, got[k], n)
			}
		}
		if _, err := conn.Write(closeFrame(1000, "")); err != nil {
			return err
		}
		return expectClose(br, 1000)
	})
	c := dialTest(t, url, Options{})
	readErr := make(chan error, 1)
	go func() {
		_, err := c.ReadMessage()
		readErr <- err
	}()
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for _, p := range msgs[w] {
				if err := c.WriteText(p); err != nil {
					t.Errorf("WriteText: %v", err)
					return
				}
			}
		})
	}
	wg.Go(func() {
		if err := c.WriteText(large); err != nil {
			t.Errorf("WriteText(large): %v", err)
		}
	})
	wg.Wait()
	for w := range writers {
		for i, p := range msgs[w] {
			if want := fmt.Sprintf(`{"op":"subscribe","req_id":"%d-%d","args":["orderbook.50.BTCUSDT"]}`, w, i); string(p) != want {
				t.Fatalf("caller's buffer modified: got %q; want %q", p, want)
			}
		}
	}
	select {
	case err := <-readErr:
		if ce, ok := errors.AsType[*CloseError](err); !ok || ce.Code != CloseNormal {
			t.Errorf("ReadMessage: got %v; want CloseError 1000", err)
		}
	case <-time.After(testTimeout):
		t.Fatal("reader did not see the server's close")
	}
	if err := wait(); err != nil {
		t.Errorf("server: %v", err)
	}
	st := c.Stats()
	if st.TextSent != writers*each+1 || st.PongsSent != pings {
		t.Errorf("got TextSent %d PongsSent %d; want %d %d", st.TextSent, st.PongsSent, writers*each+1, pings)
	}
}

func TestMasksDiffer(t *testing.T) {
	var sent bytes.Buffer
	c, _ := memTest(t, &oneByteReader{}, &sent, Options{})
	p := []byte("same payload")
	for range 100 {
		if err := c.WriteText(p); err != nil {
			t.Fatalf("WriteText: %v", err)
		}
	}
	masks := map[string]bool{}
	raw := sent.Bytes()
	for len(raw) > 0 {
		n := 2 + 4 + len(p)
		masks[string(raw[2:6])] = true
		raw = raw[n:]
	}
	if len(masks) < 95 {
		t.Errorf("got %d distinct mask keys in 100 frames; want about 100", len(masks))
	}
}

func TestDialErrors(t *testing.T) {
	t.Run("scheme", func(t *testing.T) {
		_, err := Dial(context.Background(), "http://127.0.0.1:1/", Options{})
		if err == nil || !strings.Contains(err.Error(), "scheme") {
			t.Errorf("got %v; want a scheme error", err)
		}
	})
	t.Run("options", func(t *testing.T) {
		f := func(o Options, field string) {
			t.Helper()
			_, err := Dial(context.Background(), "ws://127.0.0.1:1/", o)
			if err == nil || !strings.Contains(err.Error(), field) {
				t.Errorf("got %v; want an error naming %s", err, field)
			}
		}
		f(Options{ReadBufferSize: 100}, "ReadBufferSize")
		f(Options{MaxMessageSize: -1}, "MaxMessageSize")
		f(Options{DialTimeout: -1}, "DialTimeout")
		f(Options{HandshakeTimeout: -1}, "HandshakeTimeout")
		f(Options{IdleTimeout: -1}, "IdleTimeout")
		f(Options{WriteTimeout: -1}, "WriteTimeout")
	})
	t.Run("refused", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		_, err = Dial(context.Background(), "ws://"+addr+"/", Options{})
		if err == nil || errors.Is(err, ErrDialTimeout) {
			t.Errorf("got %v; want a connection error", err)
		}
	})
	t.Run("status 403", func(t *testing.T) {
		url, wait := startRaw(t, func(conn net.Conn, _ *bufio.Reader, _ *http.Request, _ []byte) error {
			_, err := conn.Write([]byte("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n"))
			return err
		})
		_, err := Dial(context.Background(), url, Options{})
		if se, ok := errors.AsType[*StatusError](err); !ok || se.Status != 403 {
			t.Errorf("got %v; want StatusError 403", err)
		}
		if err := wait(); err != nil {
			t.Errorf("server: %v", err)
		}
	})
	t.Run("handshake timeout", func(t *testing.T) {
		url, _ := startRaw(t, func(_ net.Conn, br *bufio.Reader, _ *http.Request, _ []byte) error {
			return drain(br) // never answers
		})
		_, err := Dial(context.Background(), url, Options{HandshakeTimeout: 100 * time.Millisecond})
		if !errors.Is(err, ErrHandshakeTimeout) {
			t.Errorf("got %v; want ErrHandshakeTimeout", err)
		}
	})
	t.Run("cancelled during handshake", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		url, _ := startRaw(t, func(_ net.Conn, br *bufio.Reader, _ *http.Request, _ []byte) error {
			cancel() // the request has arrived; Dial is waiting for the answer
			return drain(br)
		})
		_, err := Dial(ctx, url, Options{})
		if !errors.Is(err, context.Canceled) {
			t.Errorf("got %v; want context.Canceled", err)
		}
	})
	t.Run("header", func(t *testing.T) {
		url, wait := startRaw(t, func(conn net.Conn, br *bufio.Reader, req *http.Request, resp []byte) error {
			if got := req.Header.Get("X-Ringfeed"); got != "shard-3" {
				return fmt.Errorf("got X-Ringfeed %q; want shard-3", got)
			}
			if req.URL.Path != "/v5/public/linear" {
				return fmt.Errorf("got path %q; want /v5/public/linear", req.URL.Path)
			}
			if _, err := conn.Write(resp); err != nil {
				return err
			}
			return drain(br)
		})
		c := dialTest(t, url, Options{Header: http.Header{"X-Ringfeed": {"shard-3"}}})
		c.Close(CloseNormal, "")
		if err := wait(); err != nil {
			t.Errorf("server: %v", err)
		}
	})
}

func TestNanotimeMonotonic(t *testing.T) {
	prev := Nanotime()
	for range 10000 {
		now := Nanotime()
		if now < prev {
			t.Fatalf("Nanotime went back: %d after %d", now, prev)
		}
		prev = now
	}
}

func TestClosedConnHidesBufferedMessages(t *testing.T) {
	c, _ := memTest(t, &replay{stream: text("buffered")}, nil, Options{})
	if _, err := c.ReadMessage(); err != nil {
		t.Fatalf("ReadMessage: %v", err)
	}
	c.Close(CloseNormal, "")
	if _, err := c.ReadMessage(); err != ErrClosed {
		t.Errorf("got %v; want ErrClosed although messages are buffered", err)
	}
}

// closeDuringRead is a socket whose first Read runs close (Close called
// while a reader is blocked) and then returns the peer's reply to it: the
// order in which the reply beats the socket's close, made deterministic.
type closeDuringRead struct {
	close func()
	reply *bytes.Reader
}

func (r *closeDuringRead) Read(p []byte) (int, error) {
	if r.close != nil {
		r.close()
		r.close = nil
	}
	return r.reply.Read(p)
}

// The peer's echo of our close frame is not the peer closing: a reader
// blocked across Close returns ErrClosed, as Close promises, whether the
// echo or the socket's close reaches it first.
func TestCloseReplyIsNotAPeerClose(t *testing.T) {
	src := &closeDuringRead{reply: bytes.NewReader(closeFrame(uint16(CloseGoingAway), "shutting down"))}
	c, _ := memTest(t, src, nil, Options{})
	src.close = func() {
		if err := c.Close(CloseGoingAway, "shutting down"); err != nil {
			t.Errorf("Close: %v", err)
		}
	}
	if _, err := c.ReadMessage(); err != ErrClosed {
		t.Errorf("ReadMessage: got %v; want ErrClosed", err)
	}
	if got := c.Stats().ClosesSent; got != 1 {
		t.Errorf("closes sent: got %d; want 1 (no echo of the reply)", got)
	}
}

func TestWriteTimeoutClosesConn(t *testing.T) {
	release := make(chan struct{})
	url, wait := startRaw(t, func(conn net.Conn, br *bufio.Reader, _ *http.Request, resp []byte) error {
		if _, err := conn.Write(resp); err != nil {
			return err
		}
		// Never read: the client's writes pile up until its deadline.
		select {
		case <-release:
		case <-time.After(testTimeout):
		}
		return nil
	})
	c := dialTest(t, url, Options{WriteTimeout: 200 * time.Millisecond})
	p := payload(64<<10, 0)
	var err error
	for range 4000 { // 256 MB: far beyond any socket buffer
		if err = c.WriteText(p); err != nil {
			break
		}
	}
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("got %v; want a write deadline error", err)
	}
	if err := c.WriteText([]byte("x")); err != ErrClosed {
		t.Errorf("WriteText after a failed write: got %v; want ErrClosed", err)
	}
	if _, err := c.ReadMessage(); err != ErrClosed {
		t.Errorf("ReadMessage after a failed write: got %v; want ErrClosed", err)
	}
	close(release)
	if err := wait(); err != nil {
		t.Errorf("server: %v", err)
	}
}
