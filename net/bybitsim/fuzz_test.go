package bybitsim

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"strings"
	"testing"
)

// checkQueue parses the frames a connection queued: each must be a whole,
// well-formed server frame; text messages must be JSON.
func checkQueue(t *testing.T, q []byte) {
	t.Helper()
	for len(q) > 0 {
		if len(q) < 2 {
			t.Fatalf("truncated frame header % x", q)
		}
		op, n, h := q[0]&0x0f, int(q[1]&0x7f), 2
		switch n {
		case 126:
			n, h = int(binary.BigEndian.Uint16(q[2:4])), 4
		case 127:
			n, h = int(binary.BigEndian.Uint64(q[2:10])), 10
		}
		if q[0]&0x80 == 0 || q[1]&0x80 != 0 || len(q) < h+n {
			t.Fatalf("bad frame % x", q[:min(len(q), 16)])
		}
		if p := q[h : h+n]; op == 1 && !json.Valid(p) {
			t.Fatalf("text frame is not JSON: %q", p)
		}
		q = q[h+n:]
	}
}

// FuzzRequest feeds arbitrary client messages to the request handler of
// each category: no panic, every reply a JSON text frame.
func FuzzRequest(f *testing.F) {
	for _, s := range []string{
		`{"op":"subscribe","req_id":"1","args":["orderbook.50.BTCUSDT","tickers.BTCUSDT"]}`,
		`{"op":"unsubscribe","args":["orderbook.50.BTCUSDT"]}`,
		`{"op":"ping","req_id":7}`,
		`{"op":"subscribe","args":["a","b","c","d","e","f","g","h","i","j","k"]}`,
		`{"op":"subscribe","args":["publicTrade.BTC","kline.D.BTCUSDT","orderbook.25.BTC-27DEC30-80000-C"]}`,
		`{"op":"subscribe","args":["orderbook.1.<&>\u0000"],"req_id":"\"x\""}`,
		`{"op":5}`, `[]`, `null`, ``,
	} {
		f.Add(s)
	}
	s := pausedServer(f, Config{Seed: 1})
	var conns []*conn
	for _, cat := range categoryNames {
		conns = append(conns, fakeConn(f, s, cat))
	}
	f.Fuzz(func(t *testing.T, req string) {
		for _, c := range conns {
			s.handleRequest(c, []byte(req))
			checkQueue(t, takeQueue(c))
		}
	})
}

// FuzzReadLoop feeds arbitrary bytes as a client's side of the socket: the
// frame reader must neither panic nor queue anything malformed.
func FuzzReadLoop(f *testing.F) {
	mask := func(op byte, fin bool, p string) []byte {
		b0 := op
		if fin {
			b0 |= 0x80
		}
		b := []byte{b0, 0x80 | byte(len(p)), 9, 8, 7, 6}
		for i := range len(p) {
			b = append(b, p[i]^[]byte{9, 8, 7, 6}[i%4])
		}
		return b
	}
	cat := func(bs ...[]byte) []byte { return bytes.Join(bs, nil) }
	f.Add(mask(1, true, `{"op":"ping"}`))
	f.Add(cat(mask(1, false, `{"op":"pi`), mask(9, true, "hi"), mask(0, true, `ng"}`)))
	f.Add(mask(9, true, strings.Repeat("x", 125)))
	f.Add(mask(8, true, "\x03\xe8bye"))
	f.Add(mask(2, true, "\x00\x01"))
	f.Add([]byte{0x81, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}) // unmasked, huge
	f.Add([]byte{0x89, 0xfe, 0x01, 0x00})                                     // control frame > 125
	s := pausedServer(f, Config{Seed: 1, MaxRequestBytes: 4096})
	c := fakeConn(f, s, "linear")
	f.Fuzz(func(t *testing.T, in []byte) {
		c.br = bufio.NewReader(bytes.NewReader(in))
		c.readLoop()
		checkQueue(t, takeQueue(c))
		c.mu.Lock()
		c.closing = false // closeGraceful may have ended it; reuse for the next input
		c.mu.Unlock()
	})
}

// FuzzParseFault: no panic; whatever parses prints back to itself.
func FuzzParseFault(f *testing.F) {
	for _, s := range []string{"stall,d=5s", "refuse,n=3,status=403", "fragment,size=16,ping=true,conn=x",
		"skip-delta,cat=linear,topic=orderbook.50.BTCUSDT", "nope", "stall,,", "drop-msgs,n=-1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		ft, err := ParseFault(spec)
		if err != nil {
			return
		}
		if strings.ContainsAny(ft.Conn+ft.Category+ft.Topic, ",=") {
			return // values with separators cannot round-trip; not a supported spelling
		}
		back, err := ParseFault(ft.String())
		if err != nil || back != ft {
			t.Fatalf("%q -> %+v -> %q -> %+v, %v", spec, ft, ft.String(), back, err)
		}
	})
}
