package parse

import "github.com/valyala/fastjson"

// parseKline handles kline.{interval}.{symbol}: one event per candle in
// data, in order.
func (p *Parser) parseKline(o *fastjson.Object, ti *TopicInfo, h *header, sink Sink, r *Result) error {
	id, err := p.lookup(ti.Symbol, fTopic)
	if err != nil {
		return err
	}
	r.Sym = id
	if h.flags, err = typeFlags(o, false); err != nil {
		return err
	}
	arr, err := dataArray(o, p.maxItems)
	if err != nil {
		return err
	}
	ps, ss := p.syms.Scales(id)
	p.cand = p.cand[:0]
	for i, cv := range arr {
		if cv.Type() != fastjson.TypeObject {
			return fail(fData, ErrType)
		}
		p.cand = append(p.cand, Candle{})
		co, _ := cv.Object()
		if err := p.candle(co, &p.cand[i], ps, ss); err != nil {
			return err
		}
	}
	return p.emitKlines(sink, ti, id, h, r)
}

// Candle members, in the bit order of candle's seen mask (candleKey's
// first fields).
var candleFields = [...]field{
	fKlineStart, fKlineEnd, fKlineOpen, fKlineClose, fKlineHigh, fKlineLow,
	fKlineVolume, fKlineTurnover, fKlineConfirm,
}

const candleRequired = 1<<len(candleFields) - 1

func (p *Parser) candle(o *fastjson.Object, c *Candle, ps, ss int) error {
	var err error
	var seen uint16
	o.Visit(func(k []byte, v *fastjson.Value) {
		if err != nil {
			return
		}
		f := candleKey(k)
		if f >= 0 && f <= cnConfirm {
			seen |= 1 << f
		}
		switch f {
		case cnStart:
			c.Start, err = p.intValue(v, fKlineStart)
		case cnEnd:
			c.End, err = p.intValue(v, fKlineEnd)
		case cnOpen:
			c.Open, err = p.decValue(v, ps, false, fKlineOpen)
		case cnClose:
			c.Close, err = p.decValue(v, ps, false, fKlineClose)
		case cnHigh:
			c.High, err = p.decValue(v, ps, false, fKlineHigh)
		case cnLow:
			c.Low, err = p.decValue(v, ps, false, fKlineLow)
		case cnVolume:
			c.Volume, err = p.decValue(v, ss, false, fKlineVolume)
		case cnTurnover:
			c.Turnover, err = p.decValue(v, ValueScale, false, fKlineTurnover)
		case cnConfirm:
			c.Confirm, err = boolValue(v, fKlineConfirm)
		case cnTimestamp:
			c.Timestamp, err = p.intValue(v, fKlineTimestamp)
		}
	})
	if err != nil {
		return err
	}
	if seen != candleRequired {
		for i, f := range candleFields {
			if seen&(1<<i) == 0 {
				return fail(f, ErrMissing)
			}
		}
	}
	return nil
}
