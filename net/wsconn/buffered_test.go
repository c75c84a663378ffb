package wsconn

import "testing"

func TestBuffered(t *testing.T) {
	text := func(p string) []byte { return append([]byte{0x81, byte(len(p))}, p...) }
	f := func(name string, stream []byte, want bool) {
		t.Helper()
		c := &Conn{buf: make([]byte, 1024), maxMsg: 1 << 20}
		c.w = copy(c.buf, stream)
		if got := c.Buffered(); got != want {
			t.Errorf("%s: got %v; want %v", name, got, want)
		}
	}
	f("empty", nil, false)
	f("one byte", []byte{0x81}, false)
	f("whole text frame", text("hello"), true)
	f("partial text frame", text("hello")[:4], false)
	f("binary frame", []byte{0x82, 1, 'x'}, true)
	f("ping (control: would read on)", []byte{0x89, 0}, false)
	f("first fragment", []byte{0x01, 1, 'x'}, false)
	f("stray continuation", []byte{0x80, 1, 'x'}, false)
	f("126-length header cut", []byte{0x81, 126, 0}, false)
	big := append([]byte{0x81, 126, 0, 200}, make([]byte, 200)...)
	f("126-length whole", big, true)
	f("126-length partial", big[:100], false)
	f("127-length", []byte{0x81, 127, 0, 0, 0, 0, 0, 0, 0, 1, 'x'}, false)
}
