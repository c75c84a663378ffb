package bybitsim

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/gobwas/ws"
)

// BenchmarkTick measures the generator alone (market step, window diffs,
// rendering, queueing) per workload, on one goroutine: msgs/s is what one
// core can feed into sockets.
func BenchmarkTick(b *testing.B) {
	for _, w := range workloads {
		b.Run(w.name, func(b *testing.B) {
			s := pausedServer(b, Config{Seed: 1, Rate: Rate{Mode: RateMax}, Level1Resend: time.Nanosecond})
			c := fakeConn(b, s, w.cat)
			fakeSubscribe(b, s, c, w.topics...)
			msgs, bytes := 0, 0
			b.ReportAllocs()
			for b.Loop() {
				msgs += s.Step(1)
				bytes += len(takeQueue(c))
			}
			b.ReportMetric(float64(msgs)/b.Elapsed().Seconds(), "msgs/s")
			b.ReportMetric(float64(bytes)/float64(max(msgs, 1)), "B/msg")
		})
	}
}

// deltaJSON is the encoding/json baseline for rendering an orderbook delta.
type deltaJSON struct {
	Topic string `json:"topic"`
	Type  string `json:"type"`
	TS    int64  `json:"ts"`
	Data  struct {
		S   string      `json:"s"`
		B   [][2]string `json:"b"`
		A   [][2]string `json:"a"`
		U   int64       `json:"u"`
		Seq int64       `json:"seq"`
	} `json:"data"`
	CTS int64 `json:"cts"`
}

// BenchmarkRenderDelta renders a 10-level delta with strconv.Append* and,
// as the baseline, with fmt-free encoding/json on equivalent strings.
func BenchmarkRenderDelta(b *testing.B) {
	m, err := newMarket(DefaultInstruments()[2], 1, 10)
	if err != nil {
		b.Fatal(err)
	}
	st := newStream(catLinear, kindBook, "orderbook.50.BTCUSDT", m, 1)
	bids, asks := m.bids.window(nil, 5), m.asks.window(nil, 5)
	b.Run("append", func(b *testing.B) {
		buf := make([]byte, 0, 1024)
		b.ReportAllocs()
		for b.Loop() {
			buf = st.appendBook(buf[:0], "delta", bids, asks, 123456, 4e11, 1.7e12, 1.7e12)
		}
		b.SetBytes(int64(len(buf)))
	})
	b.Run("encoding/json", func(b *testing.B) {
		var d deltaJSON
		d.Topic, d.Type, d.TS, d.CTS = st.topic, "delta", 1.7e12, 1.7e12
		d.Data.S, d.Data.U, d.Data.Seq = m.sym, 123456, 4e11
		b.ReportAllocs()
		var out []byte
		for b.Loop() {
			d.Data.B, d.Data.A = d.Data.B[:0], d.Data.A[:0]
			for _, l := range bids {
				d.Data.B = append(d.Data.B, [2]string{string(appendFixed(nil, l.key, 2, false)), string(appendFixed(nil, l.qty, 3, false))})
			}
			for _, l := range asks {
				d.Data.A = append(d.Data.A, [2]string{string(appendFixed(nil, -l.key, 2, false)), string(appendFixed(nil, l.qty, 3, false))})
			}
			out, _ = json.Marshal(&d)
		}
		b.SetBytes(int64(len(out)))
	})
}

// sink keeps benchmark results alive.
var sink int

// BenchmarkDiffWindow diffs a 50- and a 1000-level window after one market
// step (what a RateMax stream does per message); baseline: the obvious
// map-based diff of the two windows.
func BenchmarkDiffWindow(b *testing.B) {
	for _, n := range []int{50, 1000} {
		m, err := newMarket(DefaultInstruments()[2], 1, 10)
		if err != nil {
			b.Fatal(err)
		}
		b.Run("sync/"+strconv.Itoa(n), func(b *testing.B) {
			win, mark := m.bids.window(make([]level, 0, n), n), m.bids.nTouched
			ch := make([]level, 0, 2*n)
			b.ReportAllocs()
			for b.Loop() {
				m.step(0)
				ch = m.bids.sync(ch[:0], &win, n, &mark)
			}
		})
		b.Run("map/"+strconv.Itoa(n), func(b *testing.B) {
			old := m.bids.window(nil, n)
			b.ReportAllocs()
			for b.Loop() {
				m.step(0)
				prev := make(map[int64]int64, n)
				for _, l := range old {
					prev[l.key] = l.qty
				}
				var ch []level
				cur := m.bids.window(nil, n)
				for _, l := range cur {
					if q, ok := prev[l.key]; !ok || q != l.qty {
						ch = append(ch, l)
					}
					delete(prev, l.key)
				}
				for k := range prev {
					ch = append(ch, level{k, 0})
				}
				sink += len(ch)
				old = cur
			}
		})
	}
}

