package wsconn

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"runtime"
	"slices"
	"testing"
	"time"
)

// drain reads client frames until the connection ends; for scripts that have
// nothing more to check.
func drain(br *bufio.Reader) error {
	for range 10000 {
		if _, err := readClientFrame(br); err != nil {
			return nil
		}
	}
	return errors.New("client kept sending")
}

func TestFramesInHandshakeWrite(t *testing.T) {
	big := payload(10000, 1) // spans gobwas' 4 KiB handshake buffer and the socket
	tests := []struct {
		name   string
		frames []byte
		want   []string
	}{
		{
			name:   "two small",
			frames: join(text("first"), text("second")),
			want:   []string{"first", "second"},
		},
		{
			name:   "bigger than the handshake buffer",
			frames: join(frame(true, opText, big), text("after")),
			want:   []string{string(big), "after"},
		},
		{
			name:   "fragmented with a ping",
			frames: join(frame(false, opText, []byte("snap")), frame(true, opPing, []byte("p")), frame(true, opContinuation, []byte("shot"))),
			want:   []string{"snapshot"},
		},
		{
			name:   "header split at the end",
			frames: join(text("whole"), []byte{0x81}),
			want:   []string{"whole"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url, wait := startRaw(t, func(conn net.Conn, br *bufio.Reader, _ *http.Request, resp []byte) error {
				// One write: the frames reach the client in the same
				// segment as the 101 response.
				if _, err := conn.Write(join(resp, tt.frames)); err != nil {
					return err
				}
				return drain(br)
			})
			c := dialTest(t, url, Options{})
			got, err := readAll(c, len(tt.want))
			if err != nil {
				t.Fatalf("ReadMessage: %v", err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %.40q; want %.40q", got, tt.want)
			}
			c.Close(CloseNormal, "")
			if err := wait(); err != nil {
				t.Errorf("server: %v", err)
			}
		})
	}
}

func TestFragmentsWithPings(t *testing.T) {
	url, wait := startRaw(t, func(conn net.Conn, br *bufio.Reader, _ *http.Request, resp []byte) error {
		writes := [][]byte{
			resp,
			frame(false, opText, []byte("Hel")),
			frame(true, opPing, []byte("p1")),
			frame(false, opContinuation, []byte("lo, ")),
			frame(true, opPing, nil),
			frame(true, opPong, []byte("unsolicited")),
			frame(true, opContinuation, []byte("world")),
			text("next"),
		}
		for _, w := range writes {
			if _, err := conn.Write(w); err != nil {
				return err
			}
		}
		for _, want := range []string{"p1", ""} {
			f, err := readClientFrame(br)
			if err != nil {
				return err
			}
			if f.op != opPong || string(f.payload) != want || !f.masked {
				return fmt.Errorf("got frame op %d payload %q masked %v; want masked pong %q", f.op, f.payload, f.masked, want)
			}
		}
		return expectClose(br, 1000)
	})
	c := dialTest(t, url, Options{})
	got, err := readAll(c, 2)
	if err != nil {
		t.Fatalf("ReadMessage: %v", err)
	}
	if want := []string{"Hello, world", "next"}; !slices.Equal(got, want) {
		t.Errorf("got %q; want %q", got, want)
	}
	if err := c.Close(CloseNormal, ""); err != nil {
		t.Errorf("Close: got %v; want nil", err)
	}
	if err := wait(); err != nil {
		t.Errorf("server: %v", err)
	}
	st := c.Stats()
	want := Stats{
		Messages: 2, TextMessages: 2,
		TextFrames: 2, ContinuationFrames: 2, PingFrames: 2, PongFrames: 1,
		TextBytes: 3 + 4, ContinuationBytes: 4 + 5, PingBytes: 2, PongBytes: 11,
		PongsSent: 2, ClosesSent: 1,
	}
	if st != want {
		t.Errorf("Stats:\ngot  %+v\nwant %+v", st, want)
	}
}

func TestBinaryMessage(t *testing.T) {
	url, wait := startRaw(t, func(conn net.Conn, br *bufio.Reader, _ *http.Request, resp []byte) error {
		_, err := conn.Write(join(resp, frame(true, opBinary, []byte{0, 1, 2}), text("t")))
		if err != nil {
			return err
		}
		return drain(br)
	})
	c := dialTest(t, url, Options{})
	for _, want := range []Message{{Op: OpBinary, Payload: []byte{0, 1, 2}}, {Op: OpText, Payload: []byte("t")}} {
		m, err := c.ReadMessage()
		if err != nil {
			t.Fatalf("ReadMessage: %v", err)
		}
		if m.Op != want.Op || !bytes.Equal(m.Payload, want.Payload) {
			t.Errorf("got op %d %q; want op %d %q", m.Op, m.Payload, want.Op, want.Payload)
		}
	}
	c.Close(CloseNormal, "")
	if err := wait(); err != nil {
		t.Errorf("server: %v", err)
	}
	if st := c.Stats(); st.BinaryMessages != 1 || st.BinaryBytes != 3 || st.TextMessages != 1 {
		t.Errorf("got stats %+v; want 1 binary message of 3 bytes and 1 text message", st)
	}
}

func TestCloseFromServer(t *testing.T) {
	tests := []struct {
		name     string
		frame    []byte
		wantErr  error // for protocol errors
		wantCode StatusCode
		reason   string
		echo     uint16 // code the server must receive; 0 = empty close
	}{
		{name: "code and reason", frame: closeFrame(1000, "bye"), wantCode: 1000, reason: "bye", echo: 1000},
		{name: "going away", frame: closeFrame(1001, ""), wantCode: 1001, echo: 1001},
		{name: "application code", frame: closeFrame(4001, "maintenance"), wantCode: 4001, reason: "maintenance", echo: 4001},
		{name: "no code", frame: frame(true, opClose, nil), wantCode: CloseNoStatus, echo: 0},
		{name: "one byte", frame: frame(true, opClose, []byte{3}), wantErr: ErrBadClosePayload, echo: 1002},
		{name: "1005 on the wire", frame: closeFrame(1005, ""), wantErr: ErrBadCloseCode, echo: 1002},
		{name: "1006 on the wire", frame: closeFrame(1006, ""), wantErr: ErrBadCloseCode, echo: 1002},
		{name: "below 1000", frame: closeFrame(999, ""), wantErr: ErrBadCloseCode, echo: 1002},
		{name: "1015", frame: closeFrame(1015, ""), wantErr: ErrBadCloseCode, echo: 1002},
		{name: "5000", frame: closeFrame(5000, ""), wantErr: ErrBadCloseCode, echo: 1002},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url, wait := startRaw(t, func(conn net.Conn, br *bufio.Reader, _ *http.Request, resp []byte) error {
				if _, err := conn.Write(join(resp, text("before"), tt.frame)); err != nil {
					return err
				}
				return expectClose(br, tt.echo)
			})
			c := dialTest(t, url, Options{})
			if m, err := c.ReadMessage(); err != nil || string(m.Payload) != "before" {
				t.Fatalf("got %q, %v; want \"before\", nil", m.Payload, err)
			}
			_, err := c.ReadMessage()
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || !errors.Is(err, ErrProtocol) {
					t.Errorf("got error %v; want %v", err, tt.wantErr)
				}
			} else {
				ce, ok := errors.AsType[*CloseError](err)
				if !ok || ce.Code != tt.wantCode || ce.Reason != tt.reason {
					t.Errorf("got error %v; want CloseError{%d %q}", err, tt.wantCode, tt.reason)
				}
			}
			if err := wait(); err != nil {
				t.Errorf("server: %v", err)
			}
			if _, again := c.ReadMessage(); again != err {
				t.Errorf("second ReadMessage: got %v; want the same error %v", again, err)
			}
			if werr := c.WriteText([]byte("x")); werr != ErrClosed {
				t.Errorf("WriteText after close: got %v; want ErrClosed", werr)
			}
			if st := c.Stats(); st.ClosesSent != 1 {
				t.Errorf("got ClosesSent %d; want 1", st.ClosesSent)
			}
		})
	}
}

