package bybitsim

import (
	"strconv"
)

// kind is a topic family.
type kind uint8

const (
	kindBook kind = iota
	kindTicker
	kindTrade
	kindKline
	numKinds
)

var kindNames = [numKinds]string{"orderbook", "tickers", "publicTrade", "kline"}

// sub is one connection's subscription to one stream.
type sub struct {
	c  *conn
	st *stream
	// needSnap: the connection missed messages of this stream (it was
	// stalled), so it gets a snapshot instead of the next delta.
	needSnap bool
}

// sentCandle is a candle as a kline stream last sent it.
type sentCandle struct {
	c       candle
	confirm bool
}

// stream is one topic of one category: the unit that owns an update-id
// counter and the state "as of the last message sent", shared by every
// connection subscribed to it. Only the generator and the subscribe path,
// both under Server.mu, touch it.
type stream struct {
	cat          category
	kind         kind
	topic        string
	m            *market   // nil for option trade streams
	mkts         []*market // markets feeding a trade stream
	subs         []*sub
	every, phase uint64 // RateMixed cadence in generator steps
	activeIdx    int
	idSeq        int64 // option frames' "id" counter

	// faults, set by Server.Inject, consumed by the next publish
	skip, cross, restart, split, dup bool
	silentUntil                      int64 // real ns; 0 = not silent; <0 = until lifted
	mute                             bool  // silent, and new subscribers get no first message
	rejectN                          int

	// orderbook
	depth           int
	started         bool
	u, seq, ts, cts int64
	sentB, sentA    []level
	chB, chA        []level
	markB, markA    uint64 // touch marks of sentB, sentA
	lastSend        int64  // real ns of the last orderbook.1 frame
	tk              tickerState
	cursors         []uint64
	batch           []trade
	sentTrades      []trade
	sentTradeHead   uint64
	iv              interval
	ks              *series
	sentK           []sentCandle
	lastStart       int64
}

// tickerState is a ticker stream's merged fields as sent.
type tickerState struct {
	fields    []tickerField
	sent, cur [][]byte
	has       bool
	cs, ts    int64
}

const sentTradesSize = 1024

func newStream(cat category, k kind, topic string, m *market, seed uint64) *stream {
	st := &stream{cat: cat, kind: k, topic: topic, m: m, activeIdx: -1}
	h := hashSeed(seed, cat.String(), topic)
	st.idSeq = int64(h>>34) + 1e9
	switch k {
	case kindBook:
		st.u = int64(h%9e7) + 1e6
	case kindTicker:
		st.tk.fields = tickerFields(cat)
		n := len(st.tk.fields)
		st.tk.sent, st.tk.cur = make([][]byte, n), make([][]byte, n)
		for i := range n {
			st.tk.sent[i] = make([]byte, 0, 24)
			st.tk.cur[i] = make([]byte, 0, 24)
		}
	case kindTrade:
		st.sentTrades = make([]trade, sentTradesSize)
	}
	return st
}

// takeWindows copies the true book's best depth levels as the sent state.
func (st *stream) takeWindows() {
	m := st.m
	st.sentB, st.markB = m.bids.window(st.sentB, st.depth), m.bids.nTouched
	st.sentA, st.markA = m.asks.window(st.sentA, st.depth), m.asks.nTouched
}

// syncWindows brings the sent state up to the true book, leaving the
// changes in chB and chA; it reports whether there were any.
func (st *stream) syncWindows() bool {
	m := st.m
	st.chB = m.bids.sync(st.chB[:0], &st.sentB, st.depth, &st.markB)
	st.chA = m.asks.sync(st.chA[:0], &st.sentA, st.depth, &st.markA)
	return len(st.chB)+len(st.chA) > 0
}

// ---- rendering. Every appendXxx writes one complete JSON frame into dst
// with strconv.Append*: no reflection, no allocation once dst has grown.

