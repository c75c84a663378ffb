package bybitsim

import (
	"bufio"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// rawConn is a hand-rolled client (handshake written byte by byte, frames
// parsed here) for tests that must see individual frames: fragments,
// control frames between them, binary frames.
type rawConn struct {
	t  *testing.T
	nc net.Conn
	br *bufio.Reader
}

func rawDial(t *testing.T, s *Server, category string) *rawConn {
	t.Helper()
	nc, err := net.DialTimeout("tcp", s.Addr(), waitLong)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { _ = nc.Close() })
	key := base64.StdEncoding.EncodeToString([]byte("0123456789abcdef"))
	fmt.Fprintf(nc, "GET /v5/public/%s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n", category, s.Addr(), key)
	br := bufio.NewReader(nc)
	_ = nc.SetReadDeadline(time.Now().Add(waitLong))
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("handshake: %v %v", resp, err)
	}
	return &rawConn{t: t, nc: nc, br: br}
}

// send writes one masked text frame.
func (rc *rawConn) send(p string) {
	rc.t.Helper()
	mask := [4]byte{1, 2, 3, 4}
	b := []byte{0x81}
	switch n := len(p); {
	case n < 126:
		b = append(b, 0x80|byte(n))
	default:
		b = append(b, 0x80|126, byte(n>>8), byte(n))
	}
	b = append(b, mask[:]...)
	for i := range len(p) {
		b = append(b, p[i]^mask[i%4])
	}
	_, err := rc.nc.Write(b)
	if err != nil {
		rc.t.Fatalf("raw write: %v", err)
	}
}

type rawFrame struct {
	fin     bool
	op      byte
	payload []byte
}

// frame reads one frame (server frames are unmasked).
func (rc *rawConn) frame() rawFrame {
	rc.t.Helper()
	_ = rc.nc.SetReadDeadline(time.Now().Add(waitLong))
	var h [2]byte
	_, err := io.ReadFull(rc.br, h[:])
	if err != nil {
		rc.t.Fatalf("raw read: %v", err)
	}
	if h[1]&0x80 != 0 {
		rc.t.Fatalf("server frame is masked")
	}
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		var e [2]byte
		_, err = io.ReadFull(rc.br, e[:])
		n = uint64(binary.BigEndian.Uint16(e[:]))
	case 127:
		var e [8]byte
		_, err = io.ReadFull(rc.br, e[:])
		n = binary.BigEndian.Uint64(e[:])
	}
	if err != nil || n > 64<<20 {
		rc.t.Fatalf("raw length %d: %v", n, err)
	}
	p := make([]byte, n)
	_, err = io.ReadFull(rc.br, p)
	if err != nil {
		rc.t.Fatalf("raw payload: %v", err)
	}
	return rawFrame{fin: h[0]&0x80 != 0, op: h[0] & 0x0f, payload: p}
}

// connID subscribes and returns the conn_id from the ack.
func (rc *rawConn) subscribe(topics ...string) string {
	rc.t.Helper()
	rc.send(subscribeMsg(topics...))
	for range 100 {
		f := rc.frame()
		if fr := decode(rc.t, f.payload); fr.Topic == "" {
			return fr.ConnID
		}
	}
	rc.t.Fatalf("no ack")
	return ""
}

func TestFrameHeader(t *testing.T) {
	f := func(op byte, fin bool, n int, want string) {
		t.Helper()
		got := fmt.Sprintf("% x", appendFrameHeader(nil, opCode(op), fin, n))
		if got != want {
			t.Fatalf("header(op %d, fin %v, %d) = %s; want %s", op, fin, n, got, want)
		}
	}
	f(1, true, 0, "81 00")
	f(1, true, 125, "81 7d")
	f(1, true, 126, "81 7e 00 7e")
	f(2, false, 65535, "02 7e ff ff")
	f(0, true, 65536, "80 7f 00 00 00 00 00 01 00 00")
	f(9, true, 4, "89 04")
	if got := fmt.Sprintf("% x", appendClose(nil, 1001, "bye")); got != "88 05 03 e9 62 79 65" {
		t.Fatalf("close frame %s", got)
	}
	frag := appendFrame(nil, 1, []byte("abcdefgh"), 3, true)
	want := "01 03 61 62 63 89 04 66 72 61 67 00 03 64 65 66 80 02 67 68"
	if got := fmt.Sprintf("% x", frag); got != want {
		t.Fatalf("fragments %s; want %s", got, want)
	}
	if got := fmt.Sprintf("% x", appendFrame(nil, 1, []byte("ab"), 3, true)); got != "81 02 61 62" {
		t.Fatalf("short message fragmented: %s", got)
	}
	if !strings.HasPrefix(fmt.Sprintf("% x", appendFrame(nil, 9, []byte("abcdefgh"), 3, false)), "89 08") {
		t.Fatalf("control frame fragmented")
	}
}