func TestProtocolViolations(t *testing.T) {
	tests := []struct {
		name  string
		bytes []byte
		want  error
	}{
		{name: "rsv1", bytes: []byte{0xC1, 0x01, 'x'}, want: ErrReservedBits},
		{name: "rsv3", bytes: []byte{0x91, 0x01, 'x'}, want: ErrReservedBits},
		{name: "masked", bytes: []byte{0x81, 0x81, 1, 2, 3, 4, 'x' ^ 1}, want: ErrMaskedFrame},
		{name: "ping of 126 bytes", bytes: join([]byte{0x89, 126, 0, 126}, payload(126, 0)), want: ErrControlTooLong},
		{name: "fragmented ping", bytes: []byte{0x09, 0x00}, want: ErrFragmentedControl},
		{name: "fragmented close", bytes: []byte{0x08, 0x02, 0x03, 0xE8}, want: ErrFragmentedControl},
		{name: "continuation without start", bytes: []byte{0x80, 0x01, 'x'}, want: ErrUnexpectedContinuation},
		{name: "text inside fragmented", bytes: []byte{0x01, 0x01, 'a', 0x81, 0x01, 'b'}, want: ErrExpectedContinuation},
		{name: "binary inside fragmented", bytes: []byte{0x01, 0x01, 'a', 0x82, 0x01, 'b'}, want: ErrExpectedContinuation},
		{name: "reserved data opcode", bytes: []byte{0x83, 0x00}, want: ErrReservedOpcode},
		{name: "reserved control opcode", bytes: []byte{0x8B, 0x00}, want: ErrReservedOpcode},
		{name: "64-bit length msb", bytes: []byte{0x81, 127, 0x80, 0, 0, 0, 0, 0, 0, 0}, want: ErrBadLength},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url, wait := startRaw(t, func(conn net.Conn, br *bufio.Reader, _ *http.Request, resp []byte) error {
				if _, err := conn.Write(join(resp, text("ok"), tt.bytes)); err != nil {
					return err
				}
				return expectClose(br, 1002)
			})
			c := dialTest(t, url, Options{})
			got, err := readAll(c, 10)
			if len(got) != 1 || got[0] != "ok" {
				t.Errorf("got messages %q; want [\"ok\"]", got)
			}
			if !errors.Is(err, tt.want) || !errors.Is(err, ErrProtocol) {
				t.Errorf("got error %v; want %v", err, tt.want)
			}
			if err := wait(); err != nil {
				t.Errorf("server: %v", err)
			}
			if st := c.Stats(); st.ProtocolErrors != 1 {
				t.Errorf("got ProtocolErrors %d; want 1", st.ProtocolErrors)
			}
		})
	}
}

