package parse

import (
	"errors"
	"strings"
	"sync"
	"testing"
)

func TestSymbols(t *testing.T) {
	s := NewSymbols()
	a, err := s.Add("BTCUSDT", 2, 3)
	if err != nil || a != 0 {
		t.Fatalf("got %d, %v; want 0, nil", a, err)
	}
	b, err := s.Add("BTC-28JUN24-60000-P", 0, 2)
	if err != nil || b != 1 {
		t.Fatalf("got %d, %v; want 1, nil", b, err)
	}
	if id, err := s.Add("BTCUSDT", 1, 1); id != a || !errors.Is(err, ErrDuplicate) {
		t.Fatalf("duplicate: got %d, %v; want %d, ErrDuplicate", id, err, a)
	}
	if id, ok := s.Lookup([]byte("BTC-28JUN24-60000-P")); !ok || id != b {
		t.Fatalf("Lookup: got %d, %v; want %d, true", id, ok, b)
	}
	if _, ok := s.Lookup([]byte("ETHUSDT")); ok {
		t.Fatalf("Lookup(ETHUSDT): got true; want false")
	}
	if s.Name(b) != "BTC-28JUN24-60000-P" || s.Name(99) != "" || s.Len() != 2 {
		t.Fatalf("got Name %q / %q, Len %d", s.Name(b), s.Name(99), s.Len())
	}
	if p, z := s.Scales(a); p != 2 || z != 3 {
		t.Fatalf("Scales: got %d, %d; want 2, 3", p, z)
	}
	if p, z := s.Scales(99); p != 0 || z != 0 {
		t.Fatalf("Scales(99): got %d, %d; want 0, 0", p, z)
	}
	if err := s.SetScales(a, 1, 18); err != nil {
		t.Fatal(err)
	}
	if p, z := s.Scales(a); p != 1 || z != 18 {
		t.Fatalf("after SetScales: got %d, %d; want 1, 18", p, z)
	}
	if err := s.SetScales(a, 19, 0); !errors.Is(err, ErrScale) {
		t.Fatalf("SetScales(19): got %v; want ErrScale", err)
	}
	if err := s.SetScales(5, 1, 1); !errors.Is(err, ErrUnknownSymbol) {
		t.Fatalf("SetScales(unknown): got %v; want ErrUnknownSymbol", err)
	}
}

func TestSymbolsAddRejects(t *testing.T) {
	f := func(name string, ps, ss int, want error) {
		t.Helper()
		s := NewSymbols()
		id, err := s.Add(name, ps, ss)
		if !errors.Is(err, want) || id != NoSymbol || s.Len() != 0 {
			t.Fatalf("Add(%q, %d, %d): got %d, %v; want NoSymbol, %v", name, ps, ss, id, err, want)
		}
	}
	f("", 2, 2, ErrEmpty)
	f(strings.Repeat("A", MaxSymbolLen+1), 2, 2, ErrRange)
	f("BTC\xffUSDT", 2, 2, ErrUTF8)
	f("BTC.USDT", 2, 2, ErrSyntax)
	f("BTC USDT", 2, 2, ErrSyntax)
	f(`BTC"`, 2, 2, ErrSyntax)
	f("BTCUSDT", -1, 2, ErrScale)
	f("BTCUSDT", 2, 19, ErrScale)
}

// TestSymbolsConcurrentReaders runs lookups, parses and SetScales at once;
// under -race it proves the read side shares nothing unsafely.
func TestSymbolsConcurrentReaders(t *testing.T) {
	syms := testSymbols(t)
	var wg sync.WaitGroup
	for g := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := NewParser(syms)
			sink := newSink(1)
			for i := range 300 {
				sink.reset()
				if _, err := p.Parse([]byte(goodBook), 0, sink); err != nil && !errors.Is(err, ErrPrecision) {
					t.Errorf("goroutine %d: %v", g, err)
					return
				}
				if _, ok := syms.Lookup([]byte("XRPUSDT")); !ok {
					t.Errorf("lookup failed")
					return
				}
				if g == 0 {
					_ = syms.SetScales(0, 2+i%2, 3)
				}
			}
		}()
	}
	wg.Wait()
}
