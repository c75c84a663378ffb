package tape

import (
	"testing"

	"github.com/ringfeed/ringfeed/parse"
)

// BenchmarkAdd: per op one new trade (compared with the newest 64, no
// match) and its repeat (matched at once), on a full 1000-trade tape:
// the stream's steady state.
func BenchmarkAdd(b *testing.B) {
	trs := make([]parse.Trade, 1<<16)
	for i := range trs {
		trs[i] = mk(i + 1)
	}
	tp := New(1000)
	for i := range 1000 {
		tp.Add(&trs[i], 0)
	}
	n := 1000
	b.ReportAllocs()
	for b.Loop() {
		tr := &trs[n&(len(trs)-1)]
		tr.Time = int64(n) * 10 // keep time increasing across wraps
		n++
		tp.Add(tr, 0)
		tp.Add(tr, 0)
	}
}
