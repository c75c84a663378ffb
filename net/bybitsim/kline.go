package bybitsim

import (
	"math/rand/v2"
	"time"

	"github.com/ringfeed/ringfeed/kline"
)

// interval is a kline interval: its index in kline's table of Bybit
// intervals (1..720 minutes, then D, W, M). The codes and lengths come from
// that table; the candle arithmetic below is the simulator's own (the time
// package for months), so a mistake in kline's calendar code shows up as a
// mismatch in the engine-versus-simulator tests instead of cancelling out.
type interval uint8

const numIntervals = kline.NumIntervals

const (
	ivDay   interval = 10
	ivWeek  interval = 11
	ivMonth interval = 12
	minute           = int64(60_000)
	// monday is 1970-01-05 00:00 UTC in ms: Bybit's weekly candles start on
	// Mondays.
	monday = 4 * 1440 * minute
)

func parseInterval(s string) (interval, bool) {
	k, err := kline.ParseInterval(s)
	if err != nil {
		return 0, false
	}
	return interval(k.Index()), true
}

func (iv interval) String() string { return kline.IntervalAt(int(iv)).String() }

// millis is the length of a fixed interval (not ivMonth).
func (iv interval) millis() int64 { return int64(kline.IntervalAt(int(iv))) }

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// start returns the start (ms) of the candle that contains t.
func (iv interval) start(t int64) int64 {
	switch iv {
	case ivMonth:
		u := time.UnixMilli(t).UTC()
		return time.Date(u.Year(), u.Month(), 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	case ivWeek:
		w := 7 * 1440 * minute
		return floorDiv(t-monday, w)*w + monday
	}
	d := iv.millis()
	return floorDiv(t, d) * d
}

// next returns the start of the candle after the one starting at start.
func (iv interval) next(start int64) int64 {
	if iv == ivMonth {
		return time.UnixMilli(start).UTC().AddDate(0, 1, 0).UnixMilli()
	}
	return start + iv.millis()
}

// prev returns the start of the candle before the one starting at start.
func (iv interval) prev(start int64) int64 {
	if iv == ivMonth {
		return time.UnixMilli(start).UTC().AddDate(0, -1, 0).UnixMilli()
	}
	return start - iv.millis()
}

// candle holds prices in the market's price units, vol in qty units, turn
// in the category's turnover scale; ts is the time of the last update.
type candle struct {
	start, end             int64
	open, high, low, close int64
	vol, turn, ts          int64
}

// series is one market's candles for one interval: closed candles (oldest
// first, at most limit of them) and the open one.
type series struct {
	iv     interval
	cur    candle
	hist   []candle
	limit  int
	closed uint64 // candles closed since the series was made
}

// newSeries opens the candle containing now at price px and invents limit
// earlier candles (a seeded walk backwards from px) as REST history.
func newSeries(iv interval, now, px, tick, size int64, m *market, seed uint64) *series {
	s := &series{iv: iv, limit: m.klineHistoryLimit}
	st := iv.start(now)
	s.cur = candle{start: st, end: iv.next(st) - 1, open: px, high: px, low: px, close: px, ts: st}
	h := hashSeed(seed, m.cat.String(), m.sym, iv.String())
	rng := rand.New(rand.NewPCG(h, h+1))
	hist := make([]candle, 0, 2*s.limit) // push trims at 2×limit: no growth later
	closeP := px
	for start := iv.prev(st); len(hist) < s.limit && start >= 0; start = iv.prev(start) {
		openP := closeP + tick*int64(rng.IntN(41)-20)
		if openP < tick {
			openP = tick
		}
		c := candle{start: start, end: iv.next(start) - 1, open: openP, close: closeP}
		c.high = max(openP, closeP) + tick*int64(rng.IntN(8))
		c.low = max(min(openP, closeP)-tick*int64(rng.IntN(8)), tick)
		c.vol = size * (1 + rng.Int64N(200))
		c.turn = m.turnover((c.high+c.low)/2, c.vol)
		c.ts = c.end
		hist = append(hist, c)
		closeP = openP
	}
	for i, j := 0, len(hist)-1; i < j; i, j = i+1, j-1 {
		hist[i], hist[j] = hist[j], hist[i]
	}
	s.hist = hist
	return s
}

// roll closes candles that end before t; empty candles fill gaps (open =
// high = low = close = previous close, volume 0), at most limit of them.
func (s *series) roll(t int64) {
	for n := 0; t > s.cur.end; n++ {
		if n > s.limit {
			st := s.iv.start(t)
			c := s.cur.close
			s.cur = candle{start: st, end: s.iv.next(st) - 1, open: c, high: c, low: c, close: c, ts: st}
			return
		}
		s.push(s.cur)
		s.closed++
		st := s.cur.end + 1
		c := s.cur.close
		s.cur = candle{start: st, end: s.iv.next(st) - 1, open: c, high: c, low: c, close: c, ts: st}
	}
}

func (s *series) push(c candle) {
	if len(s.hist) >= 2*s.limit {
		n := copy(s.hist, s.hist[len(s.hist)-s.limit+1:])
		s.hist = s.hist[:n]
	}
	s.hist = append(s.hist, c)
}

// add folds a trade at time t into the open candle.
func (s *series) add(t, px, qty, turn int64) {
	s.roll(t)
	c := &s.cur
	c.high = max(c.high, px)
	c.low = min(c.low, px)
	c.close = px
	c.vol += qty
	c.turn += turn
	if t > c.ts {
		c.ts = t
	}
}

// find returns the candle starting at start (closed or open).
func (s *series) find(start int64) (candle, bool) {
	if s.cur.start == start {
		return s.cur, true
	}
	for i := len(s.hist) - 1; i >= 0; i-- {
		if s.hist[i].start == start {
			return s.hist[i], true
		}
		if s.hist[i].start < start {
			break
		}
	}
	return candle{}, false
}

// kseries returns (making it on first use) the market's series for iv.
func (m *market) kseries(iv interval, now int64, seed uint64) *series {
	if s := m.klines[iv]; s != nil {
		return s
	}
	s := newSeries(iv, now, m.lastPx, m.tick, m.size, m, seed)
	m.klines[iv] = s
	return s
}

// rollKlines closes candles behind the watermark now-maxJitter: no later
// event can carry an earlier time.
func (m *market) rollKlines(now int64) {
	for _, s := range m.klines {
		if s != nil {
			s.roll(now - maxJitter)
		}
	}
}
