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

// The member loops. Each object reader (fastEnvelope, fastBook,
// fastCandle, fastTicker, fastTrade.read) has the same loop: find the
// key, switch on it writing straight into its own target, mark the
// member seen, step past the comma. The loop is written out in each on
// purpose: sharing it would take a callback per member, an indirect call
// the compiler does not inline, on every member of every frame of the
// hot path; what the readers share (key lookup, scan.more, scan.skip)
// is already in one place.

// Envelope members seen, as bits of the env* fields (keys.go). fastjson's
// Get returns the first of duplicate keys; rather than mimic that, the
// single-pass path gives up on them.
const (
	seenTopic = 1 << envTopic
	seenType  = 1 << envType
	seenTS    = 1 << envTS
	seenData  = 1 << envData
)

// tradeScratch is one trade read by the single-pass path.
type tradeScratch struct {
	Trade
	id      uint32
	seq     int64
	skipped int // option trades skipped before this one
}

// envelope is what fastEnvelope reads of a data frame's outer object.
type envelope struct {
	ti      TopicInfo
	h       header
	seen    uint8 // seen* bits
	id      uint32
	cts, cs []byte // raw numbers: only books read cts, only tickers cs
	u, seq  int64  // a book's update id and sequence
	isArray bool   // a ticker's data is an array
}

// fastParse is the single-pass path, writing the Result into r (zero on
// entry). ok false means "use the fastjson path"; no slot has been taken
// then, and r may hold fields set before it gave up. With ok true, err is nil or, when
// the sink ran out of slots, the ErrNoRoom the fastjson path would return
// for the same frame, with the same Result.
func (p *Parser) fastParse(frame []byte, recvNs int64, sink Sink, r *Result) (ok bool, err error) {
	r.Sym = NoSymbol
	var e envelope
	e.h.recvNs = recvNs
	if !p.fastEnvelope(frame, &e) {
		return false, nil
	}
	r.Class, r.Kind, r.Depth, r.Interval = ClassData, e.ti.Kind, e.ti.Depth, e.ti.Interval
	switch e.ti.Kind {
	case KindBook:
		if e.seen&seenType == 0 {
			return false, nil
		}
		if e.cts != nil {
			if e.h.cts, err = parseUint(e.cts); err != nil {
				return false, nil
			}
		}
		e.h.seq = e.seq
		r.Sym = e.id
		err = p.emitBook(sink, &e.ti, e.id, e.u, &e.h, r)
		return true, err
	case KindKline:
		r.Sym = e.id
		err = p.emitKlines(sink, &e.ti, e.id, &e.h, r)
		return true, err
	case KindTicker:
		if e.seen&seenType == 0 {
			return false, nil
		}
		if e.cs != nil {
			if e.h.seq, err = parseUint(e.cs); err != nil {
				return false, nil
			}
		}
		r.Sym = e.id
		err = p.emitTickers(sink, e.id, e.isArray, &e.h, r)
		return true, err
	default:
		if len(p.trd) == 0 && p.skipped > 0 {
			return false, nil // no trade of a registered symbol: an error
		}
		r.Sym = e.id // NoSymbol for an option base coin
		err = p.emitTrades(sink, &e.h, r)
		return true, err
	}
}

// fastEnvelope reads the outer object: topic, type, ts, cts, cs, and the
// data (into the Parser's scratch, by kind). false means "use the
// fastjson path".
func (p *Parser) fastEnvelope(frame []byte, e *envelope) bool {
	s := scan{b: frame}
	if empty, ok := s.open('{', '}'); !ok || empty {
		return false
	}
	// Keys are predicted from the last frame; once the topic names the
	// kind, from the last frame of that kind.
	order, pos := &p.envOrder[KindNone], 0
	for more := true; more; { // a member loop, written out on purpose (top of file)
		f, ok := order.key(&s, &pos, envKey)
		if !ok {
			return false
		}
		switch f {
		case envTopic:
			t, ok := s.str()
			if !ok || e.seen&seenTopic != 0 || e.ti.parse(t) != nil {
				return false
			}
			if e.id, ok = p.symbol(e.ti.Symbol); !ok {
				if e.ti.Kind != KindTrade {
					return false
				}
				e.id = NoSymbol // an option base coin: each trade names its symbol
			}
			order, pos = &p.envOrder[e.ti.Kind], 0
		case envType:
			t, ok := s.str()
			if !ok {
				return false
			}
			switch string(t) {
			case "snapshot":
				e.h.flags = Snapshot
			case "delta":
			default:
				return false
			}
		case envTS:
			if e.h.ts, ok = s.uint(); !ok {
				return false
			}
		case envCTS:
			if e.cts, ok = s.raw(); !ok {
				return false
			}
		case envCS:
			if e.cs, ok = s.raw(); !ok {
				return false
			}
		case envData:
			if e.seen&seenTopic == 0 || !p.fastData(&s, e) {
				return false
			}
		default:
			if !s.skip(0) {
				return false
			}
		}
		if f >= 0 {
			bit := uint8(1) << f
			if e.seen&bit != 0 && f != envTopic {
				return false
			}
			e.seen |= bit
		}
		if more, ok = s.more('}'); !ok {
			return false
		}
	}
	s.ws()
	return s.i == len(s.b) && e.seen&(seenData|seenTS) == seenData|seenTS
}

