package wsconn

import (
	"bytes"
	"errors"
	"math"
	"testing"
)

// FuzzReader feeds arbitrary server byte streams to the reader. Whatever the
// bytes, ReadMessage must not panic, must return only valid messages, must
// end in one of the package's errors, and must not allocate more than the
// bytes that actually arrived (never what a header declared).
func FuzzReader(f *testing.F) {
	seeds := [][]byte{
		text("hello"),
		join(frame(false, opText, []byte("a")), frame(true, opPing, []byte("p")), frame(true, opContinuation, []byte("b"))),
		frame(true, opBinary, payload(200, 0)),
		frame(true, opText, payload(300, 0)),                             // assembled: bigger than the buffer
		join([]byte{0x82, 127, 0, 0, 0, 0, 0, 1, 0, 0}, payload(100, 0)), // 64-bit length, short payload
		closeFrame(1000, "bye"),
		frame(true, opClose, nil),
		{0x81, 127, 0x10, 0, 0, 0, 0, 0, 0, 0, 'x'},
		{0x81, 127, 0x80, 0, 0, 0, 0, 0, 0, 0},
		{0x81, 0x81, 1, 2, 3, 4, 'x'},
		{0xC1, 0x01, 'x'},
		{0x80, 0x01, 'x'},
		{0x09, 0x00},
		{0x8B, 0x00},
		join(frame(false, opText, payload(200, 1)), frame(true, opContinuation, payload(200, 2))), // oversize
	}
	for _, s := range seeds {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, data []byte, unlimited bool) {
		maxMsg := int64(300)
		if unlimited {
			maxMsg = math.MaxInt64
		}
		c, _ := memTest(t, bytes.NewReader(data), nil, Options{ReadBufferSize: MinReadBufferSize, MaxMessageSize: maxMsg})
		var err error
		// Every message consumes at least a 2-byte header.
		for range len(data)/2 + 2 {
			var m Message
			m, err = c.ReadMessage()
			if err != nil {
				break
			}
			if m.Op != OpText && m.Op != OpBinary {
				t.Fatalf("got opcode %d; want text or binary", m.Op)
			}
			if int64(len(m.Payload)) > maxMsg || len(m.Payload) > len(data) {
				t.Fatalf("got %d-byte payload from %d input bytes, max %d", len(m.Payload), len(data), maxMsg)
			}
		}
		if err == nil {
			t.Fatalf("got no error after %d bytes; want the stream to end in an error", len(data))
		}
		if _, isClose := errors.AsType[*CloseError](err); !isClose &&
			!errors.Is(err, ErrProtocol) && err != ErrMessageTooBig && err != ErrConnLost {
			t.Fatalf("got error %v; want a close, protocol, size or lost-connection error", err)
		}
		if _, again := c.ReadMessage(); again != err {
			t.Fatalf("second ReadMessage: got %v; want the same error %v", again, err)
		}
		if limit := 2*len(data) + 4096; cap(c.frag) > limit {
			t.Fatalf("assembly buffer grew to %d for %d input bytes; want at most %d", cap(c.frag), len(data), limit)
		}
	})
}
