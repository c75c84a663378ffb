package session

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ringfeed/ringfeed/net/wsconn"
)

// FuzzHandle feeds arbitrary frames, as a server could send them, through
// the reader's step and the control goroutine's ack handling. Whatever the
// input: no panic, every slot handed out is committed or rolled back before
// the next message, the ring has nothing left reserved, and the topic
// bookkeeping stays within bounds.
func FuzzHandle(f *testing.F) {
	for _, fr := range allocFrames {
		f.Add([]byte(fr.frame), false)
	}
	for _, s := range []string{
		`{"success":true,"ret_msg":"subscribe","conn_id":"d9avrj8i70nu0j2a80n0-9cfc4","op":"subscribe"}`,
		`{"success":false,"ret_msg":"args size \u003e10","conn_id":"x","req_id":"s-1","op":"subscribe"}`,
		`{"success":false,"ret_msg":"error:already subscribed,topic:tickers.BTCUSDT","conn_id":"x","req_id":"s-1","op":"subscribe"}`,
		`{"success":true,"ret_msg":"","conn_id":"x","req_id":"u-2","op":"unsubscribe"}`,
		`{"success":true,"conn_id":"x","data":{"failTopics":["kline.1.BTCUSDT"],"successTopics":["orderbook.50.BTCUSDT"]},"type":"COMMAND_RESP"}`,
		`{"success":true,"ret_msg":"pong","conn_id":"x","req_id":"hb-1","op":"ping"}`,
		`{"op":"pong","args":["1733011200123"]}`,
		`{"topic":"orderbook.50.BTCUSDT","type":"delta","ts":1,"data":{"s":"BTCUSDT","b":[["1","x"]],"a":[],"u":2,"seq":1}}`,
		`not json`,
		`{}`,
	} {
		f.Add([]byte(s), false)
	}
	f.Add([]byte{0x00, 0xff}, true)
	// Real captured frames, when the shared folder is there.
	if files, _ := filepath.Glob(filepath.Join("..", "..", "..", "shared", "testdata", "bybit", "*.json")); len(files) > 0 {
		for _, name := range files {
			if b, err := os.ReadFile(name); err == nil && len(b) < 1<<16 {
				f.Add(b, false)
			}
		}
	}
	f.Fuzz(func(t *testing.T, frame []byte, binary bool) {
		r := newFuzzRig(t)
		op := wsconn.OpText
		if binary {
			op = wsconn.OpBinary
		}
		r.s.rd.handle(wsconn.Message{Op: op, Payload: frame, RecvNs: r.now})
		r.s.rd.flush() // the read loop flushes when nothing more is buffered
		sink := r.s.cfg.Sink.(*ringSink)
		if sink.cur != 0 {
			t.Fatalf("%d slots neither committed nor aborted", sink.cur)
		}
		if n := sink.r.Reserved(); n != 0 {
			t.Fatalf("%d slots left reserved", n)
		}
		sink.r.Release(len(sink.r.Peek()))
		r.now += int64(10 * time.Millisecond)
		if !r.c.step(r.now) {
			t.Fatal("control closed the connection on an answer")
		}
		if n := r.s.Stats().Subscribed; n < 0 || n > r.s.NumTopics() {
			t.Fatalf("got %d subscribed of %d topics", n, r.s.NumTopics())
		}
	})
}

// fuzzRig is a controlRig whose connection is shared by every fuzz input
// of the process, so each input costs no dial.
var fuzzConn struct {
	rl   *requestLog
	conn *wsconn.Conn
}

func newFuzzRig(t *testing.T) *controlRig {
	if fuzzConn.conn == nil {
		// Lives for the whole process: fuzz inputs share it.
		fuzzConn.rl = newProcessRequestLog()
		c, err := wsconn.Dial(t.Context(), fuzzConn.rl.url, wsconn.Options{})
		if err != nil {
			t.Fatal(err)
		}
		fuzzConn.conn = c
	}
	s, err := New(Config{
		Category: "linear",
		URL:      fuzzConn.rl.url,
		Topics:   []string{"orderbook.50.BTCUSDT", "tickers.BTCUSDT", "kline.1.BTCUSDT", "publicTrade.BTCUSDT"},
		Symbols:  testSymbols(t, "BTCUSDT"),
		Sink:     newRingSink(128),
	})
	if err != nil {
		t.Fatal(err)
	}
	r := &controlRig{t: t, s: s, c: newControl(s, fuzzConn.conn, false), log: fuzzConn.rl, now: wsconn.Nanotime()}
	if !r.c.start(r.now) {
		t.Fatal("start failed")
	}
	return r
}
