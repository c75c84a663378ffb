package tape

import "testing"

// BenchmarkAdd: one new trade and one repeat per op, a full 1000-trade tape.
func BenchmarkAdd(b *testing.B) {
	tp := New(1000)
	addRange(tp, 1, 1000)
	n := 1000
	b.ReportAllocs()
	for b.Loop() {
		n++
		tr := mk(n)
		tp.Add(&tr, int64(n))
		tp.Add(&tr, int64(n))
	}
}
