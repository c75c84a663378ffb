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

// Candle members, in the bit order of candle's seen mask.
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
		switch string(k) {
		case "start":
			seen |= 1 << 0
			c.Start, err = p.intValue(v, fKlineStart)
		case "end":
			seen |= 1 << 1
			c.End, err = p.intValue(v, fKlineEnd)
		case "open":
			seen |= 1 << 2
			c.Open, err = p.decValue(v, ps, false, fKlineOpen)
		case "close":
			seen |= 1 << 3
			c.Close, err = p.decValue(v, ps, false, fKlineClose)
		case "high":
			seen |= 1 << 4
			c.High, err = p.decValue(v, ps, false, fKlineHigh)
		case "low":
			seen |= 1 << 5
			c.Low, err = p.decValue(v, ps, false, fKlineLow)
		case "volume":
			seen |= 1 << 6
			c.Volume, err = p.decValue(v, ss, false, fKlineVolume)
		case "turnover":
			seen |= 1 << 7
			c.Turnover, err = p.decValue(v, ValueScale, false, fKlineTurnover)
		case "confirm":
			seen |= 1 << 8
			c.Confirm, err = boolValue(v, fKlineConfirm)
		case "timestamp":
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
