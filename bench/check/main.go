// Command check is the regression gate behind `make bench-check`: it
// compares a benchmark run with the committed baseline and fails (exit
// status 1) when
//
//   - a benchmark allocates (median allocs/op > 0) where the baseline's
//     median was 0, or
//   - the geometric mean of the per-benchmark ratios new/baseline of the
//     median ns/op exceeds 1 + threshold/100.
//
// Only ns/op and allocs/op are gated: latency percentiles and other custom
// metrics are too noisy on a shared machine and are only reported (by
// benchstat in `make bench-compare`). Benchmarks present in one file only
// are listed and otherwise ignored.
//
// Usage:
//
//	go run ./bench/check [-threshold 10] [-top 10] baseline.txt new.txt
//
// Both files are in the Go benchmark format (`go test -bench` output).
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	threshold := fs.Float64("threshold", 10, "fail when the geomean of ns/op ratios regresses by more than this many `percent`")
	top := fs.Int("top", 10, "list this many of the worst ns/op ratios")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 2 || *threshold < 0 {
		fmt.Fprintln(stderr, "usage: check [-threshold PERCENT] [-top N] baseline.txt new.txt")
		return 2
	}
	base, err := readFile(fs.Arg(0))
	if err != nil {
		fmt.Fprintln(stderr, "check:", err)
		return 2
	}
	cur, err := readFile(fs.Arg(1))
	if err != nil {
		fmt.Fprintln(stderr, "check:", err)
		return 2
	}
	v := compare(base, cur, *threshold/100)
	v.print(stdout, *top, *threshold)
	if v.failed() {
		return 1
	}
	return 0
}

// runs maps a benchmark name (without the -GOMAXPROCS suffix) to its
// values per unit, one per run.
type runs map[string]map[string][]float64

func readFile(path string) (runs, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r, err := parse(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(r) == 0 {
		return nil, fmt.Errorf("%s: no benchmark results", path)
	}
	return r, nil
}

var procsSuffix = regexp.MustCompile(`-\d+$`)

// parse reads benchmark result lines: "BenchmarkX-2  100  123 ns/op  4 allocs/op ...".
// Other lines (configuration, logs, PASS/ok) are skipped.
func parse(r io.Reader) (runs, error) {
	out := runs{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for ln := 1; sc.Scan(); ln++ {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") || len(f)%2 != 0 {
			continue
		}
		if _, err := strconv.ParseInt(f[1], 10, 64); err != nil {
			continue
		}
		name := procsSuffix.ReplaceAllString(f[0], "")
		m := out[name]
		if m == nil {
			m = map[string][]float64{}
			out[name] = m
		}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				return nil, fmt.Errorf("line %d: value %q: %v", ln, f[i], err)
			}
			m[f[i+1]] = append(m[f[i+1]], v)
		}
	}
	return out, sc.Err()
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

type ratio struct {
	name      string
	base, cur float64
}

type verdict struct {
	ratios     []ratio // ns/op, both present and positive
	geomean    float64
	limit      float64
	newAllocs  []ratio // allocs/op: baseline 0, now > 0
	onlyBase   []string
	onlyNew    []string
	comparable int
}

func (v *verdict) failed() bool { return len(v.newAllocs) > 0 || v.geomean > v.limit }

// compare applies the gate's two rules to the medians of each benchmark.
func compare(base, cur runs, threshold float64) *verdict {
	v := &verdict{limit: 1 + threshold, geomean: 1}
	var logSum float64
	for name, b := range base {
		c, ok := cur[name]
		if !ok {
			v.onlyBase = append(v.onlyBase, name)
			continue
		}
		v.comparable++
		if bn, cn := b["ns/op"], c["ns/op"]; len(bn) > 0 && len(cn) > 0 {
			r := ratio{name, median(bn), median(cn)}
			if r.base > 0 && r.cur > 0 {
				v.ratios = append(v.ratios, r)
				logSum += math.Log(r.cur / r.base)
			}
		}
		if ba, ca := b["allocs/op"], c["allocs/op"]; len(ba) > 0 && len(ca) > 0 {
			if mb, mc := median(ba), median(ca); mb == 0 && mc > 0 {
				v.newAllocs = append(v.newAllocs, ratio{name, mb, mc})
			}
		}
	}
	for name := range cur {
		if _, ok := base[name]; !ok {
			v.onlyNew = append(v.onlyNew, name)
		}
	}
	if len(v.ratios) > 0 {
		v.geomean = math.Exp(logSum / float64(len(v.ratios)))
	}
	sort.Slice(v.ratios, func(i, j int) bool { return v.ratios[i].cur/v.ratios[i].base > v.ratios[j].cur/v.ratios[j].base })
	sort.Slice(v.newAllocs, func(i, j int) bool { return v.newAllocs[i].name < v.newAllocs[j].name })
	sort.Strings(v.onlyBase)
	sort.Strings(v.onlyNew)
	return v
}

func (v *verdict) print(w io.Writer, top int, threshold float64) {
	fmt.Fprintf(w, "bench-check: %d benchmarks in both runs, %d with ns/op\n", v.comparable, len(v.ratios))
	if len(v.onlyBase) > 0 {
		fmt.Fprintf(w, "  only in the baseline (ignored): %d, e.g. %s\n", len(v.onlyBase), v.onlyBase[0])
	}
	if len(v.onlyNew) > 0 {
		fmt.Fprintf(w, "  only in the new run (ignored): %d, e.g. %s\n", len(v.onlyNew), v.onlyNew[0])
	}
	if n := min(top, len(v.ratios)); n > 0 {
		fmt.Fprintf(w, "  worst ns/op ratios (median new / median baseline):\n")
		for _, r := range v.ratios[:n] {
			fmt.Fprintf(w, "    %6.3fx  %s (%.4g → %.4g ns/op)\n", r.cur/r.base, r.name, r.base, r.cur)
		}
	}
	status := "ok"
	if v.geomean > v.limit {
		status = "FAIL"
	}
	fmt.Fprintf(w, "  geomean ns/op ratio: %.3fx (limit %.3fx, threshold %g%%): %s\n", v.geomean, v.limit, threshold, status)
	if len(v.newAllocs) == 0 {
		fmt.Fprintf(w, "  allocations: no benchmark allocates where the baseline did not: ok\n")
	} else {
		fmt.Fprintf(w, "  allocations: %d benchmarks allocate where the baseline did not: FAIL\n", len(v.newAllocs))
		for _, r := range v.newAllocs {
			fmt.Fprintf(w, "    %s: %g allocs/op (baseline 0)\n", r.name, r.cur)
		}
	}
}
