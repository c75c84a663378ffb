package parse

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unsafe"
)

// The single-pass path (fast.go) must be invisible: for every frame, Parse
// returns what the fastjson path alone (parseTree) returns — the same
// Result, the same error value, the same slots taken and every byte of
// them written the same. These tests hold the two side by side over good
// frames, their reshuffles, and many broken variants.

// fastSymbols registers the symbols of the package's test frames and of the
// captured frames.
func fastSymbols(t testing.TB) *Symbols {
	s := testSymbols(t)
	for _, n := range []string{"BTCPERP", "LTCUSDT", "SOL-28APR23-30-C", "BTC-30JUN23-45000-P", "BTC-28APR23-29500-C"} {
		if _, err := s.Add(n, 2, 2); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// garbage is the content every slot starts with, so a field one path
// writes and the other does not shows up.
var garbage = func() Event {
	var e Event
	b := unsafe.Slice((*byte)(unsafe.Pointer(&e)), unsafe.Sizeof(e))
	for i := range b {
		b[i] = byte(0xA5 ^ i)
	}
	return e
}()

// pair is two parsers over the same symbols: one through Parse, one
// through the fastjson path only.
type pair struct {
	both, tree *Parser
	a, b       *sliceSink
}

func newPair(syms *Symbols, opts ...Option) *pair {
	return &pair{both: NewParser(syms, opts...), tree: NewParser(syms, opts...), a: newSink(80), b: newSink(80)}
}

// check parses frame with a sink of slots slots (nil for -1) through both
// and reports the first difference.
func (p *pair) check(t testing.TB, frame []byte, slots int) {
	t.Helper()
	var sa, sb Sink
	if slots >= 0 {
		for _, s := range []*sliceSink{p.a, p.b} {
			s.evs = s.evs[:cap(s.evs)]
			if slots > len(s.evs) {
				s.evs = make([]Event, slots)
			}
			s.evs = s.evs[:slots]
			for i := range s.evs {
				s.evs[i] = garbage
			}
			s.reset()
		}
		sa, sb = p.a, p.b
	}
	ra, ea := p.both.Parse(frame, 99, sa)
	rb, eb := p.tree.parseTree(frame, 99, sb)
	where := func() string {
		f := string(frame)
		if len(f) > 300 {
			f = f[:300] + "…"
		}
		return "frame " + strconv.Quote(f) + " slots " + strconv.Itoa(slots)
	}
	if ea != eb {
		t.Fatalf("%s:\nParse error %v; fastjson path %v", where(), ea, eb)
	}
	if !sameResult(&ra, &rb) {
		t.Fatalf("%s:\nParse Result %+v\nfastjson path %+v", where(), ra, rb)
	}
	if slots < 0 {
		return
	}
	if p.a.n != p.b.n {
		t.Fatalf("%s: Parse took %d slots; fastjson path %d", where(), p.a.n, p.b.n)
	}
	for i := range p.a.n {
		if p.a.evs[i] != p.b.evs[i] {
			t.Fatalf("%s: slot %d differs:\nParse %+v\nfastjson path %+v", where(), i, p.a.evs[i], p.b.evs[i])
		}
	}
}

func sameResult(a, b *Result) bool {
	if a.Class != b.Class || a.Kind != b.Kind || a.Depth != b.Depth || a.Interval != b.Interval ||
		a.Sym != b.Sym || a.Events != b.Events || a.Skipped != b.Skipped || a.Op != b.Op ||
		a.Success != b.Success || a.ServerMs != b.ServerMs || a.SuccessTopics != b.SuccessTopics ||
		a.FailTopics != b.FailTopics || !bytes.Equal(a.ReqID, b.ReqID) ||
		!bytes.Equal(a.RetMsg, b.RetMsg) || !bytes.Equal(a.ConnID, b.ConnID) {
		return false
	}
	for i := range a.SuccessTopics {
		if !bytes.Equal(a.SuccessTopic(i), b.SuccessTopic(i)) {
			return false
		}
	}
	for i := range a.FailTopics {
		if !bytes.Equal(a.FailTopic(i), b.FailTopic(i)) {
			return false
		}
	}
	return true
}

// fastCorpus is every frame the package's tests know, plus the captured
// ones when ../shared is there.
func fastCorpus(t testing.TB) [][]byte {
	var out [][]byte
	for _, s := range fuzzSeeds {
		out = append(out, []byte(s))
	}
	out = append(out,
		benchBook(50, 12, 8, false), benchBook(50, 50, 50, true), benchBook(200, 33, 31, true),
		benchBook(1000, 70, 0, true), benchBook(1, 0, 0, true), benchBook(1, 1, 0, false),
		benchTrades(1), benchTrades(10),
		// at and just past the limits of the second pair in TestFastMatchesTree
		benchBook(200, 40, 41, true), benchBook(200, 41, 40, false), benchTrades(2), benchTrades(3),
		[]byte(frameKline), []byte(frameTickerDelta), []byte(frameTickerSnapshot), []byte(goodBook),
		[]byte(`{"topic":"kline.1.BTCUSDT","data":[{"start":1,"end":2,"open":"1","close":"2","high":"3","low":"0.5","volume":"1","turnover":"2","confirm":true},{"start":3,"end":4,"open":"1","close":"2","high":"3","low":"0.5","volume":"1","turnover":"2","confirm":false,"timestamp":5}],"ts":9,"type":"snapshot"}`),
		[]byte(`{"topic":"tickers.BTCUSDT","type":"snapshot","ts":1,"data":[{"symbol":"BTCUSDT","lastPrice":"1"},{"lastPrice":"","bid1Price":"2"}],"cs":5}`),
		[]byte(`{"topic":"tickers.BTCUSDT","type":"snapshot","ts":1,"data":[],"cs":5}`),
		[]byte(`{"topic":"tickers.BTCUSDT","type":"delta","ts":1,"data":{}}`),
		[]byte(`{"topic":"publicTrade.BTCUSDT","ts":1,"data":[]}`),
		[]byte(`{"topic":"publicTrade.BTC","ts":1,"type":"snapshot","data":[{"s":"BTC-1JAN99-1-C","S":"Buy","v":"1","p":"1","i":"x","T":1},{"s":"BTC-28JUN24-60000-P","S":"Sell","v":"1.5","p":"100","i":"y","T":2,"BT":true,"RPI":false,"L":"PlusTick","seq":7}]}`),
		[]byte(`{"topic":"publicTrade.BTC","ts":1,"type":"snapshot","data":[{"s":"BTC-1JAN99-1-C","S":"Buy","v":"1","p":"1","i":"x","T":1}]}`),
	)
	for n := 1; n <= 3; n++ { // 2 is the second pair's WithMaxItems
		c := `{"start":1,"end":2,"open":"1","close":"2","high":"3","low":"0.5","volume":"1","turnover":"2","confirm":true}`
		k := `{"symbol":"BTCUSDT","lastPrice":"1.5"}`
		out = append(out,
			[]byte(`{"topic":"kline.1.BTCUSDT","type":"snapshot","ts":9,"data":[`+strings.Repeat(c+",", n-1)+c+`]}`),
			[]byte(`{"topic":"tickers.BTCUSDT","type":"snapshot","ts":9,"data":[`+strings.Repeat(k+",", n-1)+k+`]}`))
	}
	names, _ := filepath.Glob(filepath.Join("testdata", "fuzz", "FuzzParse", "*"))
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		// go test fuzz v1 / []byte("…")
		if _, q, ok := strings.Cut(string(b), "[]byte("); ok {
			if s, err := strconv.Unquote(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(q), ")"))); err == nil {
				out = append(out, []byte(s))
			}
		}
	}
	shared, _ := filepath.Glob(filepath.Join(sharedDir, "*.json*"))
	for _, n := range shared {
		b, err := os.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
			if len(line) > 0 {
				out = append(out, line)
			}
		}
	}
	return out
}

