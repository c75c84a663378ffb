package ringfeed

import (
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
)

// Shard selects one process's part of a symbol list, so n processes (on n
// machines) share it: a symbol belongs to shard Index of Count when the
// jump consistent hash (Lamping and Veach, 2014) of its FNV-1a hash over
// Count buckets is Index. The choice depends only on the symbol and Count,
// every symbol lands in exactly one shard, and going from n to n+1 shards
// moves only the symbols the new shard takes (about 1/(n+1) of them); a
// modulo hash would move almost all. The zero Shard takes every symbol.
type Shard struct {
	Index, Count int
}

// ParseShard reads "i/n" with 0 ≤ i < n.
func ParseShard(s string) (Shard, error) {
	a, b, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil {
		return Shard{}, fmt.Errorf("want i/n such as 0/2, got %q", s)
	}
	sh := Shard{Index: i, Count: n}
	if n < 1 {
		return Shard{}, fmt.Errorf("want n ≥ 1, got %q", s)
	}
	return sh, sh.check()
}

func (s Shard) check() error {
	if s == (Shard{}) {
		return nil
	}
	if s.Count < 1 || s.Index < 0 || s.Index >= s.Count {
		return fmt.Errorf("want 0 ≤ i < n, got %d/%d", s.Index, s.Count)
	}
	return nil
}

// String returns "i/n" ("" for the zero Shard).
func (s Shard) String() string {
	if s == (Shard{}) {
		return ""
	}
	return strconv.Itoa(s.Index) + "/" + strconv.Itoa(s.Count)
}

// Of returns the shard index symbol belongs to among Count shards.
func (s Shard) Of(symbol string) int {
	if s.Count <= 1 {
		return 0
	}
	h := fnv.New64a()
	h.Write([]byte(symbol))
	return jumpHash(h.Sum64(), s.Count)
}

// Has reports whether symbol belongs to this shard.
func (s Shard) Has(symbol string) bool { return s.Count <= 1 || s.Of(symbol) == s.Index }

// Filter returns the symbols of list that belong to this shard, in order.
func (s Shard) Filter(list []string) []string {
	if s.Count <= 1 {
		return list
	}
	var out []string
	for _, sym := range list {
		if s.Has(sym) {
			out = append(out, sym)
		}
	}
	return out
}

// jumpHash is Lamping and Veach's jump consistent hash: a bucket in
// [0, n) for key.
func jumpHash(key uint64, n int) int {
	var b, j int64 = -1, 0
	for j < int64(n) {
		b = j
		key = key*2862933555777941757 + 1
		j = int64(float64(b+1) * (float64(int64(1)<<31) / float64((key>>33)+1)))
	}
	return int(b)
}

// applyShard narrows c.Symbols to c.Shard (idempotent: Validate may run
// more than once).
func (c *Config) applyShard() error {
	if err := c.Shard.check(); err != nil {
		return cfgErr("Shard", "%v", err)
	}
	if c.Shard.Count <= 1 {
		return nil
	}
	all := len(c.Symbols)
	c.Symbols = c.Shard.Filter(c.Symbols)
	if len(c.Symbols) == 0 {
		return cfgErr("Shard", "none of the %d symbols falls in shard %s; use fewer shards", all, c.Shard)
	}
	return nil
}
