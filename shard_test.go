package ringfeed

import (
	"fmt"
	"testing"
)

func TestParseShard(t *testing.T) {
	f := func(in string, want Shard, ok bool) {
		t.Helper()
		got, err := ParseShard(in)
		if (err == nil) != ok || ok && got != want {
			t.Errorf("ParseShard(%q) = %v, %v; want %v, ok %v", in, got, err, want, ok)
		}
	}
	f("0/2", Shard{0, 2}, true)
	f("1/2", Shard{1, 2}, true)
	f("0/1", Shard{0, 1}, true)
	f("2/2", Shard{}, false)
	f("-1/2", Shard{}, false)
	f("0/0", Shard{}, false)
	f("1", Shard{}, false)
	f("a/b", Shard{}, false)
}

func shardSymbols(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("SYM%dUSDT", i)
	}
	return out
}

// Every symbol falls in exactly one shard, and growing from n to n+1
// shards moves a symbol only into the new shard, about 1/(n+1) of them.
func TestShardStableAndComplete(t *testing.T) {
	syms := shardSymbols(2000)
	for n := 1; n <= 8; n++ {
		count := make([]int, n)
		for _, s := range syms {
			in := 0
			for i := range n {
				if (Shard{i, n}).Has(s) {
					in++
					count[i]++
				}
			}
			if in != 1 {
				t.Fatalf("%s is in %d of %d shards; want 1", s, in, n)
			}
		}
		for i, c := range count {
			if c < len(syms)/n/2 {
				t.Errorf("shard %d/%d has %d of %d symbols; want about %d", i, n, c, len(syms), len(syms)/n)
			}
		}
		moved := 0
		for _, s := range syms {
			a, b := Shard{0, n}.Of(s), Shard{0, n + 1}.Of(s)
			if a != b {
				if b != n {
					t.Fatalf("%s moved from shard %d to %d going from %d to %d shards; only moves to the new shard are allowed", s, a, b, n, n+1)
				}
				moved++
			}
		}
		if want := len(syms) / (n + 1); moved > 2*want {
			t.Errorf("%d → %d shards moved %d of %d symbols; want about %d", n, n+1, moved, len(syms), want)
		}
	}
}

func TestShardFilterInConfig(t *testing.T) {
	syms := shardSymbols(10)
	var got []string
	for i := range 2 {
		cfg := Config{Category: Linear, Symbols: syms, Topics: []string{"orderbook.50"}, Shard: Shard{i, 2}}
		if err := cfg.Validate(); err != nil {
			t.Fatal(err)
		}
		got = append(got, cfg.Symbols...)
	}
	if len(got) != len(syms) {
		t.Errorf("shards 0/2 and 1/2 hold %d symbols together; want %d", len(got), len(syms))
	}
	cfg := Config{Category: Linear, Symbols: syms[:1], Topics: []string{"orderbook.50"}, Shard: Shard{1 - (Shard{0, 2}).Of(syms[0]), 2}}
	if err := cfg.Validate(); err == nil || err.(*ConfigError).Field != "Shard" {
		t.Errorf("a shard with no symbols: got %v; want a ConfigError naming shard", err)
	}
}