func appendLevels(dst []byte, m *market, lv []level, ask bool) []byte {
	dst = append(dst, '[')
	for i, l := range lv {
		if i > 0 {
			dst = append(dst, ',')
		}
		px := l.key
		if ask {
			px = -px
		}
		dst = append(dst, `["`...)
		dst = appendFixed(dst, px, m.pscale, m.ptrim)
		dst = append(dst, `","`...)
		if l.qty == 0 {
			dst = append(dst, '0') // deletes print "0" in every category
		} else {
			dst = appendFixed(dst, l.qty, m.qscale, m.qtrim)
		}
		dst = append(dst, `"]`...)
	}
	return append(dst, ']')
}

// appendOptionID writes an option frame's top-level id: topic, a counter and
// the timestamp ("orderbook.25.SOL-28APR23-30-C-3360274030-1680652786355").
func (st *stream) appendOptionID(dst []byte, ts int64) []byte {
	st.idSeq++
	dst = append(dst, `{"id":"`...)
	dst = append(dst, st.topic...)
	dst = append(dst, '-')
	dst = strconv.AppendInt(dst, st.idSeq, 10)
	dst = append(dst, '-')
	dst = strconv.AppendInt(dst, ts, 10)
	return append(dst, `",`...)
}

// appendHead writes a book or trade frame up to "data" in the category's
// key order: spot {topic,ts,type}, linear/inverse {topic,type,ts}, option
// {id,topic,ts} (its type follows data; the caller writes it).
func (st *stream) appendHead(dst []byte, typ string, ts int64) []byte {
	switch st.cat {
	case catOption:
		dst = st.appendOptionID(dst, ts)
		dst = append(dst, `"topic":"`...)
		dst = append(dst, st.topic...)
		dst = append(dst, `","ts":`...)
		return strconv.AppendInt(dst, ts, 10)
	case catSpot:
		dst = append(dst, `{"topic":"`...)
		dst = append(dst, st.topic...)
		dst = append(dst, `","ts":`...)
		dst = strconv.AppendInt(dst, ts, 10)
		dst = append(dst, `,"type":"`...)
		dst = append(dst, typ...)
		return append(dst, '"')
	}
	dst = append(dst, `{"topic":"`...)
	dst = append(dst, st.topic...)
	dst = append(dst, `","type":"`...)
	dst = append(dst, typ...)
	dst = append(dst, `","ts":`...)
	return strconv.AppendInt(dst, ts, 10)
}

// appendBook writes an orderbook frame in the category's key order:
// spot {topic,ts,type,data,cts}; linear/inverse {topic,type,ts,data,cts};
// option {id,topic,ts,data,type,cts}.
func (st *stream) appendBook(dst []byte, typ string, b, a []level, u, seq, ts, cts int64) []byte {
	m := st.m
	dst = st.appendHead(dst, typ, ts)
	dst = append(dst, `,"data":{"s":"`...)
	dst = append(dst, m.sym...)
	dst = append(dst, `","b":`...)
	dst = appendLevels(dst, m, b, false)
	dst = append(dst, `,"a":`...)
	dst = appendLevels(dst, m, a, true)
	dst = append(dst, `,"u":`...)
	dst = strconv.AppendInt(dst, u, 10)
	dst = append(dst, `,"seq":`...)
	dst = strconv.AppendInt(dst, seq, 10)
	dst = append(dst, '}')
	if st.cat == catOption {
		dst = append(dst, `,"type":"`...)
		dst = append(dst, typ...)
		dst = append(dst, '"')
	}
	dst = append(dst, `,"cts":`...)
	dst = strconv.AppendInt(dst, cts, 10)
	return append(dst, '}')
}

// appendBookSnapshot writes the stream's sent state as a snapshot.
func (st *stream) appendBookSnapshot(dst []byte) []byte {
	return st.appendBook(dst, "snapshot", st.sentB, st.sentA, st.u, st.seq, st.ts, st.cts)
}