// reshape returns variants of a frame that are still good JSON: spaces
// around every token, escapes, a repeated member, a member moved to the
// front, and keys renamed.
func reshape(f []byte) [][]byte {
	var out [][]byte
	// Whitespace after every structural byte (outside strings).
	var ws []byte
	in := false
	for i, c := range f {
		ws = append(ws, c)
		if c == '"' && (i == 0 || f[i-1] != '\\') {
			in = !in
		}
		if !in && (c == '{' || c == '[' || c == ',' || c == ':' || c == '}' || c == ']' || c == '"') {
			ws = append(ws, " \n\t\r"[i%4])
		}
	}
	out = append(out, ws, append([]byte("\r\n "), append(bytes.Clone(f), " \t"...)...))
	for _, kv := range [][2]string{
		{`"topic":"`, `"topic":"\u006f`}, // escaped topic
		{`"b":`, `"\u0062":`},            // escaped key
		{`"s":"`, `"s":"\/`},             // escaped symbol
		{`"1`, `"\u0031`},                // escaped digit
		{`"type":"delta"`, `"type":"delta","type":"snapshot"`},
		{`"type":"snapshot"`, `"type":"snapshot","type":"delta"`},
		{`"ts":`, `"ts":1,"ts":`},
		{`"u":`, `"u":5,"u":`},
		{`"seq":`, `"seq":1,"seq":`},
		{`"cs":`, `"cs":1,"cs":`},
		{`"cts":`, `"cts":"x","cts":`},
		{`"open":`, `"open":"1","open":`},
		{`"p":`, `"p":"1","p":`},
		{`"lastPrice":`, `"lastPrice":"","lastPrice":`},
		{`"bid1Price":"`, `"bid1Price":"","bid1Price":"`},
		{`"data":`, `"data":{},"data":`},
		{`"b":[`, `"b":[["1","1","x",{"y":[null,true,-1.5e3]}],`},
		{`"a":[`, `"x":{"a":[[]]},"a":[`},
		{`"topic":`, `"topic":"orderbook.1.BTCUSDT","topic":`},
		{`"s":`, `"s":"BTCUSDT","s":`},
		{`"symbol":`, `"symbol":"BTCUSDT","symbol":`},
		{`"T":`, `"T":1.5,"T":`},
		{`"ts":`, `"xs":[1,{"a":"\"}"}],"ts":`},
		{`,"data"`, `,"id":"a\\\"b","data"`},
		{`"data":`, `"data":null,"dat":`},
		{`"S":"Buy"`, `"S":"Sell"`},
		{`"confirm":false`, `"confirm":null`},
		{`"BT":false`, `"BT":0`},
	} {
		if bytes.Contains(f, []byte(kv[0])) {
			out = append(out, bytes.Replace(f, []byte(kv[0]), []byte(kv[1]), 1))
			out = append(out, bytes.ReplaceAll(f, []byte(kv[0]), []byte(kv[1])))
		}
	}
	// Move the last envelope member to the front.
	if i := bytes.LastIndex(f, []byte(`,"`)); i > 0 && f[len(f)-1] == '}' && f[0] == '{' {
		last := f[i+1 : len(f)-1]
		if bytes.Count(last, []byte(`"`)) >= 2 && !bytes.ContainsAny(last, "{[") {
			g := append([]byte("{"), last...)
			g = append(g, ',')
			g = append(g, f[1:i]...)
			out = append(out, append(g, '}'))
		}
	}
	return out
}

