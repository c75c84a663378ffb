package bybitsim

import (
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"strings"
)

const (
	// slack is the head-room of deep levels kept beyond Instrument.Levels so
	// that deletions near the top always have a level to pull into the
	// deepest window.
	slack = 64
	// maxJitter is how far (simulated ms) an event's engine time (cts, T)
	// may trail the step's clock reading; klines roll only behind it.
	maxJitter = 5
	// tradeLogSize is the per-market ring of recent trades that trade
	// streams read from; a stream reads it every step, so it never laps.
	tradeLogSize = 1 << 12
)

// Tick directions, in Bybit's spelling.
const (
	plusTick uint8 = iota
	zeroPlusTick
	minusTick
	zeroMinusTick
)

var tickDirNames = [...]string{"PlusTick", "ZeroPlusTick", "MinusTick", "ZeroMinusTick"}

// trade is one fill as the generator made it. Several fills of one
// aggressive order share t and seq.
type trade struct {
	t, seq, px, qty int64
	hi, lo          uint64 // UUID bits; lo alone is a spot trade's numeric id
	m               *market
	buy             bool
	dir             uint8
}

// market is one simulated instrument: its true deep book, trade log,
// ticker statistics and candles. Only the generator (under Server.mu)
// touches it.
type market struct {
	cat               category
	sym, base, quote  string
	pscale, qscale    int
	tick, qstep, size int64
	center            int64
	levels            int
	ptrim, qtrim      bool // print prices / sizes with trailing zeros trimmed
	turnScale         int
	rng               *rand.Rand
	bids, asks        side
	tmp               []level
	seq, evTime       int64
	lastPx            int64
	lastDir           uint8
	trades            []trade // ring of tradeLogSize, allocated on first use
	tradeHead         uint64  // trades ever made
	tradeNo           uint64  // spot numeric trade id
	vol, turn         int64   // volume and turnover since start (24h fields)
	high, low         int64
	prev24, prev1h    int64
	oi, funding       int64
	klines            [numIntervals]*series
	refs, activeIdx   int
	optionUnderlying  int64 // option: underlying price, price units
	klineHistoryLimit int
	inst              Instrument // as configured, for instruments-info
}

func hashSeed(seed uint64, parts ...string) uint64 {
	h := fnv.New64a()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return h.Sum64() ^ seed*0x9e3779b97f4a7c15
}

func newMarket(in Instrument, seed uint64, history int) (*market, error) {
	cat, _ := parseCategory(in.Category)
	m := &market{cat: cat, sym: in.Symbol, levels: in.Levels, klineHistoryLimit: history, inst: in}
	bad := func(field, v string) error {
		return fmt.Errorf("%w: instrument %s/%s: %s %q", errConfig, in.Category, in.Symbol, field, v)
	}
	var err error
	m.tick, m.pscale, err = parseDecimal(in.TickSize)
	if err != nil || m.tick <= 0 {
		return nil, bad("TickSize", in.TickSize)
	}
	m.qstep, m.qscale, err = parseDecimal(in.QtyStep)
	if err != nil || m.qstep <= 0 {
		return nil, bad("QtyStep", in.QtyStep)
	}
	m.center, err = parseFixed(in.Price, m.pscale)
	if err != nil || m.center%m.tick != 0 || m.center < 4*m.tick || m.center > 1e15 {
		return nil, bad("Price", in.Price)
	}
	m.size = 100 * m.qstep
	if in.Size != "" {
		m.size, err = parseFixed(in.Size, m.qscale)
		if err != nil || m.size < m.qstep {
			return nil, bad("Size", in.Size)
		}
	}
	if m.levels == 0 {
		m.levels = 1000
	}
	if m.levels < 1 || m.levels > 100000 {
		return nil, bad("Levels", fmt.Sprint(in.Levels))
	}
	m.base, m.quote = in.BaseCoin, in.QuoteCoin
	if m.base == "" || m.quote == "" {
		b, q := splitSymbol(cat, in.Symbol)
		if m.base == "" {
			m.base = b
		}
		if m.quote == "" {
			m.quote = q
		}
	}
	switch cat {
	case catSpot:
		m.ptrim, m.qtrim, m.turnScale = true, true, 8
	case catLinear:
		m.turnScale = 4
	case catInverse:
		m.turnScale = 8
	case catOption:
		m.qtrim, m.turnScale = true, 4
	}
	h := hashSeed(seed, in.Category, in.Symbol)
	m.rng = rand.New(rand.NewPCG(h, h*0xbf58476d1ce4e5b9+1))
	m.seq = 4e11 + m.rng.Int64N(1e10)
	m.tradeNo = 2290000000000000000 + uint64(m.rng.Int64N(1e12))
	m.lastPx = m.center
	m.lastDir = zeroPlusTick
	m.high = m.center + m.center/50/m.tick*m.tick
	m.low = m.center - m.center/50/m.tick*m.tick
	m.prev24 = m.center - m.tick*int64(m.rng.IntN(21)-10)
	m.prev1h = m.center - m.tick*int64(m.rng.IntN(7)-3)
	m.oi = m.size * 10000
	m.funding = 10000 // 0.0001 in 1e-8 units
	m.optionUnderlying = underlyingFor(m.base)
	capLv := m.levels + 4*slack + 16
	m.bids = side{lv: make([]level, 0, capLv)}
	m.asks = side{lv: make([]level, 0, capLv), ask: true}
	m.tmp = make([]level, 0, capLv)
	m.bids.lv = append(m.bids.lv, level{m.center, m.randQty()})
	m.asks.lv = append(m.asks.lv, level{-(m.center + m.tick), m.randQty()})
	m.keepDepth()
	return m, nil
}