// symbol is p.syms.Lookup with a small direct-mapped memo in front: a
// feed names the same few symbols over and over, and the map lookup
// (hashing the name) was ~5 % of a frame's parse in the CPU profile of
// BenchmarkReplay/replay-8/parse. A slot holds an id whose registered
// name is compared with the topic's, so a collision only costs the map
// lookup; ids never change once registered.
func (p *Parser) symbol(name []byte) (uint32, bool) {
	if len(name) == 0 {
		return p.syms.Lookup(name)
	}
	h := (uint(len(name))*37 + uint(name[0])*7 + uint(name[len(name)/2])*31 + uint(name[len(name)-1])) % uint(len(p.symMemo))
	if c := p.symMemo[h]; c != 0 && string(name) == p.syms.names[c-1] {
		return c - 1, true
	}
	id, ok := p.syms.Lookup(name)
	if ok {
		p.symMemo[h] = id + 1
	}
	return id, ok
}

// fastData reads the data member of the topic's kind.
func (p *Parser) fastData(s *scan, e *envelope) (ok bool) {
	switch e.ti.Kind {
	case KindBook:
		e.u, e.seq, ok = p.fastBook(s, &e.ti, e.id)
	case KindKline:
		ok = p.fastKlines(s, e.id)
	case KindTicker:
		e.isArray, ok = p.fastTickers(s, &e.ti, e.id)
	case KindTrade:
		ok = p.fastTrades(s, &e.ti, e.id)
	}
	return ok
}