// edits are the bytes mutate writes.
const edits = "{}[]\",:.-+e0129 \\tfnxA\x00\xff"

// mutate returns broken or odd variants: truncations, single-byte edits.
func mutate(f []byte, rng *rand.Rand, n int) [][]byte {
	var out [][]byte
	for range n {
		g := bytes.Clone(f)
		switch k := rng.IntN(6); {
		case k == 0 && len(g) > 0:
			g = g[:rng.IntN(len(g))]
		case k == 1 && len(g) > 0:
			g[rng.IntN(len(g))] = edits[rng.IntN(len(edits))]
		case k == 2 && len(g) > 0:
			i := rng.IntN(len(g))
			g = append(g[:i], g[i+1:]...)
		case k == 3:
			i := rng.IntN(len(g) + 1)
			g = append(g[:i], append([]byte{edits[rng.IntN(len(edits))]}, g[i:]...)...)
		case k == 4 && len(g) > 0:
			i := rng.IntN(len(g))
			g[i] = '0' + byte(rng.IntN(10))
		default:
			i := rng.IntN(len(g) + 1)
			g = append(g[:i], append([]byte(`""`), g[i:]...)...)
		}
		out = append(out, g)
	}
	return out
}

func TestFastMatchesTree(t *testing.T) {
	syms := fastSymbols(t)
	pairs := []*pair{newPair(syms), newPair(syms, WithMaxLevels(40), WithMaxItems(2))}
	rng := rand.New(rand.NewPCG(1, 2))
	mutations := 40
	if testing.Short() {
		mutations = 10
	}
	frames := 0
	for _, f := range fastCorpus(t) {
		variants := append([][]byte{f}, reshape(f)...)
		variants = append(variants, mutate(f, rng, mutations)...)
		for _, v := range variants {
			frames++
			for _, p := range pairs {
				for _, slots := range []int{-1, 0, 1, 2, 3, 80} {
					p.check(t, v, slots)
				}
			}
		}
	}
	t.Logf("%d frames", frames)
}