func TestOversize(t *testing.T) {
	const max = 1000
	tests := []struct {
		name  string
		bytes []byte
	}{
		{name: "one frame", bytes: frame(true, opText, payload(max+1, 0))},
		{name: "one frame, not final", bytes: frame(false, opText, payload(max+1, 0))},
		{name: "fragments", bytes: join(frame(false, opText, payload(600, 0)), frame(true, opContinuation, payload(401, 0)))},
		{name: "fragments with ping between", bytes: join(frame(false, opBinary, payload(999, 0)), frame(true, opPing, payload(100, 0)), frame(true, opContinuation, payload(2, 0)))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url, wait := startRaw(t, func(conn net.Conn, br *bufio.Reader, _ *http.Request, resp []byte) error {
				if _, err := conn.Write(join(resp, frame(true, opText, payload(max, 0)), tt.bytes)); err != nil {
					return err
				}
				return expectClose(br, 1009)
			})
			c := dialTest(t, url, Options{MaxMessageSize: max})
			m, err := c.ReadMessage()
			if err != nil || len(m.Payload) != max {
				t.Fatalf("message of exactly MaxMessageSize: got %d bytes, %v; want %d, nil", len(m.Payload), err, max)
			}
			if _, err := c.ReadMessage(); err != ErrMessageTooBig {
				t.Errorf("got %v; want ErrMessageTooBig", err)
			}
			if err := wait(); err != nil {
				t.Errorf("server: %v", err)
			}
			if st := c.Stats(); st.Oversize != 1 {
				t.Errorf("got Oversize %d; want 1", st.Oversize)
			}
		})
	}
}

// heapAllocated returns the bytes allocated by the process so far.
func heapAllocated() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.TotalAlloc
}

