package wsconn

import (
	"bufio"
	"bytes"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestSharedCaptures streams the real Bybit frames kept outside the repository
// (shared/testdata/bybit) through a loopback server, whole and fragmented,
// with a ReadBufferSize small enough that the big snapshots are assembled.
// It is skipped where the captures are absent; the rest of the suite stands
// on data generated here.
func TestSharedCaptures(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "shared", "testdata", "bybit")
	files, _ := filepath.Glob(filepath.Join(dir, "*.json*"))
	if len(files) == 0 {
		t.Skipf("no captures in %s", dir)
	}
	var want []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(f, ".jsonl") {
			for line := range bytes.Lines(b) {
				if line = bytes.TrimSpace(line); len(line) > 0 {
					want = append(want, string(line))
				}
			}
			continue
		}
		want = append(want, string(bytes.TrimSpace(b)))
	}
	var stream []byte
	for i, m := range want {
		if i%2 == 0 {
			stream = append(stream, text(m)...)
			continue
		}
		half := len(m) / 2
		stream = append(stream, frame(false, opText, []byte(m[:half]))...)
		stream = append(stream, frame(true, opPing, nil)...)
		stream = append(stream, frame(true, opContinuation, []byte(m[half:]))...)
	}
	url, wait := startRaw(t, func(conn net.Conn, br *bufio.Reader, _ *http.Request, resp []byte) error {
		if _, err := conn.Write(join(resp, stream)); err != nil {
			return err
		}
		return drain(br)
	})
	c := dialTest(t, url, Options{ReadBufferSize: 8192})
	got, err := readAll(c, len(want))
	if err != nil {
		t.Fatalf("ReadMessage: %v", err)
	}
	if !slices.Equal(got, want) {
		t.Errorf("got %d messages; want %d, byte-identical", len(got), len(want))
	}
	c.Close(CloseNormal, "")
	if err := wait(); err != nil {
		t.Errorf("server: %v", err)
	}
}
