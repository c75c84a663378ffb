package parse

import (
	"strconv"
	"strings"
	"testing"
)

var benchDecimals = []struct {
	name  string
	s     string
	scale int
}{
	{"price", "109378.80", 2},
	{"size", "0.123", 3},
	{"spotPrice", "75845.4", 2},
	{"rate", "-0.00008055", 10},
	{"turnover", "6073739017.8331", 8},
}

// BenchmarkParseDecimal compares ParseDecimal with strconv.ParseFloat, the
// obvious (but inexact) baseline.
func BenchmarkParseDecimal(b *testing.B) {
	for _, c := range benchDecimals {
		in := []byte(c.s)
		b.Run(c.name+"/ParseDecimal", func(b *testing.B) {
			b.SetBytes(int64(len(in)))
			b.ReportAllocs()
			var sink int64
			for b.Loop() {
				v, err := ParseDecimal(in, c.scale)
				if err != nil {
					b.Fatal(err)
				}
				sink += v
			}
			_ = sink
		})
		b.Run(c.name+"/strconv_ParseFloat", func(b *testing.B) {
			b.SetBytes(int64(len(in)))
			b.ReportAllocs()
			var sink float64
			for b.Loop() {
				v, err := strconv.ParseFloat(string(in), 64)
				if err != nil {
					b.Fatal(err)
				}
				sink += v
			}
			_ = sink
		})
	}
}

// BenchmarkAppendDecimal compares AppendDecimal with strconv.AppendFloat.
func BenchmarkAppendDecimal(b *testing.B) {
	buf := make([]byte, 0, 32)
	b.Run("AppendDecimal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			buf = AppendDecimal(buf[:0], 10937880, 2)
		}
	})
	b.Run("AppendDecimalFixed", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			buf = AppendDecimalFixed(buf[:0], 10937880, 2)
		}
	})
	b.Run("strconv_AppendFloat", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			buf = strconv.AppendFloat(buf[:0], 109378.80, 'f', -1, 64)
		}
	})
}

// BenchmarkParseTopic compares the in-place topic split with
// strings.Split on a converted string, the obvious alternative.
func BenchmarkParseTopic(b *testing.B) {
	topic := []byte("orderbook.50.BTCUSDT")
	b.Run("ParseTopic", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := ParseTopic(topic); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("strings_Split", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			parts := strings.Split(string(topic), ".")
			if _, err := strconv.Atoi(parts[1]); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkLookup compares the map lookup by []byte with a linear scan of
// 500 names (a typical linear shard).
func BenchmarkLookup(b *testing.B) {
	s := NewSymbols()
	names := make([]string, 500)
	for i := range names {
		names[i] = "SYM" + strconv.Itoa(i) + "USDT"
		s.Add(names[i], 2, 3)
	}
	key := []byte("SYM377USDT")
	b.Run("Symbols_Lookup", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, ok := s.Lookup(key); !ok {
				b.Fatal("missing")
			}
		}
	})
	b.Run("linear_scan", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			found := false
			for _, n := range names {
				if n == string(key) {
					found = true
					break
				}
			}
			if !found {
				b.Fatal("missing")
			}
		}
	})
}
