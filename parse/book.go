package parse

import "github.com/valyala/fastjson"

// parseBook handles orderbook.{depth}.{symbol}. Bids then asks are packed
// into consecutive events of LevelsPerEvent levels (emitBook), so a
// snapshot of any size fits fixed slots; an empty snapshot is one event
// with no levels.
func (p *Parser) parseBook(o *fastjson.Object, ti *TopicInfo, h *header, sink Sink, r *Result) error {
	id, dv, err := p.preamble(o, ti, r, &h.flags, "cts", fCTS, &h.cts)
	if err != nil {
		return err
	}
	if dv.Type() != fastjson.TypeObject {
		return fail(fData, ErrType)
	}
	d, _ := dv.Object()
	if sv := d.Get("s"); sv != nil {
		if err := checkSym(sv, ti.Symbol, fBookS); err != nil {
			return err
		}
	}
	u, err := p.intField(d, "u", fBookU, true)
	if err != nil {
		return err
	}
	// seq is absent in 2023 option frames.
	if h.seq, err = p.intField(d, "seq", fBookSeq, false); err != nil {
		return err
	}
	bids, err := p.side(d, "b", fBookB)
	if err != nil {
		return err
	}
	asks, err := p.side(d, "a", fBookA)
	if err != nil {
		return err
	}
	ps, ss := p.syms.Scales(id)
	p.lv = p.lv[:0]
	for _, side := range [2]struct {
		vs []*fastjson.Value
		f  field
	}{{bids, fBookB}, {asks, fBookA}} {
		for _, v := range side.vs {
			var l Level
			if err := p.level(v, &l, ps, ss, side.f); err != nil {
				return err
			}
			p.lv = append(p.lv, l)
		}
	}
	p.nb = len(bids)
	return p.emitBook(sink, ti, id, u, h, r)
}

// side returns d[key] as an array of at most maxLevels entries.
func (p *Parser) side(d *fastjson.Object, key string, f field) ([]*fastjson.Value, error) {
	v := d.Get(key)
	if v == nil {
		return nil, fail(f, ErrMissing)
	}
	if v.Type() != fastjson.TypeArray {
		return nil, fail(f, ErrType)
	}
	a, _ := v.Array()
	if len(a) > p.maxLevels {
		return nil, fail(f, ErrTooMany)
	}
	return a, nil
}

// level converts one ["price","size"] pair; extra elements are ignored.
func (p *Parser) level(v *fastjson.Value, l *Level, ps, ss int, f field) error {
	if v.Type() != fastjson.TypeArray {
		return fail(f, ErrType)
	}
	a, _ := v.Array()
	if len(a) < 2 {
		return fail(f, ErrMissing)
	}
	var err error
	if l.Price, err = p.decValue(a[0], ps, false, f); err != nil {
		return err
	}
	l.Size, err = p.decValue(a[1], ss, false, f)
	return err
}
