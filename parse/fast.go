package parse

import (
	"bytes"
	"unicode/utf8"
)

// The single-pass path. Book, kline, ticker and trade frames are read
// straight from the frame's bytes: no value tree, no copy of the frame,
// each decimal converted where it lies. fastjson's tree was half the cost
// of Parse (building and resetting it), which is why this exists.
//
// It reads the frames Bybit sends: no escapes, no duplicate members that
// matter, bids before asks, "topic" before "data"; members are found by
// key in any other order ("ts", "type", "cs" and "cts" come after "data"
// in some streams). Anything else (a control message, an error of any
// kind, an odd but valid shape) makes it give up before it has taken a
// single slot, and Parse runs the fastjson path over the frame: that path
// alone decides what is an error and names it. So for every frame the
// single-pass path accepts, its Result and events are the fastjson path's
// (TestFastMatchesTree, FuzzFastMatchesTree).
//
// Values are read into the Parser's scratch (levels, candles, trades,
// tickers) and written to slots only once the whole frame has been read:
// a slot is complete when taken, as on the fastjson path, so a sink that
// publishes the first slots of a message early (a full ring) never shows
// the consumer a half-written header.

// Envelope members seen. fastjson's Get returns the first of duplicate
// keys; rather than mimic that, the single-pass path gives up on them.
const (
	seenTopic = 1 << iota
	seenType
	seenTS
	seenCTS
	seenCS
	seenData
)

// tradeScratch is one trade read by the single-pass path.
type tradeScratch struct {
	Trade
	id      uint32
	seq     int64
	skipped int // option trades skipped before this one
}

// fastParse is the single-pass path. ok false means "use the fastjson
// path"; no slot has been taken then. With ok true, err is nil or, when
// the sink ran out of slots, the ErrNoRoom the fastjson path would return
// for the same frame, with the same Result.
func (p *Parser) fastParse(frame []byte, recvNs int64, sink Sink) (r Result, ok bool, err error) {
	r.Sym = NoSymbol
	s := scan{b: frame}
	if empty, ok := s.open('{', '}'); !ok || empty {
		return r, false, nil
	}
	var (
		ti      TopicInfo
		h       header
		seen    uint8
		id      uint32
		cts, cs []byte // raw numbers: only books read cts, only tickers cs
		u, seq  int64
		isArray bool // a ticker's data is an array
	)
	h.recvNs = recvNs
	for more := true; more; {
		k, ok := s.key()
		if !ok {
			return r, false, nil
		}
		var bit uint8
		switch string(k) {
		case "topic":
			bit = seenTopic
			t, ok := s.str()
			if !ok || seen&bit != 0 || ti.parse(t) != nil {
				return r, false, nil
			}
			if id, ok = p.syms.Lookup(ti.Symbol); !ok {
				if ti.Kind != KindTrade {
					return r, false, nil
				}
				id = NoSymbol // an option base coin: each trade names its symbol
			}
		case "type":
			bit = seenType
			t, ok := s.str()
			if !ok {
				return r, false, nil
			}
			switch string(t) {
			case "snapshot":
				h.flags = Snapshot
			case "delta":
			default:
				return r, false, nil
			}
		case "ts":
			bit = seenTS
			if h.ts, ok = s.uint(); !ok {
				return r, false, nil
			}
		case "cts":
			bit = seenCTS
			if cts, ok = s.raw(); !ok {
				return r, false, nil
			}
		case "cs":
			bit = seenCS
			if cs, ok = s.raw(); !ok {
				return r, false, nil
			}
		case "data":
			bit = seenData
			if seen&seenTopic == 0 {
				return r, false, nil
			}
			switch ti.Kind {
			case KindBook:
				u, seq, ok = p.fastBook(&s, &ti, id)
			case KindKline:
				ok = p.fastKlines(&s, id)
			case KindTicker:
				isArray, ok = p.fastTickers(&s, &ti, id)
			case KindTrade:
				ok = p.fastTrades(&s, &ti, id)
			}
			if !ok {
				return r, false, nil
			}
		default:
			if !s.skip(0) {
				return r, false, nil
			}
		}
		if seen&bit != 0 {
			return r, false, nil
		}
		seen |= bit
		if more, ok = s.more('}'); !ok {
			return r, false, nil
		}
	}
	if s.ws(); s.i != len(s.b) || seen&(seenData|seenTS) != seenData|seenTS {
		return r, false, nil
	}
	r.Class, r.Kind, r.Depth, r.Interval = ClassData, ti.Kind, ti.Depth, ti.Interval
	switch ti.Kind {
	case KindBook:
		if seen&seenType == 0 {
			return r, false, nil
		}
		if cts != nil {
			if h.cts, err = parseUint(cts); err != nil {
				return r, false, nil
			}
		}
		h.seq = seq
		r.Sym = id
		err = p.emitBook(sink, &ti, id, u, &h, &r)
		return r, true, err
	case KindKline:
		r.Sym = id
		err = p.emitKlines(sink, &ti, id, &h, &r)
		return r, true, err
	case KindTicker:
		if seen&seenType == 0 {
			return r, false, nil
		}
		if cs != nil {
			if h.seq, err = parseUint(cs); err != nil {
				return r, false, nil
			}
		}
		r.Sym = id
		err = p.emitTickers(sink, id, isArray, &h, &r)
		return r, true, err
	default:
		if len(p.trd) == 0 && p.skipped > 0 {
			return r, false, nil // no trade of a registered symbol: an error
		}
		r.Sym = id // NoSymbol for an option base coin
		err = p.emitTrades(sink, &h, &r)
		return r, true, err
	}
}

