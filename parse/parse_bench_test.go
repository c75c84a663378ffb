package parse

import (
	"encoding/json"
	"testing"

	"github.com/valyala/fastjson"
)

// Baseline structs: what a straightforward decoder would do with
// encoding/json, plus the same fixed-point conversion, so both sides
// produce the same numbers.
type jsonBook struct {
	Topic string `json:"topic"`
	Type  string `json:"type"`
	TS    int64  `json:"ts"`
	CTS   int64  `json:"cts"`
	Data  struct {
		S   string      `json:"s"`
		B   [][2]string `json:"b"`
		A   [][2]string `json:"a"`
		U   int64       `json:"u"`
		Seq int64       `json:"seq"`
	} `json:"data"`
}

type jsonKline struct {
	Topic string `json:"topic"`
	Type  string `json:"type"`
	TS    int64  `json:"ts"`
	Data  []struct {
		Start     int64  `json:"start"`
		End       int64  `json:"end"`
		Interval  string `json:"interval"`
		Open      string `json:"open"`
		Close     string `json:"close"`
		High      string `json:"high"`
		Low       string `json:"low"`
		Volume    string `json:"volume"`
		Turnover  string `json:"turnover"`
		Confirm   bool   `json:"confirm"`
		Timestamp int64  `json:"timestamp"`
	} `json:"data"`
}

type jsonTicker struct {
	Topic string            `json:"topic"`
	Type  string            `json:"type"`
	TS    int64             `json:"ts"`
	CS    int64             `json:"cs"`
	Data  map[string]string `json:"data"`
}

type jsonTrades struct {
	Topic string `json:"topic"`
	Type  string `json:"type"`
	TS    int64  `json:"ts"`
	Data  []struct {
		T   int64  `json:"T"`
		Sym string `json:"s"`
		S   string `json:"S"`
		V   string `json:"v"`
		P   string `json:"p"`
		L   string `json:"L"`
		I   string `json:"i"`
		BT  bool   `json:"BT"`
		RPI bool   `json:"RPI"`
		Seq int64  `json:"seq"`
	} `json:"data"`
}

func mustDec(s string, scale int) int64 {
	v, err := ParseDecimal([]byte(s), scale)
	if err != nil {
		panic(err)
	}
	return v
}

func stdBook(frame []byte, sink *sliceSink) {
	var m jsonBook
	if err := json.Unmarshal(frame, &m); err != nil {
		panic(err)
	}
	sink.reset()
	ev := sink.Next()
	n := 0
	for side, ls := range [][][2]string{m.Data.B, m.Data.A} {
		for _, l := range ls {
			if n == LevelsPerEvent {
				ev, n = sink.Next(), 0
			}
			ev.Levels[n] = Level{mustDec(l[0], 2), mustDec(l[1], 3)}
			n++
			_ = side
		}
	}
}

func stdKline(frame []byte, sink *sliceSink) {
	var m jsonKline
	if err := json.Unmarshal(frame, &m); err != nil {
		panic(err)
	}
	sink.reset()
	for _, c := range m.Data {
		ev := sink.Next()
		ev.Candle = Candle{Start: c.Start, End: c.End, Open: mustDec(c.Open, 2), High: mustDec(c.High, 2),
			Low: mustDec(c.Low, 2), Close: mustDec(c.Close, 2), Volume: mustDec(c.Volume, 3),
			Turnover: mustDec(c.Turnover, ValueScale), Timestamp: c.Timestamp, Confirm: c.Confirm}
	}
}

func stdTicker(frame []byte, sink *sliceSink) {
	var m jsonTicker
	if err := json.Unmarshal(frame, &m); err != nil {
		panic(err)
	}
	sink.reset()
	ev := sink.Next()
	for k, v := range m.Data {
		if f, ok := tickerByKey[k]; ok && f != TickTickDirection && v != "" {
			ev.Ticker.Values[f] = mustDec(v, f.Scale(3))
		}
	}
}

func stdTrades(frame []byte, sink *sliceSink) {
	var m jsonTrades
	if err := json.Unmarshal(frame, &m); err != nil {
		panic(err)
	}
	sink.reset()
	for _, tr := range m.Data {
		ev := sink.Next()
		ev.Trade.Time = tr.T
		ev.Trade.Price = mustDec(tr.P, 2)
		ev.Trade.Size = mustDec(tr.V, 3)
		ev.Trade.IDLen = uint8(copy(ev.Trade.IDBuf[:], tr.I))
	}
}

// BenchmarkParse measures Parse per message kind, side by side with the
// encoding/json baseline producing the same fixed-point values.
func BenchmarkParse(b *testing.B) {
	cases := []struct {
		name  string
		frame []byte
		std   func([]byte, *sliceSink)
	}{
		{"book50delta20", benchBook(50, 12, 8, false), stdBook},
		{"book50snapshot", benchBook(50, 50, 50, true), stdBook},
		{"book1000snapshot", benchBook(1000, 1000, 1000, true), stdBook},
		{"kline", []byte(frameKline), stdKline},
		{"tickerDelta", []byte(frameTickerDelta), stdTicker},
		{"tickerSnapshot", []byte(frameTickerSnapshot), stdTicker},
		{"trades10", benchTrades(10), stdTrades},
	}
	for _, c := range cases {
		sink := newSink(128)
		for _, path := range []struct {
			name  string
			parse func(*Parser, []byte, int64, Sink) (Result, error)
		}{
			{"Parse", (*Parser).Parse},
			// The fastjson path alone: what Parse cost before the
			// single-pass path, and what it costs for frames it refuses.
			{"tree", (*Parser).parseTree},
		} {
			b.Run(c.name+"/"+path.name, func(b *testing.B) {
				p := NewParser(benchSymbols())
				sink.reset()
				if _, err := path.parse(p, c.frame, 1, sink); err != nil { // grow the caches
					b.Fatal(err)
				}
				b.SetBytes(int64(len(c.frame)))
				b.ReportAllocs()
				levels := 0
				cpu := startCPU(b)
				for b.Loop() {
					sink.reset()
					r, err := path.parse(p, c.frame, 1, sink)
					if err != nil {
						b.Fatal(err)
					}
					levels = r.Events
				}
				cpu.stopBytes(len(c.frame))
				b.ReportMetric(float64(levels), "events/msg")
			})
		}
		// fastjson building its tree, with no field access or conversion:
		// the floor of the tree path (the single-pass path is below it).
		b.Run(c.name+"/fastjson_parseOnly", func(b *testing.B) {
			var fj fastjson.Parser
			if _, err := fj.ParseBytes(c.frame); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(c.frame)))
			b.ReportAllocs()
			cpu := startCPU(b)
			for b.Loop() {
				if _, err := fj.ParseBytes(c.frame); err != nil {
					b.Fatal(err)
				}
			}
			cpu.stopBytes(len(c.frame))
		})
		b.Run(c.name+"/encoding_json", func(b *testing.B) {
			b.SetBytes(int64(len(c.frame)))
			b.ReportAllocs()
			cpu := startCPU(b)
			for b.Loop() {
				c.std(c.frame, sink)
			}
			cpu.stopBytes(len(c.frame))
		})
	}
}
