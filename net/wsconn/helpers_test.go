package wsconn

import (
	"bufio"
	"context"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// testTimeout bounds every wait in these tests; tests never assert on speed.
const testTimeout = 10 * time.Second

// frame hand-builds an unmasked server frame.
func frame(fin bool, op byte, payload []byte) []byte {
	b0 := op
	if fin {
		b0 |= 0x80
	}
	n := len(payload)
	var h []byte
	switch {
	case n < 126:
		h = []byte{b0, byte(n)}
	case n <= 0xFFFF:
		h = []byte{b0, 126, byte(n >> 8), byte(n)}
	default:
		h = []byte{b0, 127, 0, 0, 0, 0, 0, 0, 0, 0}
		binary.BigEndian.PutUint64(h[2:], uint64(n))
	}
	return append(h, payload...)
}

func text(s string) []byte { return frame(true, opText, []byte(s)) }

func closeFrame(code uint16, reason string) []byte {
	p := binary.BigEndian.AppendUint16(nil, code)
	return frame(true, opClose, append(p, reason...))
}

func join(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// payload returns n bytes of printable, position-dependent data so that a
// misplaced byte shows up in a comparison.
func payload(n int, seed byte) []byte {
	p := make([]byte, n)
	for i := range p {
		p[i] = 'a' + byte((i+int(seed))%26)
	}
	return p
}

// acceptKey is RFC 6455 section 4.2.2 step 5.4, written out independently of
// gobwas/ws.
func acceptKey(key string) string {
	h := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	return base64.StdEncoding.EncodeToString(h[:])
}

// script drives one server-side connection after the upgrade request was
// read. resp is the 101 response, not yet written, so the script can send it
// together with frames in one write.
type script func(conn net.Conn, br *bufio.Reader, req *http.Request, resp []byte) error

// startRaw serves one connection on 127.0.0.1, upgrading it by hand and then
// running s. It returns the ws:// URL and a function that waits for the
// script and returns its error.
func startRaw(t testing.TB, s script) (string, func() error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	done := make(chan error, 1)
	var mu sync.Mutex
	var conn net.Conn
	go func() {
		c, err := ln.Accept()
		if err != nil {
			done <- err
			return
		}
		mu.Lock()
		conn = c
		mu.Unlock()
		_ = c.SetDeadline(time.Now().Add(testTimeout))
		br := bufio.NewReader(c)
		req, err := http.ReadRequest(br)
		if err != nil {
			done <- fmt.Errorf("read upgrade request: %w", err)
			return
		}
		resp := "HTTP/1.1 101 Switching Protocols\r\n" +
			"Upgrade: websocket\r\nConnection: Upgrade\r\n" +
			"Sec-WebSocket-Accept: " + acceptKey(req.Header.Get("Sec-WebSocket-Key")) + "\r\n\r\n"
		err = s(c, br, req, []byte(resp))
		// Hang up when the script ends so that a client still reading
		// (because the code under test is broken) fails instead of hanging.
		c.Close()
		done <- err
	}()
	var once sync.Once
	var serr error
	wait := func() error {
		once.Do(func() {
			select {
			case serr = <-done:
			case <-time.After(testTimeout):
				serr = errors.New("server script did not finish")
			}
		})
		return serr
	}
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		if conn != nil {
			conn.Close()
		}
		mu.Unlock()
		_ = wait()
	})
	return "ws://" + ln.Addr().String() + "/v5/public/linear", wait
}

// clientFrame is a frame read by the test server, unmasked by hand (not with
// ws.Cipher, which the client uses) so a shared bug cannot hide.
type clientFrame struct {
	fin     bool
	op      byte
	masked  bool
	payload []byte
}

func readClientFrame(br *bufio.Reader) (clientFrame, error) {
	var f clientFrame
	var h [2]byte
	if _, err := io.ReadFull(br, h[:]); err != nil {
		return f, err
	}
	f.fin = h[0]&0x80 != 0
	f.op = h[0] & 0x0f
	f.masked = h[1]&0x80 != 0
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		var e [2]byte
		if _, err := io.ReadFull(br, e[:]); err != nil {
			return f, err
		}
		n = uint64(binary.BigEndian.Uint16(e[:]))
	case 127:
		var e [8]byte
		if _, err := io.ReadFull(br, e[:]); err != nil {
			return f, err
		}
		n = binary.BigEndian.Uint64(e[:])
	}
	if n > 1<<24 {
		return f, fmt.Errorf("client frame length %d is implausible", n)
	}
	var mask [4]byte
	if f.masked {
		if _, err := io.ReadFull(br, mask[:]); err != nil {
			return f, err
		}
	}
	f.payload = make([]byte, n)
	if _, err := io.ReadFull(br, f.payload); err != nil {
		return f, err
	}
	for i := range f.payload {
		f.payload[i] ^= mask[i%4]
	}
	return f, nil
}

