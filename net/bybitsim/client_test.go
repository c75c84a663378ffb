package bybitsim

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// client is a minimal test client on coder/websocket (an implementation
// independent of the server's gobwas/ws). A reader goroutine queues every
// message; the test takes them with next.
type client struct {
	t      *testing.T
	c      *websocket.Conn
	msgs   chan msg
	done   chan struct{}
	err    error
	cancel context.CancelFunc
}

type msg struct {
	typ  websocket.MessageType
	data []byte
}

// waitLong bounds every wait for something that must happen; generous so
// that a busy machine passes.
const waitLong = 15 * time.Second

func dial(t *testing.T, url string) *client {
	t.Helper()
	cl, err := tryDial(t, url)
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	return cl
}

func tryDial(t *testing.T, url string) (*client, error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	dctx, dcancel := context.WithTimeout(ctx, waitLong)
	c, _, err := websocket.Dial(dctx, url, nil)
	dcancel()
	if err != nil {
		cancel()
		return nil, err
	}
	c.SetReadLimit(64 << 20)
	cl := &client{t: t, c: c, msgs: make(chan msg, 1<<14), done: make(chan struct{}), cancel: cancel}
	go func() {
		defer close(cl.done)
		for {
			typ, p, err := c.Read(ctx)
			if err != nil {
				cl.err = err
				return
			}
			select {
			case cl.msgs <- msg{typ, p}:
			case <-ctx.Done():
				return
			}
		}
	}()
	t.Cleanup(cl.close)
	return cl, nil
}

func (cl *client) close() {
	cl.cancel()
	_ = cl.c.CloseNow()
	<-cl.done
}

func (cl *client) send(s string) {
	cl.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLong)
	defer cancel()
	err := cl.c.Write(ctx, websocket.MessageText, []byte(s))
	if err != nil {
		cl.t.Fatalf("write %s: %v", s, err)
	}
}

// next returns the next message or fails the test after waitLong.
func (cl *client) next() []byte {
	cl.t.Helper()
	m, ok := cl.nextMsg(waitLong)
	if !ok {
		cl.t.Fatalf("no message within %v (reader error: %v)", waitLong, cl.err)
	}
	return m.data
}

// nextMsg returns the next message, or false after d or when the
// connection ended and everything queued was taken.
func (cl *client) nextMsg(d time.Duration) (msg, bool) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case m := <-cl.msgs:
		return m, true
	case <-cl.done:
		select {
		case m := <-cl.msgs:
			return m, true
		default:
			return msg{}, false
		}
	case <-t.C:
		return msg{}, false
	}
}

// ended waits until the connection has ended and returns the read error.
func (cl *client) ended(d time.Duration) (error, bool) {
	t := time.NewTimer(d)
	defer t.Stop()
	for {
		select {
		case <-cl.done:
			return cl.err, true
		case <-cl.msgs:
		case <-t.C:
			return nil, false
		}
	}
}

// quiet reports whether no message arrives within d.
func (cl *client) quiet(d time.Duration) bool {
	_, ok := cl.nextMsg(d)
	return !ok
}

// frame is a decoded data or control message.
type frame struct {
	Topic   string          `json:"topic"`
	Type    string          `json:"type"`
	ID      string          `json:"id"`
	TS      int64           `json:"ts"`
	CTS     int64           `json:"cts"`
	CS      int64           `json:"cs"`
	Data    json.RawMessage `json:"data"`
	Success *bool           `json:"success"`
	RetMsg  *string         `json:"ret_msg"`
	ConnID  string          `json:"conn_id"`
	ReqID   *string         `json:"req_id"`
	Op      string          `json:"op"`
	Args    []string        `json:"args"`
}

type bookData struct {
	S   string      `json:"s"`
	B   [][2]string `json:"b"`
	A   [][2]string `json:"a"`
	U   int64       `json:"u"`
	Seq int64       `json:"seq"`
}

func decode(t *testing.T, p []byte) frame {
	t.Helper()
	var f frame
	err := json.Unmarshal(p, &f)
	if err != nil {
		t.Fatalf("bad JSON %q: %v", p, err)
	}
	return f
}

// nextData skips control frames (acks, pongs) and returns the next data
// frame.
func (cl *client) nextData() frame {
	cl.t.Helper()
	for range 100 {
		f := decode(cl.t, cl.next())
		if f.Topic != "" {
			return f
		}
	}
	cl.t.Fatalf("no data frame among 100 messages")
	return frame{}
}

// nextAck skips data frames and returns the next control frame.
func (cl *client) nextAck() ([]byte, frame) {
	cl.t.Helper()
	for range 10000 {
		p := cl.next()
		f := decode(cl.t, p)
		if f.Topic == "" {
			return p, f
		}
	}
	cl.t.Fatalf("no control frame among 10000 messages")
	return nil, frame{}
}

func startServer(t testing.TB, cfg Config) *Server {
	t.Helper()
	s, err := Start(cfg)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// pausedServer starts a Server whose generator only moves when the test
// calls Step.
func pausedServer(t testing.TB, cfg Config) *Server {
	t.Helper()
	s := startServer(t, cfg)
	s.Pause()
	return s
}
