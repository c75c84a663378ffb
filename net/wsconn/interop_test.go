package wsconn

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/coder/websocket"
)

// These tests run the client against github.com/coder/websocket, an
// implementation independent of gobwas/ws, so that a misreading of RFC 6455
// shared by our client and a gobwas-based server cannot hide.

// coderServer serves one connection with handle and reports its error.
func coderServer(t *testing.T, handle func(ctx context.Context, c *websocket.Conn) error) (string, func() error) {
	t.Helper()
	done := make(chan error, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			done <- err
			return
		}
		defer c.CloseNow()
		c.SetReadLimit(1 << 24)
		ctx, cancel := context.WithTimeout(r.Context(), testTimeout)
		defer cancel()
		done <- handle(ctx, c)
	}))
	t.Cleanup(srv.Close)
	wait := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		defer cancel()
		select {
		case err := <-done:
			return err
		case <-ctx.Done():
			return errors.New("server handler did not finish")
		}
	}
	return "ws" + strings.TrimPrefix(srv.URL, "http") + "/v5/public/spot", wait
}

func TestInteropCoder(t *testing.T) {
	parts := []string{`{"topic":"orderbook.50.BTCUSDT",`, `"type":"snapshot",`, `"data":{}}`}
	big := bookJSON(200000) // bigger than the 64 KiB read buffer below
	echoes := [][]byte{[]byte(`{"op":"subscribe","args":["tickers.BTCUSDT"]}`), tradeJSON(300), bookJSON(100000), {}}

	url, wait := coderServer(t, func(ctx context.Context, c *websocket.Conn) error {
		// Ping needs a concurrent reader to see the pong; the reader also
		// collects the client's messages for the echo below.
		type msg struct {
			typ websocket.MessageType
			p   []byte
			err error
		}
		in := make(chan msg, len(echoes)+1)
		go func() {
			for range len(echoes) + 1 {
				typ, p, err := c.Read(ctx)
				in <- msg{typ, p, err}
				if err != nil {
					return
				}
			}
		}()

		// One message in three fragments, with pings in between: our
		// client must answer them while it assembles the message.
		w, err := c.Writer(ctx, websocket.MessageText)
		if err != nil {
			return err
		}
		for i, p := range parts {
			if _, err := io.WriteString(w, p); err != nil {
				return err
			}
			if i < len(parts)-1 {
				if err := c.Ping(ctx); err != nil {
					return fmt.Errorf("ping between fragments: %w", err)
				}
			}
		}
		if err := w.Close(); err != nil {
			return err
		}
		if err := c.Write(ctx, websocket.MessageText, big); err != nil {
			return err
		}
		if err := c.Write(ctx, websocket.MessageBinary, []byte{1, 2, 3}); err != nil {
			return err
		}
		for range echoes {
			m := <-in
			if m.err != nil {
				return fmt.Errorf("reading client message: %w", m.err)
			}
			if err := c.Write(ctx, m.typ, m.p); err != nil {
				return err
			}
		}
		if err := c.Close(websocket.StatusNormalClosure, "done"); err != nil {
			return fmt.Errorf("close handshake: %w", err)
		}
		return nil
	})

	c := dialTest(t, url, Options{ReadBufferSize: 64 << 10})
	m, err := c.ReadMessage()
	if want := strings.Join(parts, ""); err != nil || m.Op != OpText || string(m.Payload) != want {
		t.Fatalf("fragmented: got %q, %v; want %q", m.Payload, err, want)
	}
	m, err = c.ReadMessage()
	if err != nil || !bytes.Equal(m.Payload, big) {
		t.Fatalf("big: got %d bytes, %v; want %d, equal", len(m.Payload), err, len(big))
	}
	m, err = c.ReadMessage()
	if err != nil || m.Op != OpBinary || !bytes.Equal(m.Payload, []byte{1, 2, 3}) {
		t.Fatalf("binary: got op %d %v, %v; want binary [1 2 3]", m.Op, m.Payload, err)
	}
	for i, e := range echoes {
		if err := c.WriteText(e); err != nil {
			t.Fatalf("WriteText: %v", err)
		}
		m, err := c.ReadMessage()
		if err != nil || m.Op != OpText || !bytes.Equal(m.Payload, e) {
			t.Fatalf("echo %d: got %d bytes, %v; want %d, equal", i, len(m.Payload), err, len(e))
		}
	}
	_, err = c.ReadMessage()
	if ce, ok := errors.AsType[*CloseError](err); !ok || ce.Code != CloseNormal || ce.Reason != "done" {
		t.Errorf("got %v; want CloseError{1000 \"done\"}", err)
	}
	if err := wait(); err != nil {
		t.Errorf("server: %v", err)
	}
	st := c.Stats()
	if st.PingFrames != 2 || st.PongsSent != 2 || st.ContinuationFrames < 1 {
		t.Errorf("got %d pings, %d pongs sent, %d continuation frames; want 2, 2, at least 1", st.PingFrames, st.PongsSent, st.ContinuationFrames)
	}
}

func TestInteropCoderClientCloses(t *testing.T) {
	url, wait := coderServer(t, func(ctx context.Context, c *websocket.Conn) error {
		_, _, err := c.Read(ctx)
		if cs := websocket.CloseStatus(err); cs != websocket.StatusGoingAway {
			return fmt.Errorf("got close status %d (%v); want 1001", cs, err)
		}
		return nil
	})
	c := dialTest(t, url, Options{})
	if err := c.Close(CloseGoingAway, "shutting down"); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := wait(); err != nil {
		t.Errorf("server: %v", err)
	}
}

func TestInteropCoderTooBig(t *testing.T) {
	url, wait := coderServer(t, func(ctx context.Context, c *websocket.Conn) error {
		if err := c.Write(ctx, websocket.MessageText, make([]byte, 5000)); err != nil {
			return err
		}
		_, _, err := c.Read(ctx)
		if cs := websocket.CloseStatus(err); cs != websocket.StatusMessageTooBig {
			return fmt.Errorf("got close status %d (%v); want 1009", cs, err)
		}
		return nil
	})
	c := dialTest(t, url, Options{MaxMessageSize: 4096})
	if _, err := c.ReadMessage(); err != ErrMessageTooBig {
		t.Errorf("got %v; want ErrMessageTooBig", err)
	}
	if err := wait(); err != nil {
		t.Errorf("server: %v", err)
	}
}
