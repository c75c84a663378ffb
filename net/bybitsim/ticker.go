package bybitsim

import "strconv"

// tickerField renders one ticker value (the bytes between the quotes) from
// the market's current state.
type tickerField struct {
	name string
	f    func(m *market, now int64, dst []byte) []byte
}

const fundingPeriod = 8 * 60 * minute

func (m *market) mid() int64 { return (m.bestBid() + m.bestAsk()) / 2 }

// pct is (a-b)/b with dec decimals, truncated toward zero.
func pct(a, b int64, dec int) int64 { return (a - b) * pow10[dec] / b }

// rescale converts v from scale from to scale to (truncating).
func rescale(v int64, from, to int) int64 {
	if to >= from {
		return v * pow10[to-from]
	}
	return v / pow10[from-to]
}

func fSymbol(m *market, _ int64, d []byte) []byte { return append(d, m.sym...) }
func fTickDir(m *market, _ int64, d []byte) []byte {
	return append(d, tickDirNames[m.lastDir]...)
}
func fPcnt6(m *market, _ int64, d []byte) []byte {
	return appendFixed(d, pct(m.lastPx, m.prev24, 6), 6, false)
}
func fPcnt4(m *market, _ int64, d []byte) []byte {
	return appendFixed(d, pct(m.lastPx, m.prev24, 4), 4, false)
}
func fPcnt8(m *market, _ int64, d []byte) []byte {
	return appendFixed(d, pct(m.lastPx, m.prev24, 8), 8, true)
}
func fLast(m *market, _ int64, d []byte) []byte   { return appendFixed(d, m.lastPx, m.pscale, m.ptrim) }
func fPrev24(m *market, _ int64, d []byte) []byte { return appendFixed(d, m.prev24, m.pscale, m.ptrim) }
func fHigh(m *market, _ int64, d []byte) []byte   { return appendFixed(d, m.high, m.pscale, m.ptrim) }
func fLow(m *market, _ int64, d []byte) []byte    { return appendFixed(d, m.low, m.pscale, m.ptrim) }
func fPrev1h(m *market, _ int64, d []byte) []byte { return appendFixed(d, m.prev1h, m.pscale, m.ptrim) }
func fMark(m *market, _ int64, d []byte) []byte   { return appendFixed(d, m.mid(), m.pscale, m.ptrim) }
func fIndex(m *market, _ int64, d []byte) []byte {
	// The index wobbles a few units around the mid, driven by the sequence
	// so that it changes between pushes without drawing on the market's rng.
	return appendFixed(d, m.mid()+int64(m.seq>>3%9)-4, m.pscale, m.ptrim)
}
func fOI(m *market, _ int64, d []byte) []byte { return appendFixed(d, m.oi, m.qscale, m.qtrim) }
func fOIValue(m *market, _ int64, d []byte) []byte {
	if m.cat == catInverse {
		return appendFixed(d, m.oi*pow10[2+m.pscale-m.qscale]/m.mid(), 2, false)
	}
	return appendFixed(d, rescale(m.oi*m.mid(), m.pscale+m.qscale, 2), 2, false)
}
func fTurn(m *market, _ int64, d []byte) []byte { return appendFixed(d, m.turn, m.turnScale, false) }
func fVol(m *market, _ int64, d []byte) []byte  { return appendFixed(d, m.vol, m.qscale, m.qtrim) }
func fNextFunding(_ *market, now int64, d []byte) []byte {
	return strconv.AppendInt(d, (floorDiv(now, fundingPeriod)+1)*fundingPeriod, 10)
}
func fFunding(m *market, _ int64, d []byte) []byte { return appendFixed(d, m.funding, 8, true) }
func fConst(v string) func(*market, int64, []byte) []byte {
	return func(_ *market, _ int64, d []byte) []byte { return append(d, v...) }
}
func fBid1(m *market, _ int64, d []byte) []byte {
	return appendFixed(d, m.bestBid(), m.pscale, m.ptrim)
}
func fBid1Size(m *market, _ int64, d []byte) []byte {
	return appendFixed(d, m.bids.top(0).qty, m.qscale, m.qtrim)
}
func fAsk1(m *market, _ int64, d []byte) []byte {
	return appendFixed(d, m.bestAsk(), m.pscale, m.ptrim)
}
func fAsk1Size(m *market, _ int64, d []byte) []byte {
	return appendFixed(d, m.asks.top(0).qty, m.qscale, m.qtrim)
}
func fUsdIndex(m *market, _ int64, d []byte) []byte {
	return appendFixed(d, rescale(m.mid(), m.pscale, 6)+m.seq%97, 6, false)
}