func TestHugeDeclaredLength(t *testing.T) {
	hdr := []byte{0x81, 127, 0x10, 0, 0, 0, 0, 0, 0, 0} // 2^60 bytes
	tests := []struct {
		name string
		max  int64
		want error
	}{
		{name: "over MaxMessageSize", max: 0, want: ErrMessageTooBig},
		{name: "within an unlimited MaxMessageSize", max: math.MaxInt64, want: ErrConnLost},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url, wait := startRaw(t, func(conn net.Conn, br *bufio.Reader, _ *http.Request, resp []byte) error {
				// 100 KB of the promised 2^60, then hang up.
				_, err := conn.Write(join(resp, hdr, payload(100000, 0)))
				conn.Close()
				return err
			})
			c := dialTest(t, url, Options{ReadBufferSize: 4096, MaxMessageSize: tt.max})
			before := heapAllocated()
			_, err := c.ReadMessage()
			grew := heapAllocated() - before
			if !errors.Is(err, tt.want) {
				t.Errorf("got %v; want %v", err, tt.want)
			}
			// Growth follows the bytes that arrived: about 2 x 100 KB.
			if grew > 1<<20 {
				t.Errorf("got %d bytes allocated; want under 1 MiB", grew)
			}
			if err := wait(); err != nil {
				t.Errorf("server: %v", err)
			}
		})
	}
}

// byteStream is a sequence of frames exercising every read path, and the
// messages it carries. bigLen selects the size of one single-frame message:
// above 65535 it takes a 64-bit length header.
func byteStream(bigLen int) ([]byte, []string) {
	big := payload(bigLen, 3)
	mid := payload(3000, 4) // 16-bit length header
	stream := join(
		text("a"),
		frame(false, opText, []byte("frag")),
		frame(true, opPing, []byte("ping")),
		frame(false, opContinuation, mid),
		frame(true, opContinuation, []byte("end")),
		frame(true, opText, big),
		frame(true, opText, nil),
		text("z"),
	)
	return stream, []string{"a", "frag" + string(mid) + "end", string(big), "", "z"}
}

// TestOneByteWrites is the scaled-down version that also runs under -race;
// TestNoRaceOneByteWrites adds a 70 KB frame (64-bit length header).
func TestOneByteWrites(t *testing.T) {
	oneByteWrites(t, 5000)
}

// oneByteWrites has the server write the stream one byte per write.
func oneByteWrites(t *testing.T, bigLen int) {
	t.Helper()
	stream, want := byteStream(bigLen)
	url, wait := startRaw(t, func(conn net.Conn, br *bufio.Reader, _ *http.Request, resp []byte) error {
		if _, err := conn.Write(resp); err != nil {
			return err
		}
		for i := range stream {
			if _, err := conn.Write(stream[i : i+1]); err != nil {
				return err
			}
		}
		return drain(br)
	})
	c := dialTest(t, url, Options{ReadBufferSize: 4096})
	got, err := readAll(c, len(want))
	if err != nil {
		t.Fatalf("ReadMessage: %v", err)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("message %d: got %d bytes %.30q; want %d bytes %.30q", i, len(got[i]), got[i], len(want[i]), want[i])
		}
	}
	c.Close(CloseNormal, "")
	if err := wait(); err != nil {
		t.Errorf("server: %v", err)
	}
}

// oneByteReader returns one byte per Read, deterministically.
type oneByteReader struct{ b []byte }

func (r *oneByteReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	p[0] = r.b[0]
	r.b = r.b[1:]
	return 1, nil
}

func TestOneByteReads(t *testing.T) {
	stream, want := byteStream(70000)
	for _, size := range []int{MinReadBufferSize, 4096, DefaultReadBufferSize} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			var sent bytes.Buffer
			c, _ := memTest(t, &oneByteReader{b: stream}, &sent, Options{ReadBufferSize: size})
			got, err := readAll(c, len(want)+1)
			if !errors.Is(err, ErrConnLost) {
				t.Errorf("got error %v; want ErrConnLost at the end of the stream", err)
			}
			if !slices.Equal(got, want) {
				t.Errorf("got %d messages; want %d, equal", len(got), len(want))
			}
			f, err := readClientFrame(bufio.NewReader(&sent))
			if err != nil || f.op != opPong || string(f.payload) != "ping" {
				t.Errorf("got %+v, %v; want a pong \"ping\"", f, err)
			}
		})
	}
}

