package bench

import (
	"bytes"
	"context"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/ringfeed/ringfeed"
)

// wallFields matches the fields a recording takes from the wall clock.
var wallFields = regexp.MustCompile(`"(ts|cts|T)":\d+`)

// TestGenerateDeterministic checks that a seed fixes the feed: two
// recordings with one seed hold the same frames but for wall-clock fields;
// another seed gives another market.
func TestGenerateDeterministic(t *testing.T) {
	ctx := context.Background()
	gen := func(seed uint64) []ringfeed.Frame {
		t.Helper()
		f, err := Generate(ctx, Book50x8, seed, 2_000)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	a, b, c := gen(1), gen(1), gen(2)
	if len(a) != len(b) {
		t.Fatalf("same seed: got %d and %d frames", len(a), len(b))
	}
	data := 0
	for i := range a {
		x, y := wallFields.ReplaceAll(a[i].Data, nil), wallFields.ReplaceAll(b[i].Data, nil)
		if !bytes.Equal(x, y) {
			t.Fatalf("same seed, frame %d differs:\n%s\n%s", i, a[i].Data, b[i].Data)
		}
		if isDataFrame(a[i].Data) {
			data++
		}
		if a[i].RecvUnixNs == 0 {
			t.Fatalf("frame %d has no receive time", i)
		}
	}
	if data != 2_000 {
		t.Errorf("got %d data frames; want 2000", data)
	}
	same := 0
	for i := range min(len(a), len(c)) {
		if bytes.Equal(wallFields.ReplaceAll(a[i].Data, nil), wallFields.ReplaceAll(c[i].Data, nil)) {
			same++
		}
	}
	if same > len(a)/10 {
		t.Errorf("seeds 1 and 2: %d of %d frames equal; want different markets", same, len(a))
	}
}

func TestNDJSONRoundTrip(t *testing.T) {
	frames := []ringfeed.Frame{
		{RecvUnixNs: 5, Data: []byte(`{"success":true,"op":"subscribe"}`)},
		{Data: []byte(`{"topic":"orderbook.1.X","type":"snapshot","ts":1,"data":{"s":"X","b":[],"a":[],"u":1,"seq":1}}`)},
	}
	path := filepath.Join(t.TempDir(), "f.ndjson")
	if err := WriteNDJSONFile(path, frames); err != nil {
		t.Fatal(err)
	}
	back, err := ReadFeedFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(back) != len(frames) {
		t.Fatalf("got %d frames; want %d", len(back), len(frames))
	}
	for i := range frames {
		if !bytes.Equal(back[i].Data, frames[i].Data) || back[i].RecvUnixNs != 0 {
			t.Errorf("frame %d: got %q (recv %d); want %q (NDJSON has no receive times)", i, back[i].Data, back[i].RecvUnixNs, frames[i].Data)
		}
	}
	if got, want := FeedBytes(frames), int64(len(frames[0].Data)+len(frames[1].Data)); got != want {
		t.Errorf("FeedBytes: got %d; want %d", got, want)
	}
	if err := WriteNDJSON(&bytes.Buffer{}, []ringfeed.Frame{{Data: []byte("{\n}")}}); err == nil {
		t.Error("WriteNDJSON of a frame with a newline: got nil error; want one")
	}
	if _, err := ReadFeedFile(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("ReadFeedFile of a missing file: got nil error; want one")
	}
}

func TestTrimData(t *testing.T) {
	ack := ringfeed.Frame{Data: []byte(`{"success":true}`)}
	d := ringfeed.Frame{Data: []byte(`{"topic":"x"}`)}
	frames := []ringfeed.Frame{ack, d, ack, d, d, ack}
	f := func(n, want int) {
		t.Helper()
		if got := len(trimData(frames, n)); got != want {
			t.Errorf("trimData(n=%d): got %d frames; want %d", n, got, want)
		}
	}
	f(1, 2)
	f(2, 4)
	f(3, 5)
	f(4, 6) // fewer data frames than asked: everything
}

func TestRecordCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Generate(ctx, Book50x8, 1, 10); err == nil {
		t.Error("Generate with a cancelled context: got nil error; want one")
	}
}