// fastBook reads a book's data object: its levels into p.lv (bids, then
// asks from p.nb on).
func (p *Parser) fastBook(s *scan, ti *TopicInfo, id uint32) (u, seq int64, ok bool) {
	const (
		seenS = 1 << iota
		seenB
		seenA
		seenU
		seenSeq
	)
	if empty, ok := s.open('{', '}'); !ok || empty {
		return 0, 0, false
	}
	ps, ss := p.syms.Scales(id)
	p.lv = p.lv[:0]
	var seen uint8
	for more := true; more; {
		k, ok := s.key()
		if !ok {
			return 0, 0, false
		}
		var bit uint8
		switch string(k) {
		case "s":
			bit = seenS
			v, ok := s.str()
			if !ok || !bytes.Equal(v, ti.Symbol) {
				return 0, 0, false
			}
		case "b":
			bit = seenB
			if seen&seenA != 0 || !p.fastSide(s, ps, ss) {
				return 0, 0, false
			}
			p.nb = len(p.lv)
		case "a":
			bit = seenA
			if !p.fastSide(s, ps, ss) {
				return 0, 0, false
			}
		case "u":
			bit = seenU
			u, ok = s.uint()
		case "seq":
			bit = seenSeq
			seq, ok = s.uint()
		default:
			ok = s.skip(1)
		}
		if !ok || seen&bit != 0 {
			return 0, 0, false
		}
		seen |= bit
		if more, ok = s.more('}'); !ok {
			return 0, 0, false
		}
	}
	return u, seq, seen&(seenB|seenA|seenU) == seenB|seenA|seenU
}

// fastSide appends one side's [["price","size"],…] to p.lv.
func (p *Parser) fastSide(s *scan, ps, ss int) bool {
	empty, ok := s.open('[', ']')
	if !ok {
		return false
	}
	for n, more := 0, !empty; more; n++ {
		if n == p.maxLevels {
			return false
		}
		l, ok := s.level(ps, ss)
		if !ok {
			return false
		}
		p.lv = append(p.lv, l)
		if more, ok = s.more(']'); !ok {
			return false
		}
	}
	return true
}

// emitBook packs p.lv into slots of LevelsPerEvent levels, bids first;
// the same loop as parseBook's.
func (p *Parser) emitBook(sink Sink, ti *TopicInfo, id uint32, u int64, h *header, r *Result) error {
	nb, total := p.nb, len(p.lv)
	for i := 0; ; {
		ev, err := next(sink)
		if err != nil {
			return err
		}
		setHeader(ev, KindBook, id, h)
		ev.Depth = ti.Depth
		ev.U = u
		if i == 0 {
			ev.Flags |= First
		}
		n := min(LevelsPerEvent, total-i)
		copy(ev.Levels[:n], p.lv[i:i+n])
		b := min(max(nb-i, 0), n)
		ev.NBids, ev.NAsks = uint16(b), uint16(n-b)
		i += n
		r.Events++
		if i == total {
			ev.Flags |= Last
			return nil
		}
	}
}

