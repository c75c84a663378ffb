//go:build !race

package tape

import "testing"

func TestAddNoAlloc(t *testing.T) {
	tp := New(1000)
	n := 0
	allocs := testing.AllocsPerRun(1000, func() {
		n++
		tr := mk(n)
		tp.Add(&tr, int64(n))
		tp.Add(&tr, int64(n)) // the repeat
	})
	if allocs != 0 {
		t.Errorf("Add: got %v allocs; want 0", allocs)
	}
}