// BenchmarkAppendFixed formats a fixed-point price; baseline: the float
// path strconv.AppendFloat would take.
func BenchmarkAppendFixed(b *testing.B) {
	buf := make([]byte, 0, 32)
	b.Run("fixed", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			buf = appendFixed(buf[:0], 6500010, 2, false)
		}
	})
	b.Run("float", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			buf = strconv.AppendFloat(buf[:0], 65000.10, 'f', 2, 64)
		}
	})
}

// BenchmarkLoopbackMax runs a RateMax server and reads its frames over
// 127.0.0.1 with a minimal zero-allocation frame reader: end-to-end
// messages/s, generator and socket included (client on another core when
// one is free).
func BenchmarkLoopbackMax(b *testing.B) {
	for _, w := range workloads[:3] {
		b.Run(w.name, func(b *testing.B) {
			s := startServer(b, Config{Seed: 1, Rate: Rate{Mode: RateMax}})
			nc, err := net.Dial("tcp", s.Addr())
			if err != nil {
				b.Fatal(err)
			}
			defer nc.Close()
			_, _ = io.WriteString(nc, "GET /v5/public/"+w.cat+" HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
				"Sec-WebSocket-Key: MDEyMzQ1Njc4OWFiY2RlZg==\r\nSec-WebSocket-Version: 13\r\n\r\n")
			br := bufio.NewReaderSize(nc, 1<<16)
			for range 100 {
				line, err := br.ReadString('\n')
				if err != nil {
					b.Fatal(err)
				}
				if line == "\r\n" {
					break
				}
			}
			req := subscribeMsg(w.topics...)
			frame := []byte{0x81, 0x80 | 126, byte(len(req) >> 8), byte(len(req)), 0, 0, 0, 0}
			_, _ = nc.Write(append(frame, req...)) // zero mask
			var hdr [10]byte
			bytes := 0
			read := func() {
				_, err := io.ReadFull(br, hdr[:2])
				if err != nil {
					b.Fatal(err)
				}
				n := int(hdr[1] & 0x7f)
				switch n {
				case 126:
					_, _ = io.ReadFull(br, hdr[2:4])
					n = int(hdr[2])<<8 | int(hdr[3])
				case 127:
					_, _ = io.ReadFull(br, hdr[2:10])
					n = 0
					for _, c := range hdr[2:10] {
						n = n<<8 | int(c)
					}
				}
				bytes += n
				_, err = br.Discard(n)
				if err != nil {
					b.Fatal(err)
				}
			}
			for range 1000 {
				read()
			}
			bytes = 0
			b.ReportAllocs()
			for b.Loop() {
				read()
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
			b.SetBytes(int64(bytes / max(b.N, 1)))
		})
	}
}

// BenchmarkAppendFrame frames a 300-byte message into a connection queue;
// baseline: gobwas/ws.WriteFrame into a bytes.Buffer.
func BenchmarkAppendFrame(b *testing.B) {
	p := make([]byte, 300)
	b.Run("append", func(b *testing.B) {
		buf := make([]byte, 0, 512)
		b.SetBytes(int64(len(p)))
		b.ReportAllocs()
		for b.Loop() {
			buf = appendFrame(buf[:0], ws.OpText, p, 0, false)
		}
	})
	b.Run("gobwas", func(b *testing.B) {
		var buf bytes.Buffer
		b.SetBytes(int64(len(p)))
		b.ReportAllocs()
		for b.Loop() {
			buf.Reset()
			_ = ws.WriteFrame(&buf, ws.NewTextFrame(p))
		}
	})
}
