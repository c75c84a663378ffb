package bybitsim

import (
	"bufio"
	"io"
	"net"
	"slices"
	"strconv"
	"testing"
	"time"
)

// frameCounter counts the complete server frames (unmasked) in a byte
// stream fed to it in arbitrary pieces.
type frameCounter struct {
	hdr  [10]byte
	nh   int   // header bytes held
	rem  int64 // payload bytes still to skip; -1 while reading a header
	want int   // header length once known
}

func newFrameCounter() *frameCounter { return &frameCounter{rem: -1} }

// feed consumes p and returns the number of frames that ended in it.
func (f *frameCounter) feed(p []byte) int {
	n := 0
	for len(p) > 0 {
		if f.rem >= 0 {
			k := min(int64(len(p)), f.rem)
			p = p[k:]
			if f.rem -= k; f.rem == 0 {
				n++
				f.rem, f.nh, f.want = -1, 0, 0
			}
			continue
		}
		f.hdr[f.nh] = p[0]
		f.nh++
		p = p[1:]
		if f.nh == 2 {
			switch f.hdr[1] & 0x7f {
			case 126:
				f.want = 4
			case 127:
				f.want = 10
			default:
				f.want = 2
			}
		}
		if f.nh >= 2 && f.nh == f.want {
			var l int64
			switch f.want {
			case 2:
				l = int64(f.hdr[1] & 0x7f)
			case 4:
				l = int64(f.hdr[2])<<8 | int64(f.hdr[3])
			default:
				for _, c := range f.hdr[2:10] {
					l = l<<8 | int64(c)
				}
			}
			if f.rem = l; l == 0 {
				n++
				f.rem, f.nh, f.want = -1, 0, 0
			}
		}
	}
	return n
}

func TestFrameCounter(t *testing.T) {
	var stream []byte
	for _, n := range []int{0, 5, 125, 126, 300, 70000} {
		stream = appendFrame(stream, 1, make([]byte, n), 0, false)
	}
	for _, step := range []int{1, 2, 3, 7, 100, len(stream)} {
		f, got := newFrameCounter(), 0
		for p := stream; len(p) > 0; {
			k := min(step, len(p))
			got += f.feed(p[:k])
			p = p[k:]
		}
		if got != 6 {
			t.Errorf("pieces of %d: %d frames, want 6", step, got)
		}
	}
}

// BenchmarkPacing reads a RateTotal server (orderbook.50 of 8 linear
// symbols, the e2e suite's latency workload) with a raw client that does
// one read syscall per op, and reports the shape of the stream as a client
// sees it: messages per socket read and the gap between reads (p50, p99,
// p99.9, max), and the delivered msgs/s. A steady stream has small gaps
// and few messages per read; a bursty pacer has gaps near its sleep
// granularity and many messages per read.
func BenchmarkPacing(b *testing.B) {
	for _, rate := range []float64{1e5, 5e5} {
		b.Run("book50-8/"+strconv.FormatFloat(rate, 'f', -1, 64), func(b *testing.B) {
			s := startServer(b, Config{Seed: 1, Rate: Rate{Mode: RateTotal, PerSecond: rate},
				Instruments: SyntheticInstruments("linear", 8)})
			nc, err := net.Dial("tcp", s.Addr())
			if err != nil {
				b.Fatal(err)
			}
			defer nc.Close()
			_, _ = io.WriteString(nc, "GET /v5/public/linear HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
				"Sec-WebSocket-Key: MDEyMzQ1Njc4OWFiY2RlZg==\r\nSec-WebSocket-Version: 13\r\n\r\n")
			br := bufio.NewReader(nc)
			for range 100 {
				line, err := br.ReadString('\n')
				if err != nil {
					b.Fatal(err)
				}
				if line == "\r\n" {
					break
				}
			}
			var topics []string
			for _, sym := range s.Symbols("linear") {
				topics = append(topics, "orderbook.50."+sym)
			}
			req := subscribeMsg(topics...)
			frame := []byte{0x81, 0x80 | 126, byte(len(req) >> 8), byte(len(req)), 0, 0, 0, 0}
			_, _ = nc.Write(append(frame, req...)) // zero mask
			fc := newFrameCounter()
			if k := br.Buffered(); k > 0 {
				p, _ := br.Peek(k)
				fc.feed(p)
			}
			buf := make([]byte, 1<<20)
			_ = nc.SetReadDeadline(time.Now().Add(time.Minute))
			read := func() int {
				k, err := nc.Read(buf)
				if err != nil {
					b.Fatal(err)
				}
				return fc.feed(buf[:k])
			}
			for warm := time.Now(); time.Since(warm) < 300*time.Millisecond; {
				read()
			}
			gaps := make([]int64, 0, 1<<16)
			perRead := make([]int, 0, 1<<16)
			msgs := 0
			last := time.Now()
			for b.Loop() {
				n := read()
				now := time.Now()
				gaps = append(gaps, int64(now.Sub(last)))
				perRead = append(perRead, n)
				msgs += n
				last = now
			}
			slices.Sort(gaps)
			slices.Sort(perRead)
			pct := func(n int, q float64) int { return min(n-1, int(q*float64(n))) }
			b.ReportMetric(float64(msgs)/b.Elapsed().Seconds(), "msgs/s")
			b.ReportMetric(float64(msgs)/float64(len(perRead)), "msgs/read")
			b.ReportMetric(float64(perRead[pct(len(perRead), 0.99)]), "msgs/read-p99")
			b.ReportMetric(float64(gaps[pct(len(gaps), 0.5)]), "gap-p50-ns")
			b.ReportMetric(float64(gaps[pct(len(gaps), 0.99)]), "gap-p99-ns")
			b.ReportMetric(float64(gaps[pct(len(gaps), 0.999)]), "gap-p99.9-ns")
			b.ReportMetric(float64(gaps[len(gaps)-1]), "gap-max-ns")
			b.ReportMetric(0, "ns/op")
		})
	}
}
