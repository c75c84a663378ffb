//go:build !race

package capture

import (
	"path/filepath"
	"testing"
)

// Reading frames does not allocate: Next returns slices of the mapped
// file or of the reused buffer.
func TestReaderNextNoAlloc(t *testing.T) {
	frames := testFrames(20000)
	for _, name := range []string{"a.cap", "a.cap.zst"} {
		path := filepath.Join(t.TempDir(), name)
		writeCapture(t, path, WriterOptions{Compress: filepath.Ext(name) == ".zst"}, frames)
		r, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		for range 1000 { // warm up: the decoder's buffers
			r.Next()
		}
		if n := testing.AllocsPerRun(10000, func() {
			if _, err := r.Next(); err != nil {
				t.Fatal(err)
			}
		}); n != 0 {
			t.Errorf("%s: Next allocates %v times per frame; want 0", name, n)
		}
		r.Close()
	}
}
