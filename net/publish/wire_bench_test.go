package publish

import (
	"encoding/json"
	"testing"

	"github.com/ringfeed/ringfeed/parse"
)

// BenchmarkEncodeDelta is the publisher's JSON cost for a 4-level delta,
// against encoding/json marshalling the same BookMsg (which also needs the
// decimal strings formatted first).
func BenchmarkEncodeDelta(b *testing.B) {
	m := &Msg{N: 7, U: 42, Seq: 99, TS: 1700000000000, CTS: 1700000000001}
	bids := []parse.Level{{Price: 6500010000000, Size: 125000000}, {Price: 6499990000000, Size: 0}}
	asks := []parse.Level{{Price: 6500020000000, Size: 50000000}, {Price: 6500100000000, Size: 712500000}}
	b.Run("append", func(b *testing.B) {
		var e encoder
		b.ReportAllocs()
		for b.Loop() {
			b.SetBytes(int64(len(e.book(TypeDelta, "BTCUSDT", 50, m, 1733400000123456789, 8, 8, bids, asks))))
		}
	})
	b.Run("encoding_json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			v := BookMsg{Type: TypeDelta, Symbol: "BTCUSDT", Depth: 50, N: m.N, U: m.U, Seq: m.Seq, TS: m.TS, CTS: m.CTS, Recv: 1733400000123456789}
			for _, l := range bids {
				v.Bids = append(v.Bids, [2]string{string(parse.AppendDecimal(nil, l.Price, 8)), string(parse.AppendDecimal(nil, l.Size, 8))})
			}
			for _, l := range asks {
				v.Asks = append(v.Asks, [2]string{string(parse.AppendDecimal(nil, l.Price, 8)), string(parse.AppendDecimal(nil, l.Size, 8))})
			}
			out, _ := json.Marshal(&v)
			b.SetBytes(int64(len(out)))
		}
	})
}
