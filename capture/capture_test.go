package capture

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func testFrames(n int) []Frame {
	frames := make([]Frame, n)
	for i := range frames {
		frames[i] = Frame{RecvUnixNs: 1_700_000_000_000_000_000 + int64(i)*1000,
			Data: fmt.Appendf(nil, `{"topic":"orderbook.50.BTCUSDT","type":"delta","ts":%d,"data":{"s":"BTCUSDT","b":[["%d.5","1"]],"a":[],"u":%d}}`, 1700000000000+i, 60000+i, i+2)}
	}
	return frames
}

func writeCapture(t *testing.T, path string, o WriterOptions, frames []Frame) *Writer {
	t.Helper()
	w, err := Create(path, o)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range frames {
		if err := w.WriteFrame(f.RecvUnixNs, f.Data); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return w
}

func readFile(t *testing.T, path string) ([]Frame, error) {
	t.Helper()
	r, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var out []Frame
	for {
		f, err := r.Next()
		if errors.Is(err, io.EOF) {
			return out, r.Truncated()
		}
		if err != nil {
			return out, err
		}
		f.Data = bytes.Clone(f.Data)
		out = append(out, f)
	}
}

func sameFrames(t *testing.T, got, want []Frame) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d frames; want %d", len(got), len(want))
	}
	for i := range want {
		if got[i].RecvUnixNs != want[i].RecvUnixNs || !bytes.Equal(got[i].Data, want[i].Data) {
			t.Fatalf("frame %d: got %d %q; want %d %q", i, got[i].RecvUnixNs, got[i].Data, want[i].RecvUnixNs, want[i].Data)
		}
	}
}

// A capture written plain or compressed reads back frame for frame, from
// a file (mapped or streamed) and from any io.Reader.
func TestWriteReadRoundTrip(t *testing.T) {
	frames := testFrames(5000)
	for _, name := range []string{"day.cap", "day.cap.zst"} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), name)
			writeCapture(t, path, WriterOptions{Compress: filepath.Ext(name) == ".zst"}, frames)
			got, err := readFile(t, path)
			if err != nil {
				t.Fatal(err)
			}
			sameFrames(t, got, frames)
			raw, _ := os.ReadFile(path)
			got, err = ReadAll(bytes.NewReader(raw))
			if err != nil {
				t.Fatal(err)
			}
			sameFrames(t, got, frames)
		})
	}
}

// A file cut anywhere — a killed recorder, a full disk — yields every
// record before the cut, and Truncated says so; a cut on a record
// boundary is a clean end.
func TestTruncatedCaptureKeepsCompleteFrames(t *testing.T) {
	frames := testFrames(300)
	path := filepath.Join(t.TempDir(), "cut.cap")
	writeCapture(t, path, WriterOptions{}, frames)
	full, _ := os.ReadFile(path)
	// Record boundaries: the magic, then 12 + len each.
	ends := []int{len(Magic)}
	for _, f := range frames {
		ends = append(ends, ends[len(ends)-1]+headerSize+len(f.Data))
	}
	f := func(cut int) {
		t.Helper()
		p := filepath.Join(t.TempDir(), "c.cap")
		if err := os.WriteFile(p, full[:len(full)-cut], 0o644); err != nil {
			t.Fatal(err)
		}
		got, err := readFile(t, p)
		n := 0
		for n+1 < len(ends) && ends[n+1] <= len(full)-cut {
			n++
		}
		onBoundary := ends[n] == len(full)-cut
		if onBoundary && err != nil {
			t.Errorf("cut %d on a boundary: got %v; want a clean end", cut, err)
		}
		if !onBoundary && err == nil {
			t.Errorf("cut %d: no truncation reported", cut)
		}
		sameFrames(t, got, frames[:n])
	}
	for _, cut := range []int{0, 1, 7, 11, 12, 13, headerSize + len(frames[299].Data), headerSize + len(frames[299].Data) + 5, 5000} {
		f(cut)
	}
}

