package parse

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
)

// fmtDec formats v/10^scale with fmt, independently of AppendDecimal;
// trim drops trailing fractional zeros as spot frames do, otherwise the
// full scale is printed as linear frames do.
func fmtDec(v int64, scale int, trim bool) string {
	if scale == 0 {
		return strconv.FormatInt(v, 10)
	}
	sign := ""
	if v < 0 {
		sign, v = "-", -v
	}
	p := int64(1)
	for range scale {
		p *= 10
	}
	s := fmt.Sprintf("%s%d.%0*d", sign, v/p, scale, v%p)
	if trim {
		s = strings.TrimRight(s, "0")
		s = strings.TrimSuffix(s, ".")
	}
	return s
}

// genBook describes a book message to render as a Bybit frame.
type genBook struct {
	depth         int
	sym           string
	snapshot      bool
	ts, cts, u    int64
	seq           int64
	bids, asks    []Level
	ps, ss        int
	trim          bool
	shape         int // 0 linear (type first, cts last), 1 spot (ts first), 2 option (id, no seq/cts)
	extraElement  bool
	whitespace    bool
	escapedPrices bool
}

func (g *genBook) levels(b *strings.Builder, ls []Level) {
	b.WriteByte('[')
	for i, l := range ls {
		if i > 0 {
			b.WriteByte(',')
			if g.whitespace {
				b.WriteString(" \n")
			}
		}
		price := fmtDec(l.Price, g.ps, g.trim)
		if g.escapedPrices {
			// \u0031 is '1': JSON escapes inside a decimal string are legal.
			price = strings.ReplaceAll(price, "1", `\u0031`)
		}
		fmt.Fprintf(b, `["%s","%s"`, price, fmtDec(l.Size, g.ss, g.trim))
		if g.extraElement {
			b.WriteString(`,"0"`)
		}
		b.WriteByte(']')
	}
	b.WriteByte(']')
}

func (g *genBook) frame() []byte {
	var b strings.Builder
	typ := "delta"
	if g.snapshot {
		typ = "snapshot"
	}
	topic := fmt.Sprintf("orderbook.%d.%s", g.depth, g.sym)
	data := func() {
		fmt.Fprintf(&b, `"data":{"s":"%s","b":`, g.sym)
		g.levels(&b, g.bids)
		b.WriteString(`,"a":`)
		g.levels(&b, g.asks)
		fmt.Fprintf(&b, `,"u":%d`, g.u)
		if g.shape != 2 {
			fmt.Fprintf(&b, `,"seq":%d`, g.seq)
		}
		b.WriteByte('}')
	}
	switch g.shape {
	case 0:
		fmt.Fprintf(&b, `{"topic":"%s","type":"%s","ts":%d,`, topic, typ, g.ts)
		data()
		fmt.Fprintf(&b, `,"cts":%d}`, g.cts)
	case 1:
		fmt.Fprintf(&b, `{"topic":"%s","ts":%d,"type":"%s",`, topic, g.ts, typ)
		data()
		fmt.Fprintf(&b, `,"cts":%d}`, g.cts)
	default:
		fmt.Fprintf(&b, `{"id":"%s-%d","topic":"%s","ts":%d,`, topic, g.ts, topic, g.ts)
		data()
		fmt.Fprintf(&b, `,"type":"%s"}`, typ)
	}
	return []byte(b.String())
}

// randBook makes a book of nb bids and na asks around mid with distinct,
// sorted prices and random sizes (some 0, some 1, most large).
func randBook(rng *rand.Rand, nb, na int, mid int64) (bids, asks []Level) {
	tick := int64(1 + rng.IntN(5))
	p := mid
	for range nb {
		p -= tick * int64(1+rng.IntN(3))
		bids = append(bids, Level{p, randSize(rng)})
	}
	p = mid
	for range na {
		p += tick * int64(1+rng.IntN(3))
		asks = append(asks, Level{p, randSize(rng)})
	}
	return bids, asks
}

func randSize(rng *rand.Rand) int64 {
	switch rng.IntN(6) {
	case 0:
		return 0 // a delete
	case 1:
		return 1
	}
	return rng.Int64N(1e12) + 1
}

// benchBook returns a realistic BTCUSDT linear book message: prices at 2
// decimals around 109,378, sizes at 3.
func benchBook(depth, nb, na int, snapshot bool) []byte {
	rng := rand.New(rand.NewPCG(1, uint64(nb)))
	bids, asks := randBook(rng, nb, na, 10937880)
	for i := range bids {
		bids[i].Size = rng.Int64N(20000) + 1
	}
	for i := range asks {
		asks[i].Size = rng.Int64N(20000) + 1
	}
	g := genBook{depth: depth, sym: "BTCUSDT", snapshot: snapshot, ts: 1758845431663, cts: 1758845431662,
		u: 21111423, seq: 457538796406, bids: bids, asks: asks, ps: 2, ss: 3}
	return g.frame()
}

// Frames written in the documented shapes, with made-up values.
const (
	frameKline = `{"topic":"kline.5.BTCUSDT","data":[{"start":1733011200000,"end":1733011499999,"interval":"5","open":"96410.5","close":"96398.1","high":"96420","low":"96390.2","volume":"41.207","turnover":"3972830.5512","confirm":false,"timestamp":1733011234567}],"ts":1733011234567,"type":"snapshot"}`

	frameTickerDelta = `{"topic":"tickers.BTCUSDT","type":"delta","data":{"symbol":"BTCUSDT","markPrice":"96410.06","indexPrice":"96433.59","openInterestValue":"5595994223.27","bid1Price":"96409.90","bid1Size":"3.543"},"cs":176530004279,"ts":1733011234667}`

	frameTickerSnapshot = `{"topic":"tickers.BTCUSDT","type":"snapshot","data":{"symbol":"BTCUSDT","tickDirection":"ZeroPlusTick","price24hPcnt":"-0.009772","lastPrice":"96410.00","prevPrice24h":"97484.60","highPrice24h":"97752.90","lowPrice24h":"96000.10","prevPrice1h":"96401.80","markPrice":"96410.25","indexPrice":"96433.73","openInterest":"58117.022","openInterestValue":"5603005265.51","turnover24h":"6073739017.8331","volume24h":"98430.1050","nextFundingTime":"1733040000000","fundingRate":"0.00008055","fundingIntervalHour":"8","fundingCap":"0.005","bid1Price":"96409.90","bid1Size":"3.783","ask1Price":"96410.00","ask1Size":"16.278"},"cs":176530003895,"ts":1733011234463}`
)

// benchTrades returns a linear trade frame with n trades.
func benchTrades(n int) []byte {
	var b strings.Builder
	b.WriteString(`{"topic":"publicTrade.BTCUSDT","type":"snapshot","ts":1758841135824,"data":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"T":%d,"s":"BTCUSDT","S":"%s","v":"0.%03d","p":"109378.%02d","L":"ZeroPlusTick","i":"2a74ac78-691c-5b54-9dbe-5aafe83646%02d","BT":false,"RPI":false,"seq":%d}`,
			1758841135823+int64(i), []string{"Buy", "Sell"}[i%2], 1+i*7%999, i%100, i%100, 457514743450+int64(i/3))
	}
	b.WriteString(`]}`)
	return []byte(b.String())
}

// benchSymbols registers BTCUSDT with linear scales (price 2, size 3).
func benchSymbols() *Symbols {
	s := NewSymbols()
	if _, err := s.Add("BTCUSDT", 2, 3); err != nil {
		panic(err)
	}
	return s
}
