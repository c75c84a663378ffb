package parse

import (
	"bytes"
	"unicode/utf8"

	"github.com/valyala/fastjson"
)

// rawTrade collects one trade object's members before its symbol (and so
// its scales) is known, so a trade of an unregistered option is skipped
// without taking a slot.
type rawTrade struct {
	tradeMembers
	size, price *fastjson.Value
	seen        uint8
}

// tradeMembers are the trade members both paths read alike.
type tradeMembers struct {
	t, seq         int64
	sym, side, tid []byte
	tick           TickDirection
	bt, rpi        bool
}

// sideID checks a trade's side and id.
func (m *tradeMembers) sideID() (Side, error) {
	var side Side
	switch string(m.side) {
	case "Buy":
		side = Buy
	case "Sell":
		side = Sell
	default:
		return SideNone, fail(fTradeSide, ErrSyntax)
	}
	if len(m.tid) == 0 {
		return SideNone, fail(fTradeID, ErrEmpty)
	}
	if len(m.tid) > TradeIDMax {
		return SideNone, fail(fTradeID, ErrRange)
	}
	return side, nil
}

// addTrade appends a checked, converted trade to p.trd.
func (p *Parser) addTrade(m *tradeMembers, id uint32, side Side, price, size int64) {
	p.trd = append(p.trd, tradeScratch{id: id, seq: m.seq, skipped: p.skipped})
	t := &p.trd[len(p.trd)-1].Trade
	t.Time = m.t
	t.Price = price
	t.Size = size
	t.Side = side
	t.Tick = m.tick
	t.BlockTrade = m.bt
	t.RPI = m.rpi
	t.IDLen = uint8(copy(t.IDBuf[:], m.tid))
}

// Required trade members, in the bit order of rawTrade.seen (tradeKey's
// first fields).
var tradeFields = [...]field{fTradeT, fTradeSide, fTradeSize, fTradePrice, fTradeID}

const tradeRequired = 1<<len(tradeFields) - 1

// parseTrades handles publicTrade.{symbol}: one event per trade. On
// option sockets the topic names a base coin ("publicTrade.BTC") and each
// trade's "s" names the option: such trades are looked up one by one, and
// those of unregistered symbols are skipped and counted in Result.Skipped.
func (p *Parser) parseTrades(o *fastjson.Object, ti *TopicInfo, h *header, sink Sink, r *Result) error {
	topicID, topicOK := p.syms.Lookup(ti.Symbol)
	if topicOK {
		r.Sym = topicID
	}
	var err error
	if h.flags, err = typeFlags(o, false); err != nil {
		return err
	}
	arr, err := dataArray(o, p.maxItems)
	if err != nil {
		return err
	}
	p.trd, p.skipped = p.trd[:0], 0
	var rt rawTrade
	for _, tv := range arr {
		if tv.Type() != fastjson.TypeObject {
			return fail(fData, ErrType)
		}
		to, _ := tv.Object()
		if err := p.rawTrade(to, &rt); err != nil {
			return err
		}
		id := topicID
		switch {
		case !topicOK:
			if rt.sym == nil {
				return fail(fTradeSym, ErrMissing)
			}
			var ok bool
			if id, ok = p.syms.Lookup(rt.sym); !ok {
				if !utf8.Valid(rt.sym) {
					return fail(fTradeSym, ErrUTF8)
				}
				p.skipped++
				continue
			}
		case rt.sym != nil && !bytes.Equal(rt.sym, ti.Symbol):
			if !utf8.Valid(rt.sym) {
				return fail(fTradeSym, ErrUTF8)
			}
			return fail(fTradeSym, ErrMismatch)
		}
		side, err := rt.sideID()
		if err != nil {
			return err
		}
		ps, ss := p.syms.Scales(id)
		price, err := p.decValue(rt.price, ps, false, fTradePrice)
		if err != nil {
			return err
		}
		size, err := p.decValue(rt.size, ss, false, fTradeSize)
		if err != nil {
			return err
		}
		p.addTrade(&rt.tradeMembers, id, side, price, size)
	}
	if len(p.trd) == 0 && p.skipped > 0 {
		return fail(fTradeSym, ErrUnknownSymbol)
	}
	return p.emitTrades(sink, h, r)
}

// rawTrade reads one trade object; unknown members (option mP, iP, mIv,
// iv, future additions) are ignored.
func (p *Parser) rawTrade(o *fastjson.Object, rt *rawTrade) error {
	*rt = rawTrade{}
	var err error
	o.Visit(func(k []byte, v *fastjson.Value) {
		if err != nil || len(k) == 0 {
			return
		}
		f := tradeKey(k)
		if f >= 0 && f < int8(len(tradeFields)) {
			rt.seen |= 1 << f
		}
		switch f {
		case trT:
			rt.t, err = p.intValue(v, fTradeT)
		case trS:
			rt.side, err = strValue(v, fTradeSide)
		case trV:
			rt.size = v
		case trP:
			rt.price = v
		case trI:
			rt.tid, err = strValue(v, fTradeID)
		case trSym:
			rt.sym, err = strValue(v, fTradeSym)
			if err == nil && rt.sym == nil {
				rt.sym = []byte{} // present but empty: distinct from absent
			}
		case trL:
			var b []byte
			if b, err = strValue(v, fTradeTick); err == nil {
				rt.tick = parseTick(b)
			}
		case trBT:
			rt.bt, err = boolValue(v, fTradeBT)
		case trRPI:
			rt.rpi, err = boolValue(v, fTradeRPI)
		case trSeq:
			rt.seq, err = p.intValue(v, fTradeSeq)
		}
	})
	if err != nil {
		return err
	}
	if rt.seen != tradeRequired {
		for i, f := range tradeFields {
			if rt.seen&(1<<i) == 0 {
				return fail(f, ErrMissing)
			}
		}
	}
	return nil
}