// fastKlines reads a kline data array into p.cand.
func (p *Parser) fastKlines(s *scan, id uint32) bool {
	empty, ok := s.open('[', ']')
	if !ok {
		return false
	}
	ps, ss := p.syms.Scales(id)
	p.cand = p.cand[:0]
	for n, more := 0, !empty; more; n++ {
		if n == p.maxItems {
			return false
		}
		p.cand = append(p.cand, Candle{})
		if !fastCandle(s, &p.cand[n], ps, ss) {
			return false
		}
		if more, ok = s.more(']'); !ok {
			return false
		}
	}
	return true
}

// fastCandle reads one candle object, member by member in order as the
// fastjson path's Visit does (of a repeated member, the last counts).
func fastCandle(s *scan, c *Candle, ps, ss int) bool {
	var seen uint16
	return s.object(false, func(k []byte) (ok bool) {
		switch string(k) {
		case "start":
			seen |= 1 << 0
			c.Start, ok = s.uint()
		case "end":
			seen |= 1 << 1
			c.End, ok = s.uint()
		case "open":
			seen |= 1 << 2
			c.Open, ok = s.dec(ps)
		case "close":
			seen |= 1 << 3
			c.Close, ok = s.dec(ps)
		case "high":
			seen |= 1 << 4
			c.High, ok = s.dec(ps)
		case "low":
			seen |= 1 << 5
			c.Low, ok = s.dec(ps)
		case "volume":
			seen |= 1 << 6
			c.Volume, ok = s.dec(ss)
		case "turnover":
			seen |= 1 << 7
			c.Turnover, ok = s.dec(ValueScale)
		case "confirm":
			seen |= 1 << 8
			c.Confirm, ok = s.bool()
		case "timestamp":
			c.Timestamp, ok = s.uint()
		default:
			ok = s.skip(1)
		}
		return ok
	}) && seen == candleRequired
}

// emitKlines writes one slot per candle, as parseKline does.
func (p *Parser) emitKlines(sink Sink, ti *TopicInfo, id uint32, h *header, r *Result) error {
	for i := range p.cand {
		ev, err := next(sink)
		if err != nil {
			return err
		}
		setHeader(ev, KindKline, id, h)
		ev.Interval = ti.Interval
		if i == 0 {
			ev.Flags |= First
		}
		if i == len(p.cand)-1 {
			ev.Flags |= Last
		}
		ev.Candle = p.cand[i]
		r.Events++
	}
	return nil
}

// fastTickers reads a ticker's data, one object or (some spot and option
// frames) an array of them, into p.tick.
func (p *Parser) fastTickers(s *scan, ti *TopicInfo, id uint32) (isArray, ok bool) {
	ps, ss := p.syms.Scales(id)
	p.tick = p.tick[:0]
	if s.ws(); s.i < len(s.b) && s.b[s.i] == '{' {
		p.tick = append(p.tick, Ticker{})
		return false, fastTicker(s, ti, &p.tick[0], ps, ss)
	}
	empty, ok := s.open('[', ']')
	if !ok {
		return true, false
	}
	for n, more := 0, !empty; more; n++ {
		if n == p.maxItems {
			return true, false
		}
		p.tick = append(p.tick, Ticker{})
		if !fastTicker(s, ti, &p.tick[n], ps, ss) {
			return true, false
		}
		if more, ok = s.more(']'); !ok {
			return true, false
		}
	}
	return true, true
}

// fastTicker reads one ticker object: each known member marks its field
// present (and empty when ""), member by member as tickerEvent's Visit.
func fastTicker(s *scan, ti *TopicInfo, t *Ticker, ps, ss int) bool {
	return s.object(true, func(k []byte) bool {
		if string(k) == "symbol" {
			v, ok := s.str()
			return ok && bytes.Equal(v, ti.Symbol)
		}
		f, known := tickerKey(k)
		if !known {
			return s.skip(1)
		}
		raw, ok := s.str()
		if !ok {
			return false
		}
		// Exactly tickerValue's effect, repeated members included.
		t.Present |= 1 << f
		if len(raw) == 0 {
			t.Empty |= 1 << f
			return true
		}
		n, err := tickerConvert(f, raw, ps, ss)
		if unfit(err) {
			t.Present &^= 1 << f
			t.Unfit |= 1 << f
			return true
		}
		t.Values[f] = n
		return err == nil
	})
}