// TestFastTakesGoodFrames: the single-pass path is the one that runs for
// the data frames Bybit sends (every data frame the fastjson path accepts,
// in the package's tests and in the captured set); the speed figures
// depend on it.
func TestFastTakesGoodFrames(t *testing.T) {
	for _, inst := range []bool{false, true} {
		syms := fastSymbols(t)
		if inst {
			syms = conformanceSymbols(t, true)
		}
		p := NewParser(syms)
		sink := newSink(80)
		taken := 0
		for _, f := range fastCorpus(t) {
			sink.reset()
			r, err := p.parseTree(f, 1, sink)
			if err != nil || r.Class != ClassData {
				continue
			}
			sink.reset()
			if ok, err := p.fastParse(f, 1, sink, &Result{}); !ok || err != nil {
				t.Errorf("single-pass path refused a good frame: %.160s (ok %v, err %v)", f, ok, err)
			}
			taken++
		}
		if taken < 10 {
			t.Fatalf("only %d good data frames in the corpus", taken)
		}
	}
}

// FuzzFastMatchesTree: for any input, Parse and the fastjson path agree.
func FuzzFastMatchesTree(f *testing.F) {
	for _, fr := range fastCorpus(f) {
		if len(fr) < 4096 {
			f.Add(fr)
		}
	}
	syms := fastSymbols(f)
	p := newPair(syms, WithMaxLevels(40), WithMaxItems(8))
	f.Fuzz(func(t *testing.T, frame []byte) {
		for _, slots := range []int{-1, 1, 3, 80} {
			p.check(t, frame, slots)
		}
	})
}

// TestDecAt: the fused decimal reader gives parseDecimal's answer (the
// value, or a refusal) for every string text, at every scale.
func TestDecAt(t *testing.T) {
	texts := []string{
		"", "0", "00", "007", "1", "1.", ".5", "1.5", "1.50", "1.05", "0.000", "96410.5", "-1", "+1",
		"1e5", "1E5", "NaN", "1..2", "1.2.3", " 1", "1 ", "1\\u0030", "9223372036854775807",
		"9223372036854775808", "922337203685477580.7", "0000000000000000000000001.5",
		"12345678901234567890", "1.2345678901234567890", "99999999999999999999.0",
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for range 5000 {
		n := rng.IntN(24)
		b := make([]byte, n)
		for i := range b {
			b[i] = "0123456789.0123456789-e"[rng.IntN(23)]
		}
		texts = append(texts, string(b))
	}
	for _, text := range texts {
		for scale := 0; scale <= MaxScale+1; scale++ {
			want, werr := parseDecimal([]byte(text), scale, false)
			b := []byte(`x"` + text + `",`)
			got, end, ok := decAt(b, 2, scale)
			if ok != (werr == nil) || (ok && (got != want || end != len(b)-1)) {
				t.Fatalf("decAt(%q, scale %d) = %d, %d, %v; parseDecimal = %d, %v", text, scale, got, end, ok, want, werr)
			}
		}
	}
}

// The eight-digit step of scan.uint agrees with a digit-by-digit reading
// on every position of a digit and on the bytes just outside '0'-'9'.
func TestEightDigits(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for n := range 20_000 {
		var b [8]byte
		want, digits := uint64(0), true
		for i := range b {
			b[i] = '0' + byte(rng.IntN(10))
			if n%2 == 1 && rng.IntN(8) == 0 {
				b[i] = []byte{'/', ':', '.', ' ', 0x80, 0xB0, 0x39 + 0x80, 0}[rng.IntN(8)]
			}
			digits = digits && b[i] >= '0' && b[i] <= '9'
			want = want*10 + uint64(b[i]-'0')
		}
		w := binary.LittleEndian.Uint64(b[:])
		if got := eightDigits(w); got != digits {
			t.Fatalf("eightDigits(%q) = %v; want %v", b, got, digits)
		}
		if digits && eightDigitsValue(w) != want {
			t.Fatalf("eightDigitsValue(%q) = %d; want %d", b, eightDigitsValue(w), want)
		}
	}
}

// ParseTo overwrites whatever the Result held: after a Result left by a
// frame of another kind (or a control message with its byte fields), the
// next frame's Result is Parse's for that frame alone.
func TestParseToOverwrites(t *testing.T) {
	syms := fastSymbols(t)
	frames := fastCorpus(t)
	pa, pb := NewParser(syms), NewParser(syms)
	var kept Result
	for i, f := range frames {
		// The Result another frame left behind.
		_ = pb.ParseTo(&kept, frames[(i*7)%len(frames)], 1, newSink(80))
		want, werr := pa.Parse(f, 1, newSink(80))
		gerr := pb.ParseTo(&kept, f, 1, newSink(80))
		if !sameResult(&kept, &want) || fmt.Sprint(gerr) != fmt.Sprint(werr) || kept.Sym != want.Sym {
			t.Fatalf("frame %.120s: ParseTo gave %+v, %v; Parse %+v, %v", f, kept, gerr, want, werr)
		}
	}
}
