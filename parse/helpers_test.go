package parse

import (
	"errors"
	"math/big"
	"testing"
)

// sliceSink hands out the slots of a preallocated slice, like a ring would.
type sliceSink struct {
	evs []Event
	n   int
}

func newSink(n int) *sliceSink { return &sliceSink{evs: make([]Event, n)} }

func (s *sliceSink) Next() *Event {
	if s.n == len(s.evs) {
		return nil
	}
	s.n++
	return &s.evs[s.n-1]
}

func (s *sliceSink) reset()          { s.n = 0 }
func (s *sliceSink) events() []Event { return s.evs[:s.n] }

// oracleDecimal converts a decimal string with math/big, independently of
// ParseDecimal: ok is false when the value is not exact at scale or does
// not fit an int64.
func oracleDecimal(s string, scale int) (int64, bool) {
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return 0, false
	}
	r.Mul(r, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale)), nil)))
	if !r.IsInt() || !r.Num().IsInt64() {
		return 0, false
	}
	return r.Num().Int64(), true
}

// wantErr checks that err is an *Error for field with reason.
func wantErr(t *testing.T, err error, field string, reason error) {
	t.Helper()
	var pe *Error
	if !errors.As(err, &pe) {
		t.Fatalf("got error %v (%T); want *Error{%s, %v}", err, err, field, reason)
	}
	if pe.Field != field || !errors.Is(err, reason) {
		t.Fatalf("got *Error{%q, %v}; want {%q, %v}", pe.Field, pe.Reason, field, reason)
	}
}

// levelsOf concatenates the bids and asks of a message's book events and
// checks the split invariants: First only on the first event, Last only on
// the last, at most LevelsPerEvent levels each, bids before asks, and an
// identical header on every part.
func levelsOf(t *testing.T, evs []Event) (bids, asks []Level) {
	t.Helper()
	if len(evs) == 0 {
		t.Fatalf("got 0 events; want ≥ 1")
	}
	for i := range evs {
		e := &evs[i]
		if e.Kind != KindBook {
			t.Fatalf("event %d: got kind %v; want book", i, e.Kind)
		}
		if got, want := e.Is(First), i == 0; got != want {
			t.Fatalf("event %d: got First %v; want %v", i, got, want)
		}
		if got, want := e.Is(Last), i == len(evs)-1; got != want {
			t.Fatalf("event %d: got Last %v; want %v", i, got, want)
		}
		if n := int(e.NBids) + int(e.NAsks); n > LevelsPerEvent || (n < LevelsPerEvent && i != len(evs)-1) {
			t.Fatalf("event %d: got %d levels; want %d (or fewer in the last)", i, n, LevelsPerEvent)
		}
		if e.NBids > 0 && len(asks) > 0 {
			t.Fatalf("event %d: bids after asks", i)
		}
		h0, h := evs[0], *e
		if h.Sym != h0.Sym || h.U != h0.U || h.Seq != h0.Seq || h.TS != h0.TS || h.CTS != h0.CTS ||
			h.Depth != h0.Depth || h.RecvNs != h0.RecvNs || h.Is(Snapshot) != h0.Is(Snapshot) {
			t.Fatalf("event %d: header differs from the first event's", i)
		}
		bids = append(bids, e.Bids()...)
		asks = append(asks, e.Asks()...)
	}
	return bids, asks
}