// splitSymbol derives base and quote coins the way Bybit names instruments.
func splitSymbol(cat category, sym string) (base, quote string) {
	if cat == catOption {
		b, _, _ := strings.Cut(sym, "-")
		return b, "USDC"
	}
	for _, q := range []string{"USDT", "USDC", "USD", "EUR", "BTC", "PERP"} {
		if b, ok := strings.CutSuffix(sym, q); ok && b != "" {
			if q == "PERP" {
				q = "USDC"
			}
			return b, q
		}
	}
	return sym, "USDT"
}

// underlyingFor gives options an underlying price to print (in 1e-8 units).
func underlyingFor(base string) int64 {
	switch base {
	case "BTC":
		return 65000_00000000
	case "ETH":
		return 3200_00000000
	case "SOL":
		return 150_00000000
	}
	return 100_00000000
}

func (m *market) bestBid() int64 { return m.bids.top(0).key }
func (m *market) bestAsk() int64 { return -m.asks.top(0).key }

// randQty draws an order size: mostly around Size, sometimes ten times it.
func (m *market) randQty() int64 {
	lots := m.size / m.qstep
	if lots < 1 {
		lots = 1
	}
	q := 1 + m.rng.Int64N(2*lots)
	if m.rng.IntN(10) == 0 {
		q *= 1 + m.rng.Int64N(10)
	}
	return q * m.qstep
}

// depthPick draws how deep below the top an event lands: mostly the first
// few levels, regularly within 50, sometimes within 250 or anywhere, so that
// every depth window sees changes.
func (m *market) depthPick() int {
	switch r := m.rng.IntN(64); {
	case r < 40:
		return m.rng.IntN(6)
	case r < 58:
		return m.rng.IntN(60)
	case r < 62:
		return m.rng.IntN(250)
	}
	return m.rng.IntN(m.levels)
}

// step applies one engine event (trade, add or cancel) at simulated time now.
func (m *market) step(now int64) {
	m.seq += 1 + int64(m.rng.IntN(6))
	t := now - int64(m.rng.IntN(maxJitter+1))
	if t > m.evTime {
		m.evTime = t
	}
	switch r := m.rng.IntN(100); {
	case r < 12:
		m.trade()
	case r < 57:
		m.add()
	default:
		m.cancel()
	}
	if m.rng.IntN(64) == 0 {
		m.funding += int64(m.rng.IntN(5) - 2)
	}
	m.keepDepth()
}

func (m *market) add() {
	bb, ba := m.bestBid(), m.bestAsk()
	spread := (ba - bb) / m.tick
	bid := m.rng.IntN(2) == 0
	q := m.randQty()
	if spread > 1 && (spread > 6 || m.rng.IntN(3) == 0) {
		k := (1 + m.rng.Int64N(min(spread-1, 3))) * m.tick
		if bid {
			m.bids.set(bb+k, q)
		} else {
			m.asks.set(-(ba - k), q)
		}
		return
	}
	sd := &m.asks
	if bid {
		sd = &m.bids
	}
	d := min(m.depthPick(), sd.n()-1)
	l := sd.top(d)
	if m.rng.IntN(4) == 0 {
		key := l.key - m.tick // one tick deeper, on either side
		if !sd.ask && key < m.tick {
			return
		}
		l = level{key, sd.get(key)}
	}
	if limit := 50 * m.size; l.qty+q > limit {
		q = m.qstep
	}
	sd.set(l.key, l.qty+q)
}

func (m *market) cancel() {
	sd := &m.asks
	if m.rng.IntN(2) == 0 {
		sd = &m.bids
	}
	if sd.n() <= 2 {
		return
	}
	l := sd.top(min(m.depthPick(), sd.n()-1))
	q := m.randQty()
	if q >= l.qty || m.rng.IntN(3) == 0 {
		sd.set(l.key, 0)
		return
	}
	sd.set(l.key, l.qty-q)
}

