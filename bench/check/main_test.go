package main

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	in := `goos: linux
pkg: example
BenchmarkA-2   	 1000	  120 ns/op	  16 B/op	  0 allocs/op
BenchmarkA-2   	 1000	  100 ns/op	  16 B/op	  0 allocs/op
BenchmarkB/sub=x-8	 10	 2044 ns/op	 102.04 MB/s	 0.001 allocs/msg	 0 allocs/op
--- BENCH: BenchmarkB/sub=x-8
    e2e_bench_test.go:59: a log line
BenchmarkC	oops
PASS
ok  	example	1.0s
`
	r, err := parse(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	f := func(name, unit string, want []float64) {
		t.Helper()
		got := r[name][unit]
		if len(got) != len(want) {
			t.Fatalf("%s %s: got %v; want %v", name, unit, got, want)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("%s %s: got %v; want %v", name, unit, got, want)
			}
		}
	}
	f("BenchmarkA", "ns/op", []float64{120, 100})
	f("BenchmarkA", "allocs/op", []float64{0, 0})
	f("BenchmarkB/sub=x", "MB/s", []float64{102.04})
	f("BenchmarkB/sub=x", "allocs/msg", []float64{0.001})
	if len(r) != 2 {
		t.Errorf("got %d benchmarks; want 2", len(r))
	}
}

func TestMedian(t *testing.T) {
	f := func(in []float64, want float64) {
		t.Helper()
		if got := median(in); got != want {
			t.Errorf("median(%v): got %v; want %v", in, got, want)
		}
	}
	f([]float64{3}, 3)
	f([]float64{3, 1, 2}, 2)
	f([]float64{4, 1, 3, 2}, 2.5)
}

func TestCompare(t *testing.T) {
	mk := func(ns, allocs float64) map[string][]float64 {
		return map[string][]float64{"ns/op": {ns, ns}, "allocs/op": {allocs, allocs}}
	}
	f := func(name string, base, cur runs, threshold float64, wantFail bool, wantGeo float64, wantNewAllocs int) {
		t.Helper()
		v := compare(base, cur, threshold)
		if v.failed() != wantFail {
			t.Errorf("%s: failed got %v; want %v", name, v.failed(), wantFail)
		}
		if math.Abs(v.geomean-wantGeo) > 1e-9 {
			t.Errorf("%s: geomean got %v; want %v", name, v.geomean, wantGeo)
		}
		if len(v.newAllocs) != wantNewAllocs {
			t.Errorf("%s: new allocs got %d; want %d", name, len(v.newAllocs), wantNewAllocs)
		}
	}
	base := runs{"A": mk(100, 0), "B": mk(100, 2)}
	f("same", base, runs{"A": mk(100, 0), "B": mk(100, 2)}, 0.10, false, 1, 0)
	// 1.21 × 1 → geomean 1.1: at the limit, not over it.
	f("at limit", base, runs{"A": mk(121, 0), "B": mk(100, 2)}, 0.10, false, 1.1, 0)
	f("over limit", base, runs{"A": mk(144, 0), "B": mk(100, 2)}, 0.10, true, 1.2, 0)
	f("faster", base, runs{"A": mk(25, 0), "B": mk(100, 2)}, 0.10, false, 0.5, 0)
	f("new alloc", base, runs{"A": mk(100, 1), "B": mk(100, 2)}, 0.10, true, 1, 1)
	f("more allocs where some already", base, runs{"A": mk(100, 0), "B": mk(100, 9)}, 0.10, false, 1, 0)
	f("only in one", base, runs{"A": mk(100, 0), "C": mk(1e6, 5)}, 0.10, false, 1, 0)
}

func TestRun(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	base := write("base.txt", "BenchmarkA-2 10 100 ns/op 0 allocs/op\n")
	good := write("good.txt", "BenchmarkA-2 10 105 ns/op 0 allocs/op\n")
	slow := write("slow.txt", "BenchmarkA-2 10 150 ns/op 0 allocs/op\n")
	empty := write("empty.txt", "PASS\n")
	f := func(args []string, want int) {
		t.Helper()
		var out, errOut bytes.Buffer
		if got := run(args, &out, &errOut); got != want {
			t.Errorf("run(%v): got %d; want %d\n%s%s", args, got, want, out.String(), errOut.String())
		}
	}
	f([]string{base, good}, 0)
	f([]string{base, slow}, 1)
	f([]string{"-threshold", "60", base, slow}, 0)
	f([]string{base, empty}, 2)
	f([]string{base}, 2)
	f([]string{base, filepath.Join(dir, "missing.txt")}, 2)
}
