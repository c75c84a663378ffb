package book

import "testing"

// FuzzBook decodes a stream of book calls from the fuzz input and checks the
// Book against the reference model at every message boundary. Prices come
// from one small range for both sides, so crossings, replaces and deletes
// of absent levels are frequent; the first byte picks a small depth cap,
// the gap policy and a small B-tree degree so splits and merges happen.
func FuzzBook(f *testing.F) {
	f.Add([]byte{0x00})
	// snapshot 1 bid 1 ask, delta u+1 replacing, End
	f.Add([]byte{0x09, 0, 1, 5, 10, 3, 5, 0x80 | 20, 4, 10, 2, 1, 5, 10, 9, 10})
	// cap 3, degree 2: snapshot then many inserts, gap, resync
	f.Add([]byte{0x01, 0, 1, 5, 1, 1, 5, 3, 2, 5, 5, 2, 5, 7, 2, 5, 9, 2, 5, 0x80 | 40, 1, 10, 2, 1, 5, 2, 0, 5, 4, 0, 10, 2, 9, 5, 1, 1, 10, 12, 2, 13, 0, 2})
	// split snapshot interrupted by a delta, then u == 1
	f.Add([]byte{0x04, 0, 1, 5, 1, 1, 2, 1, 5, 2, 1, 10, 2, 0, 0, 5, 0x80 | 1, 1, 10})
	f.Fuzz(fuzzOne)
}

func fuzzOne(t *testing.T, data []byte) {
	{
		if len(data) == 0 {
			return
		}
		cfg := Config{
			Depth:  []int{0, 1, 3, 8}[data[0]&3],
			Policy: GapPolicy(data[0] >> 2 & 1),
			Degree: []int{2, 3, 4, DefaultDegree}[data[0]>>3&3],
			// A small free list keeps New cheap (it prewarms for the hint);
			// the fuzzer's inputs hold a few dozen levels at most.
			SizeHint: 8,
		}
		h := newHarness(t, cfg)
		d := fuzzDecoder{data: data[1:]}
		var u, seq int64 = 100, 1000
		for ops := 0; ops < 2000 && d.more(); ops++ {
			code := d.byte() % 14
			switch {
			case code < 2, code < 5: // BeginSnapshot (0-1), BeginDelta (2-4)
				step := int64(d.byte())
				switch {
				case step == 0:
					u = 1
				case step < 200:
					u += step % 4 // 0 repeats, 1 steps, 2-3 skip
				default:
					u -= step % 4 // rewind
				}
				seq += int64(d.byte()) - 8
				hd := Header{U: u, Seq: seq, TS: u * 10, CTS: u*10 - 1}
				if code < 2 {
					h.do(op{kind: opBeginSnapshot, h: hd})
				} else {
					h.do(op{kind: opBeginDelta, h: hd})
				}
			case code < 9:
				h.do(op{kind: opSet, side: Side(code & 1), levels: []Level{d.level()}})
			case code == 9:
				n := int(d.byte() % 6)
				lv := make([]Level, 0, n)
				for range n {
					lv = append(lv, d.level())
				}
				h.do(op{kind: opSetLevels, side: Side(n & 1), levels: lv})
			case code < 12:
				h.do(op{kind: opEnd})
			case code == 12:
				h.do(op{kind: opMarkStale, reason: ReasonDropped + Reason(d.byte()%3)})
			default:
				h.do(op{kind: opReset})
			}
		}
		h.do(op{kind: opEnd})
	}
}

type fuzzDecoder struct {
	data []byte
}

func (d *fuzzDecoder) more() bool { return len(d.data) > 0 }

func (d *fuzzDecoder) byte() byte {
	if len(d.data) == 0 {
		return 0
	}
	b := d.data[0]
	d.data = d.data[1:]
	return b
}

// level decodes a price in 0..31 and a size: 0 deletes, high bit set is
// a negative size (rarely), anything else positive.
func (d *fuzzDecoder) level() Level {
	p := int64(d.byte() & 31)
	s := d.byte()
	switch {
	case s == 0xff:
		return Level{p, -1}
	case s&0x80 != 0:
		return Level{p, int64(s & 0x7f)}
	}
	return Level{p, int64(s % 4)}
}