// appendTicker writes a ticker frame with the fields whose index is in
// idx (all when idx is nil): spot {topic,ts,type,cs,data}; linear/inverse
// {topic,type,data,cs,ts}; option {topic,ts,type,id,data}.
func (st *stream) appendTicker(dst []byte, typ string, vals [][]byte, idx []int) []byte {
	tk := &st.tk
	// spot and option lead with {topic,ts,type; linear/inverse with
	// {topic,type.
	dst = append(dst, `{"topic":"`...)
	dst = append(dst, st.topic...)
	if st.cat == catSpot || st.cat == catOption {
		dst = append(dst, `","ts":`...)
		dst = strconv.AppendInt(dst, tk.ts, 10)
		dst = append(dst, `,"type":"`...)
		dst = append(dst, typ...)
	}
	switch st.cat {
	case catSpot:
		dst = append(dst, `","cs":`...)
		dst = strconv.AppendInt(dst, tk.cs, 10)
		dst = append(dst, `,"data":{`...)
	case catOption:
		dst = append(dst, `","id":"`...)
		st.idSeq++
		dst = append(dst, st.topic...)
		dst = append(dst, '-')
		dst = strconv.AppendInt(dst, st.idSeq, 10)
		dst = append(dst, '-')
		dst = strconv.AppendInt(dst, tk.ts, 10)
		dst = append(dst, `","data":{`...)
	default:
		dst = append(dst, `","type":"`...)
		dst = append(dst, typ...)
		dst = append(dst, `","data":{`...)
	}
	field := func(dst []byte, i int, first bool) []byte {
		if !first {
			dst = append(dst, ',')
		}
		dst = append(dst, '"')
		dst = append(dst, tk.fields[i].name...)
		dst = append(dst, `":"`...)
		dst = append(dst, vals[i]...)
		return append(dst, '"')
	}
	if idx == nil {
		for i := range tk.fields {
			dst = field(dst, i, i == 0)
		}
	} else {
		dst = field(dst, 0, true) // symbol always leads a delta
		for _, i := range idx {
			if i != 0 {
				dst = field(dst, i, false)
			}
		}
	}
	dst = append(dst, '}')
	if st.cat == catLinear || st.cat == catInverse {
		dst = append(dst, `,"cs":`...)
		dst = strconv.AppendInt(dst, tk.cs, 10)
		dst = append(dst, `,"ts":`...)
		dst = strconv.AppendInt(dst, tk.ts, 10)
	}
	return append(dst, '}')
}

func (st *stream) appendTickerSnapshot(dst []byte) []byte {
	return st.appendTicker(dst, "snapshot", st.tk.sent, nil)
}

// appendTrades writes a publicTrade frame: spot {topic,ts,type,data};
// linear/inverse {topic,type,ts,data}; option {id,topic,ts,data,type}. The
// trade keys follow each category's captures.
func (st *stream) appendTrades(dst []byte, trs []trade, ts int64) []byte {
	dst = st.appendHead(dst, "snapshot", ts)
	dst = append(dst, `,"data":[`...)
	for i := range trs {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendTrade(dst, st.cat, &trs[i])
	}
	dst = append(dst, ']')
	if st.cat == catOption {
		dst = append(dst, `,"type":"snapshot"`...)
	}
	return append(dst, '}')
}

func appendSide(dst []byte, buy bool) []byte {
	if buy {
		return append(dst, "Buy"...)
	}
	return append(dst, "Sell"...)
}

func appendTradeID(dst []byte, cat category, t *trade) []byte {
	if cat == catSpot {
		return strconv.AppendUint(dst, t.lo, 10)
	}
	return appendUUID(dst, t.hi, t.lo)
}