// emitTickers writes one slot per ticker object, as parseTicker does.
func (p *Parser) emitTickers(sink Sink, id uint32, isArray bool, h *header, r *Result) error {
	for i := range p.tick {
		ev, err := next(sink)
		if err != nil {
			return err
		}
		setHeader(ev, KindTicker, id, h)
		if !isArray || i == 0 {
			ev.Flags |= First
		}
		if !isArray || i == len(p.tick)-1 {
			ev.Flags |= Last
		}
		ev.Ticker = p.tick[i]
		r.Events++
	}
	return nil
}

// fastTrades reads a trade data array into p.trd; trades of unregistered
// options are skipped and counted (the topic named a base coin).
func (p *Parser) fastTrades(s *scan, ti *TopicInfo, topicID uint32) bool {
	empty, ok := s.open('[', ']')
	if !ok {
		return false
	}
	p.trd, p.skipped = p.trd[:0], 0
	for n, more := 0, !empty; more; n++ {
		if n == p.maxItems {
			return false
		}
		var t fastTrade
		if !t.read(s) {
			return false
		}
		id := topicID
		switch {
		case topicID == NoSymbol:
			if !t.hasSym {
				return false
			}
			var ok bool
			if id, ok = p.syms.Lookup(t.sym); !ok {
				if !utf8.Valid(t.sym) {
					return false
				}
				p.skipped++
				if more, ok = s.more(']'); !ok {
					return false
				}
				continue
			}
		case t.hasSym && !bytes.Equal(t.sym, ti.Symbol):
			return false
		}
		side, err := t.sideID()
		if err != nil {
			return false
		}
		ps, ss := p.syms.Scales(id)
		price, err := parseDecimal(t.price, ps, false)
		if err != nil {
			return false
		}
		size, err := parseDecimal(t.size, ss, false)
		if err != nil {
			return false
		}
		p.addTrade(&t.tradeMembers, id, side, price, size)
		if more, ok = s.more(']'); !ok {
			return false
		}
	}
	return true
}

// emitTrades writes one slot per trade, as parseTrades does.
func (p *Parser) emitTrades(sink Sink, h *header, r *Result) error {
	for i := range p.trd {
		t := &p.trd[i]
		if i == 0 {
			r.Sym = t.id
		}
		ev, err := next(sink)
		if err != nil {
			r.Sym, r.Skipped = t.id, t.skipped
			return err
		}
		setHeader(ev, KindTrade, t.id, h)
		if i == 0 {
			ev.Flags |= First
		}
		if i == len(p.trd)-1 {
			ev.Flags |= Last
		}
		ev.Seq = t.seq
		ev.Trade = t.Trade
		r.Events++
	}
	r.Skipped = p.skipped
	return nil
}

// fastTrade holds one trade object's members (slices of the frame) until
// its symbol, and so its scales, is known.
type fastTrade struct {
	tradeMembers
	price, size []byte
	hasSym      bool
}

// read reads one trade object, member by member as rawTrade's Visit does.
func (t *fastTrade) read(s *scan) bool {
	var seen uint8
	return s.object(false, func(k []byte) (ok bool) {
		switch string(k) {
		case "T":
			seen |= 1 << 0
			t.t, ok = s.uint()
		case "S":
			seen |= 1 << 1
			t.side, ok = s.str()
		case "v":
			seen |= 1 << 2
			t.size, ok = s.str()
		case "p":
			seen |= 1 << 3
			t.price, ok = s.str()
		case "i":
			seen |= 1 << 4
			t.tid, ok = s.str()
		case "s":
			t.sym, ok = s.str()
			t.hasSym = true
		case "L":
			var b []byte
			b, ok = s.str()
			t.tick = parseTick(b)
		case "BT":
			t.bt, ok = s.bool()
		case "RPI":
			t.rpi, ok = s.bool()
		case "seq":
			t.seq, ok = s.uint()
		default:
			ok = s.skip(1)
		}
		return ok
	}) && seen == tradeRequired
}
