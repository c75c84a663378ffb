package bench

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"strings"
	"testing"
)

func TestQuantile(t *testing.T) {
	vals := []int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	f := func(sorted []int64, q float64, want int64) {
		t.Helper()
		if got := Quantile(sorted, q); got != want {
			t.Errorf("Quantile(%v, %v): got %d; want %d", sorted, q, got, want)
		}
	}
	f(vals, 0, 1)
	f(vals, 0.5, 5)
	f(vals, 0.55, 6)
	f(vals, 0.99, 10)
	f(vals, 1, 10)
	f([]int64{42}, 0.999, 42)
	f(nil, 0.5, 0)
}

func TestWriteCDF(t *testing.T) {
	a := make([]int64, 10_000)
	for i := range a {
		a[i] = int64(1000 + i) // 1µs .. 11µs
	}
	b := []int64{5e6, 1e3, 2e3} // unsorted, up to 5ms
	var buf bytes.Buffer
	err := WriteCDF(&buf, `title <&> "quoted"`, "line one\nline two", []CDFSeries{
		{Name: "a", Values: a}, {Name: "empty"}, {Name: "b", Values: b},
	})
	if err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	// Well-formed XML, one polyline per non-empty series.
	dec := xml.NewDecoder(strings.NewReader(out))
	polylines, texts := 0, []string{}
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v", err)
		}
		switch el := tok.(type) {
		case xml.StartElement:
			if el.Name.Local == "polyline" {
				polylines++
			}
		case xml.CharData:
			texts = append(texts, string(el))
		}
	}
	if polylines != 2 {
		t.Errorf("got %d polylines; want 2", polylines)
	}
	all := strings.Join(texts, "|")
	for _, want := range []string{
		`title <&> "quoted"`, "line one", "line two",
		"a — n=10000  p50=6µs  p99=10.9µs  p99.9=11µs  max=11µs",
		"b — n=3  p50=2µs  p99=5ms  p99.9=5ms  max=5ms",
		"1µs", "10ms", "1e-5",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("text %q missing from the SVG", want)
		}
	}
	if strings.Contains(all, "empty") {
		t.Error("the empty series got a legend line")
	}
}

func TestWriteCDFNoValues(t *testing.T) {
	if err := WriteCDF(io.Discard, "t", "", []CDFSeries{{Name: "x"}}); err == nil {
		t.Error("got nil error for no values; want one")
	}
}

func TestDurLabel(t *testing.T) {
	f := func(ns float64, want string) {
		t.Helper()
		if got := durLabel(ns); got != want {
			t.Errorf("durLabel(%v): got %q; want %q", ns, got, want)
		}
	}
	f(250, "250ns")
	f(1000, "1µs")
	f(15_900, "15.9µs")
	f(2.5e6, "2.5ms")
	f(3e9, "3s")
}