// fastBook reads a book's data object: its levels into p.lv (bids, then
// asks from p.nb on).
func (p *Parser) fastBook(s *scan, ti *TopicInfo, id uint32) (u, seq int64, ok bool) {
	if empty, ok := s.open('{', '}'); !ok || empty {
		return 0, 0, false
	}
	ps, ss := p.syms.Scales(id)
	p.lv = p.lv[:0]
	var seen uint8
	pos := 0
	for more := true; more; { // a member loop, written out on purpose (top of file)
		f, ok := p.bookOrder.key(s, &pos, bookKey)
		if !ok {
			return 0, 0, false
		}
		switch f {
		case bkS:
			v, ok1 := s.str()
			ok = ok1 && bytes.Equal(v, ti.Symbol)
		case bkB:
			ok = seen&(1<<bkA) == 0 && p.fastSide(s, ps, ss)
			p.nb = len(p.lv)
		case bkA:
			ok = p.fastSide(s, ps, ss)
		case bkU:
			u, ok = s.uint()
		case bkSeq:
			seq, ok = s.uint()
		default:
			ok = s.skip(1)
		}
		if !ok {
			return 0, 0, false
		}
		if f >= 0 {
			if seen&(1<<f) != 0 {
				return 0, 0, false
			}
			seen |= 1 << f
		}
		if more, ok = s.more('}'); !ok {
			return 0, 0, false
		}
	}
	const need = 1<<bkB | 1<<bkA | 1<<bkU
	return u, seq, seen&need == need
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
		if !p.fastCandle(s, &p.cand[n], ps, ss) {
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
func (p *Parser) fastCandle(s *scan, c *Candle, ps, ss int) bool {
	if empty, ok := s.open('{', '}'); !ok || empty {
		return false
	}
	var seen uint16
	pos := 0
	for more := true; more; { // a member loop, written out on purpose (top of file)
		f, ok := p.candleOrder.key(s, &pos, candleKey)
		if !ok {
			return false
		}
		switch f {
		case cnStart:
			c.Start, ok = s.uint()
		case cnEnd:
			c.End, ok = s.uint()
		case cnOpen:
			c.Open, ok = s.dec(ps)
		case cnClose:
			c.Close, ok = s.dec(ps)
		case cnHigh:
			c.High, ok = s.dec(ps)
		case cnLow:
			c.Low, ok = s.dec(ps)
		case cnVolume:
			c.Volume, ok = s.dec(ss)
		case cnTurnover:
			c.Turnover, ok = s.dec(ValueScale)
		case cnConfirm:
			c.Confirm, ok = s.bool()
		case cnTimestamp:
			c.Timestamp, ok = s.uint()
		default:
			ok = s.skip(1)
		}
		if !ok {
			return false
		}
		if f >= 0 && f <= cnConfirm {
			seen |= 1 << f
		}
		if more, ok = s.more('}'); !ok {
			return false
		}
	}
	return seen == candleRequired
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
		return false, p.fastTicker(s, ti, &p.tick[0], ps, ss)
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
		if !p.fastTicker(s, ti, &p.tick[n], ps, ss) {
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
func (p *Parser) fastTicker(s *scan, ti *TopicInfo, t *Ticker, ps, ss int) bool {
	empty, ok := s.open('{', '}')
	if !ok || empty {
		return ok
	}
	pos := 0
	for more := true; more; { // a member loop, written out on purpose (top of file)
		k, ok := p.tickOrder.key(s, &pos, tickerResolve)
		if !ok || !fastTickerMember(s, ti, t, k, ps, ss) {
			return false
		}
		if more, ok = s.more('}'); !ok {
			return false
		}
	}
	return true
}

// fastTickerMember reads the value of the member with key k
// (tickerResolve's numbering).
func fastTickerMember(s *scan, ti *TopicInfo, t *Ticker, k int8, ps, ss int) bool {
	if k == tickSymbol {
		v, ok := s.str()
		return ok && bytes.Equal(v, ti.Symbol)
	}
	if k < 0 {
		return s.skip(1)
	}
	f := TickerField(k)
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
	// A topic naming a symbol gives the scales before the trades are
	// read, so their prices and sizes are converted where they lie; an
	// option batch's trades name their own symbols, read first.
	var ps, ss int
	known := topicID != NoSymbol
	if known {
		ps, ss = p.syms.Scales(topicID)
	}
	for n, more := 0, !empty; more; n++ {
		if n == p.maxItems {
			return false
		}
		var t fastTrade
		if !t.read(s, &p.trdOrder, known, ps, ss) {
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
		price, size := t.priceN, t.sizeN
		if !known {
			ps, ss := p.syms.Scales(id)
			if price, err = parseDecimal(t.price, ps, false); err != nil {
				return false
			}
			if size, err = parseDecimal(t.size, ss, false); err != nil {
				return false
			}
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
	price, size   []byte // when the scales are not known yet
	priceN, sizeN int64  // when they are: converted as read
	hasSym        bool
}

// read reads one trade object, member by member as rawTrade's Visit does.
// With known, price and size are converted at scales ps and ss as they
// are read (decAt refuses what parseDecimal would); else kept as text.
func (t *fastTrade) read(s *scan, order *keyOrder, known bool, ps, ss int) bool {
	if empty, ok := s.open('{', '}'); !ok || empty {
		return false
	}
	var seen uint8
	pos := 0
	for more := true; more; { // a member loop, written out on purpose (top of file)
		f, ok := order.key(s, &pos, tradeKey)
		if !ok {
			return false
		}
		switch f {
		case trT:
			t.t, ok = s.uint()
		case trS:
			t.side, ok = s.str()
		case trV:
			if known {
				t.sizeN, ok = s.dec(ss)
			} else {
				t.size, ok = s.str()
			}
		case trP:
			if known {
				t.priceN, ok = s.dec(ps)
			} else {
				t.price, ok = s.str()
			}
		case trI:
			t.tid, ok = s.str()
		case trSym:
			t.sym, ok = s.str()
			t.hasSym = true
		case trL:
			var b []byte
			b, ok = s.str()
			t.tick = parseTick(b)
		case trBT:
			t.bt, ok = s.bool()
		case trRPI:
			t.rpi, ok = s.bool()
		case trSeq:
			t.seq, ok = s.uint()
		default:
			ok = s.skip(1)
		}
		if !ok {
			return false
		}
		if f >= 0 && f < int8(len(tradeFields)) {
			seen |= 1 << f
		}
		if more, ok = s.more('}'); !ok {
			return false
		}
	}
	return seen == tradeRequired
}
