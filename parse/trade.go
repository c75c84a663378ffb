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
	t, seq         int64
	sym, side, tid []byte
	size, price    *fastjson.Value
	tick           TickDirection
	bt, rpi        bool
	seen           uint8
}

// Required trade members, in the bit order of rawTrade.seen.
var tradeFields = [...]field{fTradeT, fTradeSide, fTradeSize, fTradePrice, fTradeID}

const tradeRequired = 1<<len(tradeFields) - 1

// parseTrades handles publicTrade.{symbol}: one event per trade. On
// option sockets the topic names a base coin ("publicTrade.BTC") and each
// trade's "s" names the option: such trades are looked up one by one, and
// those of unregistered symbols are skipped and counted in Result.Skipped.
func (p *Parser) parseTrades(o *fastjson.Object, ti *TopicInfo, h *header, sink Sink, r *Result) error {
	topicID, topicOK := p.syms.Lookup(ti.Symbol)
	var err error
	if h.flags, err = typeFlags(o, false); err != nil {
		return err
	}
	arr, err := dataArray(o, p.maxItems)
	if err != nil {
		return err
	}
	var last *Event
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
				r.Skipped++
				continue
			}
		case rt.sym != nil && !bytes.Equal(rt.sym, ti.Symbol):
			if !utf8.Valid(rt.sym) {
				return fail(fTradeSym, ErrUTF8)
			}
			return fail(fTradeSym, ErrMismatch)
		}
		var side Side
		switch string(rt.side) {
		case "Buy":
			side = Buy
		case "Sell":
			side = Sell
		default:
			return fail(fTradeSide, ErrSyntax)
		}
		if len(rt.tid) == 0 {
			return fail(fTradeID, ErrEmpty)
		}
		if len(rt.tid) > TradeIDMax {
			return fail(fTradeID, ErrRange)
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
		if last == nil {
			r.Sym = id
		}
		ev, err := next(sink)
		if err != nil {
			r.Sym = id
			return err
		}
		setHeader(ev, KindTrade, id, h)
		if last == nil {
			ev.Flags |= First
		}
		ev.Seq = rt.seq
		t := &ev.Trade
		t.Time = rt.t
		t.Price = price
		t.Size = size
		t.Side = side
		t.Tick = rt.tick
		t.BlockTrade = rt.bt
		t.RPI = rt.rpi
		t.IDBuf = [TradeIDMax]byte{} // so Trade values compare equal with ==
		t.IDLen = uint8(copy(t.IDBuf[:], rt.tid))
		last = ev
		r.Events++
	}
	if last != nil {
		last.Flags |= Last
	} else if r.Skipped > 0 {
		return fail(fTradeSym, ErrUnknownSymbol)
	}
	return nil
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
		switch string(k) {
		case "T":
			rt.seen |= 1 << 0
			rt.t, err = p.intValue(v, fTradeT)
		case "S":
			rt.seen |= 1 << 1
			rt.side, err = strValue(v, fTradeSide)
		case "v":
			rt.seen |= 1 << 2
			rt.size = v
		case "p":
			rt.seen |= 1 << 3
			rt.price = v
		case "i":
			rt.seen |= 1 << 4
			rt.tid, err = strValue(v, fTradeID)
		case "s":
			rt.sym, err = strValue(v, fTradeSym)
			if err == nil && rt.sym == nil {
				rt.sym = []byte{} // present but empty: distinct from absent
			}
		case "L":
			var b []byte
			if b, err = strValue(v, fTradeTick); err == nil {
				rt.tick = parseTick(b)
			}
		case "BT":
			rt.bt, err = boolValue(v, fTradeBT)
		case "RPI":
			rt.rpi, err = boolValue(v, fTradeRPI)
		case "seq":
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