// A compressed capture cut off (the recorder flushes whole zstd blocks
// every second) yields the frames of its complete blocks.
func TestTruncatedZstdKeepsFlushedFrames(t *testing.T) {
	frames := testFrames(2000)
	path := filepath.Join(t.TempDir(), "day.cap.zst")
	w, err := Create(path, WriterOptions{Compress: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range frames[:1000] {
		w.WriteFrame(f.RecvUnixNs, f.Data)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	flushed, _ := os.ReadFile(path)
	for _, f := range frames[1000:] {
		w.WriteFrame(f.RecvUnixNs, f.Data)
	}
	w.Close()
	full, _ := os.ReadFile(path)
	if len(full) <= len(flushed)+10 {
		t.Fatalf("the second half added %d bytes", len(full)-len(flushed))
	}
	p := filepath.Join(t.TempDir(), "cut.cap.zst")
	os.WriteFile(p, full[:len(flushed)+10], 0o644)
	got, err := readFile(t, p)
	if err == nil {
		t.Error("no truncation reported")
	}
	if len(got) < 1000 {
		t.Fatalf("got %d frames; want ≥ 1000 (the flushed ones)", len(got))
	}
	sameFrames(t, got, frames[:len(got)])
}

// NDJSON: a bare frame per line, "<ns> {…}", or the export's
// {"recv_ns":…,"data":…}; blank and foreign lines skipped; a last line
// without its newline is a frame if complete, a cut-off line otherwise.
func TestReadNDJSON(t *testing.T) {
	f := func(in string, want []Frame, truncated bool, skipped int) {
		t.Helper()
		r, err := NewReader(bytes.NewReader([]byte(in)))
		if err != nil {
			t.Fatal(err)
		}
		var got []Frame
		for {
			fr, err := r.Next()
			if err != nil {
				break
			}
			fr.Data = bytes.Clone(fr.Data)
			got = append(got, fr)
		}
		sameFrames(t, got, want)
		if (r.Truncated() != nil) != truncated {
			t.Errorf("%q: Truncated() = %v; want truncated %v", in, r.Truncated(), truncated)
		}
		if r.Skipped() != skipped {
			t.Errorf("%q: Skipped() = %d; want %d", in, r.Skipped(), skipped)
		}
	}
	a, b := `{"topic":"a"}`, `{"topic":"b","data":{}}`
	f(a+"\n"+b+"\n", []Frame{{Data: []byte(a)}, {Data: []byte(b)}}, false, 0)
	f(a+"\r\n\n  \n"+b, []Frame{{Data: []byte(a)}, {Data: []byte(b)}}, false, 0)
	f("17 "+a+"\n", []Frame{{RecvUnixNs: 17, Data: []byte(a)}}, false, 0)
	f(`{"recv_ns":42,"data":`+b+"}\n", []Frame{{RecvUnixNs: 42, Data: []byte(b)}}, false, 0)
	f("# comment\n"+a+"\n", []Frame{{Data: []byte(a)}}, false, 1)
	f(a+"\n"+`{"topic":"b","da`, []Frame{{Data: []byte(a)}}, true, 0)
	f("", nil, false, 0)
}

// Lines longer than the buffer grow it.
func TestReadLongLines(t *testing.T) {
	long := `{"topic":"x","pad":"` + string(bytes.Repeat([]byte("y"), 3<<20)) + `"}`
	in := long + "\n" + long + "\n"
	got, err := ReadAll(bytes.NewReader([]byte(in)))
	if err != nil || len(got) != 2 || string(got[1].Data) != long {
		t.Fatalf("got %d frames, %v", len(got), err)
	}
}

func TestName(t *testing.T) {
	f := func(path string, n int, rotating bool, want string) {
		t.Helper()
		if got := Name(path, n, rotating); got != want {
			t.Errorf("Name(%q, %d, %v) = %q; want %q", path, n, rotating, got, want)
		}
	}
	f("day.cap.zst", 1, false, "day.cap.zst")
	f("day.cap.zst", 1, true, "day.000001.cap.zst")
	f("/d/x/day.cap", 12, true, "/d/x/day.000012.cap")
	f("day", 3, true, "day.000003")
	f(".hidden", 2, true, ".hidden.000002")
}

// Rotation by size starts numbered files between records, and the series
// read in order is the whole capture.
func TestRotateBySizeAndAge(t *testing.T) {
	frames := testFrames(3000)
	dir := t.TempDir()
	w, err := Create(filepath.Join(dir, "r.cap"), WriterOptions{RotateSize: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range frames {
		w.WriteFrame(f.RecvUnixNs, f.Data)
		if i%100 == 99 {
			if err := w.Rotate(); err != nil {
				t.Fatal(err)
			}
		}
	}
	w.Close()
	if len(w.Files()) < 3 {
		t.Fatalf("got %d files; want several", len(w.Files()))
	}
	var all []Frame
	for _, p := range w.Files() {
		got, err := readFile(t, p)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, got...)
	}
	sameFrames(t, all, frames)

	now := time.Unix(0, 0)
	w, err = Create(filepath.Join(dir, "a.cap.zst"), WriterOptions{Compress: true, RotateEvery: time.Hour, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	w.WriteFrame(1, frames[0].Data)
	w.Rotate()
	now = now.Add(time.Hour)
	w.WriteFrame(2, frames[1].Data)
	w.Rotate() // the file is an hour old now: the next frame starts file 2
	w.WriteFrame(3, frames[2].Data)
	w.Close()
	if got := len(w.Files()); got != 2 {
		t.Fatalf("got %d files; want 2", got)
	}
	a, _ := readFile(t, w.Files()[0])
	b, _ := readFile(t, w.Files()[1])
	if len(a) != 2 || len(b) != 1 {
		t.Errorf("got %d + %d frames; want 2 + 1", len(a), len(b))
	}
}

func TestRingDropsWhatDoesNotFit(t *testing.T) {
	r := NewRing(1024)
	big := bytes.Repeat([]byte("x"), 600)
	if !r.Put(1, big) || r.Put(2, big) {
		t.Fatal("want the first put to fit and the second to drop")
	}
	if r.Dropped() != 1 {
		t.Errorf("Dropped() = %d; want 1", r.Dropped())
	}
	var buf bytes.Buffer
	buf.WriteString(Magic)
	if err := r.DrainTo(&buf); err != nil {
		t.Fatal(err)
	}
	// After draining there is room again, across the wrap.
	for i := range 5 {
		if !r.Put(int64(10+i), big[:300]) {
			t.Fatalf("put %d dropped after drain", i)
		}
		r.DrainTo(&buf)
	}
	got, err := ReadAll(&buf)
	if err != nil || len(got) != 6 || got[5].RecvUnixNs != 14 {
		t.Fatalf("got %d frames, %v", len(got), err)
	}
}