// trade sweeps up to four levels of one side with an aggressive order whose
// side leans back toward the initial price, so the walk stays bounded.
func (m *market) trade() {
	mid2 := m.bestBid() + m.bestAsk()
	dev := (mid2 - 2*m.center) * 1000 / (2 * m.center)
	p := min(max(50-dev*4, 5), 95)
	buy := int64(m.rng.IntN(100)) < p
	opp := &m.bids
	if buy {
		opp = &m.asks
	}
	rem := m.randQty()
	for k := 0; rem > 0 && k < 4 && opp.n() > 2; k++ {
		l := opp.top(0)
		fill := min(rem, l.qty)
		m.recordTrade(opp.px(l.key), fill, buy)
		rem -= fill
		opp.set(l.key, l.qty-fill)
	}
}

func (m *market) recordTrade(px, qty int64, buy bool) {
	switch {
	case px > m.lastPx:
		m.lastDir = plusTick
	case px < m.lastPx:
		m.lastDir = minusTick
	case m.lastDir == plusTick || m.lastDir == zeroPlusTick:
		m.lastDir = zeroPlusTick
	default:
		m.lastDir = zeroMinusTick
	}
	m.lastPx = px
	tr := trade{t: m.evTime, seq: m.seq, px: px, qty: qty, m: m, buy: buy, dir: m.lastDir}
	if m.cat == catSpot {
		m.tradeNo++
		tr.lo = m.tradeNo
	} else {
		tr.hi, tr.lo = m.rng.Uint64(), m.rng.Uint64()
	}
	if m.trades == nil {
		m.trades = make([]trade, tradeLogSize)
	}
	m.trades[m.tradeHead%tradeLogSize] = tr
	m.tradeHead++
	turn := m.turnover(px, qty)
	m.vol += qty
	m.turn += turn
	if m.turn > 1e17 || m.vol > 1e17 { // keep hours-long max-rate runs in range
		m.turn /= 2
		m.vol /= 2
	}
	m.high = max(m.high, px)
	m.low = min(m.low, px)
	if buy {
		m.oi += qty
	} else if m.oi -= qty; m.oi < m.size {
		m.oi += 1000 * m.size
	}
	for _, s := range m.klines {
		if s != nil {
			s.add(tr.t, px, qty, turn)
		}
	}
}

// turnover is px×qty in the category's turnover scale (quote value; coin
// value for inverse contracts).
func (m *market) turnover(px, qty int64) int64 {
	if m.cat == catInverse {
		return qty * pow10[m.turnScale+m.pscale-m.qscale] / px
	}
	v := px * qty
	if d := m.turnScale - m.pscale - m.qscale; d >= 0 {
		return v * pow10[d]
	} else {
		return v / pow10[-d]
	}
}

// keepDepth keeps each side between Levels+slack/2 and Levels+3·slack
// levels: deep levels are added (rarely, in batches) at the deep end and
// trimmed there, never inside any stream's window.
func (m *market) keepDepth() {
	m.keepSide(&m.bids)
	m.keepSide(&m.asks)
}

func (m *market) keepSide(sd *side) {
	n := sd.n()
	if n > m.levels+3*slack {
		cut := n - (m.levels + 2*slack)
		copy(sd.lv, sd.lv[cut:])
		sd.lv = sd.lv[:n-cut]
		sd.touch(math.MinInt64) // deep-end edits bypass set: streams diff in full once
		return
	}
	if n >= m.levels+slack/2 {
		return
	}
	want := m.levels + slack - n
	key := sd.lv[0].key
	m.tmp = m.tmp[:0]
	for len(m.tmp) < want {
		gap := m.tick
		if m.rng.IntN(6) == 0 {
			gap *= 2
		}
		key -= gap
		if !sd.ask && key < m.tick {
			break
		}
		m.tmp = append(m.tmp, level{key, m.randQty()})
	}
	c := len(m.tmp)
	if c == 0 {
		m.fillGap(sd)
		return
	}
	sd.touch(math.MinInt64)
	sd.lv = sd.lv[:n+c]
	copy(sd.lv[c:], sd.lv[:n])
	for i, l := range m.tmp {
		sd.lv[c-1-i] = l
	}
}

// fillGap adds a level in a hole of a side that cannot grow deeper (bids on
// a price grid that reaches zero), so that deletions do not thin it out.
func (m *market) fillGap(sd *side) {
	if sd.n() < 2 {
		return
	}
	for range 4 {
		i := m.rng.IntN(sd.n() - 1)
		if k := sd.lv[i].key + m.tick; k < sd.lv[i+1].key {
			sd.set(k, m.randQty())
			return
		}
	}
}