func TestLargerThanBuffer(t *testing.T) {
	const size = 4096
	var frames []byte
	var want []string
	add := func(f []byte, msg []byte) {
		frames = append(frames, f...)
		want = append(want, string(msg))
	}
	for i := range 3 {
		small := payload(100, byte(i))
		add(frame(true, opText, small), small)
		fits := payload(size-4, byte(i)) // exactly fills the buffer with its 4-byte header
		add(frame(true, opText, fits), fits)
		over := payload(size-3, byte(i)) // one byte too many: assembled
		add(frame(true, opText, over), over)
		huge := payload(100000+i, byte(i))
		add(frame(true, opText, huge), huge)
		a, b := payload(3000, byte(i)), payload(5000, byte(i+1))
		frames = append(frames, frame(false, opText, a)...)
		frames = append(frames, frame(true, opPing, []byte("x"))...)
		add(frame(true, opContinuation, b), join(a, b))
	}
	url, wait := startRaw(t, func(conn net.Conn, br *bufio.Reader, _ *http.Request, resp []byte) error {
		if _, err := conn.Write(join(resp, frames)); err != nil {
			return err
		}
		return drain(br)
	})
	c := dialTest(t, url, Options{ReadBufferSize: size})
	got, err := readAll(c, len(want))
	if err != nil {
		t.Fatalf("ReadMessage: %v", err)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("message %d: got %d bytes; want %d, equal", i, len(got[i]), len(want[i]))
		}
	}
	c.Close(CloseNormal, "")
	if err := wait(); err != nil {
		t.Errorf("server: %v", err)
	}
}

func TestIdleTimeout(t *testing.T) {
	url, wait := startRaw(t, func(conn net.Conn, br *bufio.Reader, _ *http.Request, resp []byte) error {
		if _, err := conn.Write(join(resp, text("only"))); err != nil {
			return err
		}
		return drain(br) // then silence until the client hangs up
	})
	c := dialTest(t, url, Options{IdleTimeout: 200 * time.Millisecond})
	if _, err := c.ReadMessage(); err != nil {
		t.Fatalf("ReadMessage: %v", err)
	}
	_, err := c.ReadMessage()
	if err != ErrIdleTimeout {
		t.Fatalf("got %v; want ErrIdleTimeout", err)
	}
	if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
		t.Errorf("got %T; want a net.Error with Timeout() true", err)
	}
	if err := wait(); err != nil {
		t.Errorf("server: %v", err)
	}
}

func TestIdleDeadlineIsPushedRarely(t *testing.T) {
	c, mc := memTest(t, &replay{stream: text("tick")}, nil, Options{ReadBufferSize: MinReadBufferSize, IdleTimeout: time.Hour})
	for range 10000 {
		if _, err := c.ReadMessage(); err != nil {
			t.Fatalf("ReadMessage: %v", err)
		}
	}
	// One at newConn; another only if a read came IdleTimeout/8 later.
	if mc.deadlines < 1 || mc.deadlines > 2 {
		t.Errorf("got %d SetReadDeadline calls for 10000 messages; want 1 or 2", mc.deadlines)
	}
}

func TestPeerHangsUp(t *testing.T) {
	tests := []struct {
		name  string
		bytes []byte
	}{
		{name: "between frames", bytes: text("x")},
		{name: "inside a header", bytes: join(text("x"), []byte{0x81, 126, 0})},
		{name: "inside a payload", bytes: join(text("x"), []byte{0x81, 5, 'a', 'b'})},
		{name: "inside a fragmented message", bytes: join(text("x"), frame(false, opText, []byte("ab")))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url, wait := startRaw(t, func(conn net.Conn, _ *bufio.Reader, _ *http.Request, resp []byte) error {
				_, err := conn.Write(join(resp, tt.bytes))
				conn.Close()
				return err
			})
			c := dialTest(t, url, Options{})
			got, err := readAll(c, 10)
			if len(got) != 1 || !errors.Is(err, ErrConnLost) {
				t.Errorf("got %q, %v; want [\"x\"], ErrConnLost", got, err)
			}
			if err := wait(); err != nil {
				t.Errorf("server: %v", err)
			}
		})
	}
}

func TestRecvNs(t *testing.T) {
	before := Nanotime()
	c, _ := memTest(t, &replay{stream: text("t")}, nil, Options{ReadBufferSize: MinReadBufferSize})
	m, err := c.ReadMessage()
	after := Nanotime()
	if err != nil {
		t.Fatalf("ReadMessage: %v", err)
	}
	if m.RecvNs < before || m.RecvNs > after {
		t.Errorf("got RecvNs %d; want within [%d, %d]", m.RecvNs, before, after)
	}
}