// Option fields: plausible numbers derived from the book; only their shape
// matters to a feed handler.
func fOptPx(get func(*market) int64) func(*market, int64, []byte) []byte {
	return func(m *market, _ int64, d []byte) []byte { return appendFixed(d, get(m), m.pscale, true) }
}
func optIV(m *market) int64                      { return 5500 + (m.mid()-m.center)*1000/m.center }
func fBidIv(m *market, _ int64, d []byte) []byte { return appendFixed(d, optIV(m)-35, 4, false) }
func fAskIv(m *market, _ int64, d []byte) []byte { return appendFixed(d, optIV(m)+35, 4, false) }
func fMarkIv(m *market, _ int64, d []byte) []byte {
	return appendFixed(d, optIV(m), 4, false)
}
func fOptMark(m *market, _ int64, d []byte) []byte {
	return appendFixed(d, rescale(m.mid(), m.pscale, 7)+m.seq%1000, 7, false)
}
func fUnderlying(m *market, _ int64, d []byte) []byte {
	return appendFixed(d, m.optionUnderlying+(m.mid()-m.center)*1000+m.seq%10000, 8, false)
}
func fOptIndex(m *market, _ int64, d []byte) []byte {
	return appendFixed(d, (m.optionUnderlying+(m.mid()-m.center)*1000)/1e7, 1, true)
}
func optDelta(m *market) int64 {
	v := int64(50000000) + (m.mid()-m.center)*100000000/(4*m.center)
	v = min(max(v, 1000000), 99000000)
	if n := len(m.sym); n > 0 && m.sym[n-1] == 'P' {
		v -= 100000000
	}
	return v
}
func fDelta(m *market, _ int64, d []byte) []byte { return appendFixed(d, optDelta(m), 8, false) }
func fGamma(m *market, _ int64, d []byte) []byte { return appendFixed(d, 3000+m.seq%300, 8, false) }
func fVega(m *market, _ int64, d []byte) []byte {
	return appendFixed(d, 8000000000+(m.mid()%1000)*100000, 8, false)
}
func fTheta(m *market, _ int64, d []byte) []byte {
	return appendFixed(d, -5000000000-(m.mid()%1000)*100000, 8, false)
}
func fTotalVol(m *market, _ int64, d []byte) []byte { return appendFixed(d, m.vol, m.qscale, true) }
func fTotalTurn(m *market, _ int64, d []byte) []byte {
	return appendFixed(d, m.turn, m.turnScale, true)
}

var linearTicker = []tickerField{
	{"symbol", fSymbol}, {"tickDirection", fTickDir}, {"price24hPcnt", fPcnt6},
	{"lastPrice", fLast}, {"prevPrice24h", fPrev24}, {"highPrice24h", fHigh},
	{"lowPrice24h", fLow}, {"prevPrice1h", fPrev1h}, {"markPrice", fMark},
	{"indexPrice", fIndex}, {"openInterest", fOI}, {"openInterestValue", fOIValue},
	{"turnover24h", fTurn}, {"volume24h", fVol}, {"nextFundingTime", fNextFunding},
	{"fundingRate", fFunding}, {"bid1Price", fBid1}, {"bid1Size", fBid1Size},
	{"ask1Price", fAsk1}, {"ask1Size", fAsk1Size},
	{"fundingIntervalHour", fConst("8")}, {"fundingCap", fConst("0.005")},
}

// inverseTicker is the 2024 field set (no funding interval/cap), so the two
// derivative categories differ the way real captures do.
var inverseTicker = linearTicker[:20]

var spotTicker = []tickerField{
	{"symbol", fSymbol}, {"lastPrice", fLast}, {"highPrice24h", fHigh},
	{"lowPrice24h", fLow}, {"prevPrice24h", fPrev24}, {"volume24h", fVol},
	{"turnover24h", fTurn}, {"price24hPcnt", fPcnt4}, {"usdIndexPrice", fUsdIndex},
}

var optionTicker = []tickerField{
	{"symbol", fSymbol},
	{"bidPrice", fOptPx((*market).bestBid)}, {"bidSize", fBid1Size}, {"bidIv", fBidIv},
	{"askPrice", fOptPx((*market).bestAsk)}, {"askSize", fAsk1Size}, {"askIv", fAskIv},
	{"lastPrice", fOptPx(func(m *market) int64 { return m.lastPx })},
	{"highPrice24h", fOptPx(func(m *market) int64 { return m.high })},
	{"lowPrice24h", fOptPx(func(m *market) int64 { return m.low })},
	{"markPrice", fOptMark}, {"indexPrice", fOptIndex}, {"markPriceIv", fMarkIv},
	{"underlyingPrice", fUnderlying}, {"openInterest", fOI}, {"turnover24h", fTurn},
	{"volume24h", fVol}, {"totalVolume", fTotalVol}, {"totalTurnover", fTotalTurn},
	{"delta", fDelta}, {"gamma", fGamma}, {"vega", fVega}, {"theta", fTheta},
	{"predictedDeliveryPrice", fConst("0")}, {"change24h", fPcnt8},
}

func tickerFields(c category) []tickerField {
	switch c {
	case catSpot:
		return spotTicker
	case catInverse:
		return inverseTicker
	case catOption:
		return optionTicker
	}
	return linearTicker
}