// expectClose reads client frames until a close and checks its code; code 0
// means a close without a body.
func expectClose(br *bufio.Reader, code uint16) error {
	for range 100 {
		f, err := readClientFrame(br)
		if err != nil {
			return fmt.Errorf("reading client close: %w", err)
		}
		if !f.masked {
			return errors.New("client frame not masked")
		}
		if f.op != opClose {
			continue
		}
		var got uint16
		if len(f.payload) >= 2 {
			got = binary.BigEndian.Uint16(f.payload)
		}
		if got != code || (code == 0 && len(f.payload) != 0) {
			return fmt.Errorf("client close code: got %d (payload %q); want %d", got, f.payload, code)
		}
		return nil
	}
	return errors.New("no close frame among 100 client frames")
}

func dialTest(t testing.TB, url string, o Options) *Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	c, err := Dial(ctx, url, o)
	if err != nil {
		t.Fatalf("Dial(%s): %v", url, err)
	}
	t.Cleanup(func() { c.Close(CloseNormal, "") })
	return c
}

// readAll reads up to max messages until an error and returns copies of the
// payloads and the final error.
func readAll(c *Conn, max int) ([]string, error) {
	var got []string
	for range max {
		m, err := c.ReadMessage()
		if err != nil {
			return got, err
		}
		got = append(got, string(m.Payload))
	}
	return got, nil
}

// memConn is an in-memory net.Conn for byte-exact, syscall-free tests of the
// reader (fuzzing, allocation gates, framing benchmarks). The TCP tests
// cover the real socket.
type memConn struct {
	r         io.Reader
	w         io.Writer
	closed    bool
	deadlines int // SetReadDeadline calls
}

func (m *memConn) Read(p []byte) (int, error) {
	if m.closed {
		return 0, net.ErrClosed
	}
	return m.r.Read(p)
}

func (m *memConn) Write(p []byte) (int, error) {
	if m.closed {
		return 0, net.ErrClosed
	}
	if m.w == nil {
		return len(p), nil
	}
	return m.w.Write(p)
}

func (m *memConn) Close() error                       { m.closed = true; return nil }
func (m *memConn) LocalAddr() net.Addr                { return memAddr{} }
func (m *memConn) RemoteAddr() net.Addr               { return memAddr{} }
func (m *memConn) SetDeadline(t time.Time) error      { return nil }
func (m *memConn) SetReadDeadline(t time.Time) error  { m.deadlines++; return nil }
func (m *memConn) SetWriteDeadline(t time.Time) error { return nil }

type memAddr struct{}

func (memAddr) Network() string { return "mem" }
func (memAddr) String() string  { return "mem" }

// replay returns stream over and over, as much as each Read asks for, like a
// socket with a fast peer. stream must hold whole frames.
type replay struct {
	stream []byte
	off    int
}

func (r *replay) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		k := copy(p[n:], r.stream[r.off:])
		n += k
		r.off += k
		if r.off == len(r.stream) {
			r.off = 0
		}
	}
	return n, nil
}

// memTest returns a Conn reading src with the given options.
func memTest(t testing.TB, src io.Reader, w io.Writer, o Options) (*Conn, *memConn) {
	t.Helper()
	o, err := o.withDefaults()
	if err != nil {
		t.Fatalf("options: %v", err)
	}
	mc := &memConn{r: src, w: w}
	return newConn(mc, nil, o), mc
}

// realistic JSON of Bybit's shapes, generated here (the project's tests do not
// depend on shared captures).
func tradeJSON(size int) []byte {
	var b strings.Builder
	b.WriteString(`{"topic":"publicTrade.BTCUSDT","type":"snapshot","ts":1727262700042,"data":[`)
	for i := 0; b.Len() < size-40; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"T":17272627000%02d,"s":"BTCUSDT","S":"Buy","v":"0.00%d","p":"6405%d.10","L":"PlusTick","i":"a1b2c3d4-%04d","BT":false}`, i%100, i%10, i%10, i)
	}
	b.WriteString(`]}`)
	return []byte(b.String())
}

func bookJSON(size int) []byte {
	var b strings.Builder
	b.WriteString(`{"topic":"orderbook.500.XRPUSDT","type":"snapshot","ts":1733011200123,"data":{"s":"XRPUSDT","b":[`)
	for i := 0; b.Len() < size/2; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `["2.%04d","%d.5"]`, 9999-i, 1000+i*7)
	}
	b.WriteString(`],"a":[`)
	for i := 0; b.Len() < size-60; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `["3.%04d","%d.5"]`, i, 2000+i*3)
	}
	b.WriteString(`],"u":1,"seq":123456789},"cts":1733011200120}`)
	return []byte(b.String())
}