func appendTrade(dst []byte, cat category, t *trade) []byte {
	m := t.m
	px := func(dst []byte) []byte { return appendFixed(dst, t.px, m.pscale, m.ptrim) }
	qty := func(dst []byte) []byte { return appendFixed(dst, t.qty, m.qscale, m.qtrim) }
	switch cat {
	case catSpot:
		dst = append(dst, `{"i":"`...)
		dst = appendTradeID(dst, cat, t)
		dst = append(dst, `","T":`...)
		dst = strconv.AppendInt(dst, t.t, 10)
		dst = append(dst, `,"p":"`...)
		dst = px(dst)
		dst = append(dst, `","v":"`...)
		dst = qty(dst)
		dst = append(dst, `","S":"`...)
		dst = appendSide(dst, t.buy)
		dst = append(dst, `","seq":`...)
		dst = strconv.AppendInt(dst, t.seq, 10)
		dst = append(dst, `,"s":"`...)
		dst = append(dst, m.sym...)
		return append(dst, `","BT":false,"RPI":false}`...)
	case catOption:
		dst = append(dst, `{"p":"`...)
		dst = px(dst)
		dst = append(dst, `","v":"`...)
		dst = qty(dst)
		dst = append(dst, `","i":"`...)
		dst = appendTradeID(dst, cat, t)
		dst = append(dst, `","T":`...)
		dst = strconv.AppendInt(dst, t.t, 10)
		dst = append(dst, `,"BT":false,"s":"`...)
		dst = append(dst, m.sym...)
		dst = append(dst, `","S":"`...)
		dst = appendSide(dst, t.buy)
		dst = append(dst, `","mP":"`...)
		dst = appendFixed(dst, t.px, m.pscale, true)
		dst = append(dst, `","iP":"`...)
		dst = appendFixed(dst, m.optionUnderlying/1e6, 2, true)
		dst = append(dst, `","mIv":"`...)
		dst = appendFixed(dst, 5500+t.seq%100, 4, false)
		dst = append(dst, `","iv":"`...)
		dst = appendFixed(dst, 5450+t.seq%150, 4, false)
		return append(dst, `"}`...)
	}
	dst = append(dst, `{"T":`...)
	dst = strconv.AppendInt(dst, t.t, 10)
	dst = append(dst, `,"s":"`...)
	dst = append(dst, m.sym...)
	dst = append(dst, `","S":"`...)
	dst = appendSide(dst, t.buy)
	dst = append(dst, `","v":"`...)
	dst = qty(dst)
	dst = append(dst, `","p":"`...)
	dst = px(dst)
	dst = append(dst, `","L":"`...)
	dst = append(dst, tickDirNames[t.dir]...)
	dst = append(dst, `","i":"`...)
	dst = appendTradeID(dst, cat, t)
	dst = append(dst, `","BT":false,"RPI":false,"seq":`...)
	dst = strconv.AppendInt(dst, t.seq, 10)
	return append(dst, '}')
}

// appendKline writes a kline frame, the same shape in every category:
// {topic,data:[{start,end,interval,open,close,high,low,volume,turnover,
// confirm,timestamp}],ts,type}. Kline numbers are printed trimmed.
func (st *stream) appendKline(dst []byte, c *candle, confirm bool, ts int64) []byte {
	m := st.m
	dst = append(dst, `{"topic":"`...)
	dst = append(dst, st.topic...)
	dst = append(dst, `","data":[{"start":`...)
	dst = strconv.AppendInt(dst, c.start, 10)
	dst = append(dst, `,"end":`...)
	dst = strconv.AppendInt(dst, c.end, 10)
	dst = append(dst, `,"interval":"`...)
	dst = append(dst, st.iv.String()...)
	dst = append(dst, `","open":"`...)
	dst = appendFixed(dst, c.open, m.pscale, true)
	dst = append(dst, `","close":"`...)
	dst = appendFixed(dst, c.close, m.pscale, true)
	dst = append(dst, `","high":"`...)
	dst = appendFixed(dst, c.high, m.pscale, true)
	dst = append(dst, `","low":"`...)
	dst = appendFixed(dst, c.low, m.pscale, true)
	dst = append(dst, `","volume":"`...)
	dst = appendFixed(dst, c.vol, m.qscale, true)
	dst = append(dst, `","turnover":"`...)
	dst = appendFixed(dst, c.turn, m.turnScale, true)
	dst = append(dst, `","confirm":`...)
	dst = strconv.AppendBool(dst, confirm)
	dst = append(dst, `,"timestamp":`...)
	dst = strconv.AppendInt(dst, c.ts, 10)
	dst = append(dst, `}],"ts":`...)
	dst = strconv.AppendInt(dst, ts, 10)
	return append(dst, `,"type":"snapshot"}`...)
}
