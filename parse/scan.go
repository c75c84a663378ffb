package parse

import (
	"encoding/binary"
	"math"
	"math/bits"
)

// scan is a cursor over one frame for the single-pass path (fast.go). It
// understands strict JSON without escapes, a subset of what fastjson
// accepts: every method reports false on anything else (a backslash, a
// lenient number, nesting deeper than maxSkipDepth, the end of the input),
// and the caller then hands the frame to the fastjson path, which accepts
// or rejects it and names the error. So the scanner never has to name an
// error, and never accepts a frame fastjson would refuse.
type scan struct {
	b []byte
	i int
}

// maxSkipDepth bounds the nesting of values skipped as unknown; deeper
// values go to the fastjson path (whose own limit is 300).
const maxSkipDepth = 32

// ws skips JSON whitespace (the four bytes fastjson's skipWS skips).
func (s *scan) ws() {
	for s.i < len(s.b) {
		c := s.b[s.i]
		if c > ' ' || (c != ' ' && c != '\n' && c != '\t' && c != '\r') {
			return
		}
		s.i++
	}
}

// byte1 consumes c after optional whitespace.
func (s *scan) byte1(c byte) bool {
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// next returns the byte after optional whitespace and consumes it; 0 at
// the end of the input.
func (s *scan) next() byte {
	s.ws()
	if s.i < len(s.b) {
		c := s.b[s.i]
		s.i++
		return c
	}
	return 0
}

// str reads a string value: its raw bytes, a slice of the frame. A
// backslash anywhere is refused, so the raw bytes are the string.
func (s *scan) str() ([]byte, bool) {
	if !s.byte1('"') {
		return nil, false
	}
	return s.rest()
}

// rest reads the remainder of a string whose opening quote is consumed.
func (s *scan) rest() ([]byte, bool) {
	b := s.b
	j := s.i
	// Eight bytes at a time: the lowest byte that is '"' or '\\' is the
	// lowest zero byte of the word XORed with each (the classic has-zero
	// test; bytes above the first zero may be flagged falsely, not below).
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	for ; j+8 <= len(b); j += 8 {
		w := binary.LittleEndian.Uint64(b[j:])
		q, e := w^('"'*lo), w^('\\'*lo)
		if m := ((q-lo)&^q | (e-lo)&^e) & hi; m != 0 {
			j += bits.TrailingZeros64(m) / 8
			break
		}
	}
	for ; j < len(b); j++ {
		switch b[j] {
		case '"':
			v := b[s.i:j:j]
			s.i = j + 1
			return v, true
		case '\\':
			return nil, false
		}
	}
	return nil, false
}

// key reads an object key and the colon after it.
func (s *scan) key() ([]byte, bool) {
	k, ok := s.str()
	if !ok || !s.byte1(':') {
		return nil, false
	}
	return k, true
}

// more is called after an object member or array element: it consumes ','
// (true, more follow) or the closing byte end (false, done); ok is false
// on anything else.
func (s *scan) more(end byte) (more, ok bool) {
	switch s.next() {
	case ',':
		return true, true
	case end:
		return false, true
	}
	return false, false
}

// open consumes the opening byte of an object or array and reports whether
// it is empty (the closing byte follows, consumed too).
func (s *scan) open(c, end byte) (empty, ok bool) {
	if !s.byte1(c) {
		return false, false
	}
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == end {
		s.i++
		return true, true
	}
	return false, true
}

// uint reads an unsigned JSON integer with parseUint's rules (what the
// fastjson path applies to the same token).
// The digits are converted as they are found (one pass, not parseUint's
// second): at most 19 digits, no leading zero, at most MaxInt64.
func (s *scan) uint() (int64, bool) {
	s.ws()
	b, i := s.b, s.i
	var v uint64
	j := i
	// Eight digits at a time while there are eight (timestamps have 13,
	// sequences 12): a number longer than 19 digits is refused below
	// whatever v wrapped to.
	for j+8 <= len(b) {
		w := binary.LittleEndian.Uint64(b[j:])
		if !eightDigits(w) {
			break
		}
		v = v*100_000_000 + eightDigitsValue(w)
		j += 8
	}
	for ; j < len(b); j++ {
		d := b[j] - '0'
		if d > 9 {
			break
		}
		v = v*10 + uint64(d)
	}
	if n := j - i; n == 0 || n > 19 || (n > 1 && b[i] == '0') || v > math.MaxInt64 {
		return 0, false
	}
	s.i = j
	return int64(v), true
}

// eightDigits reports whether the eight bytes of w (loaded little-endian)
// are all ASCII digits: each byte's high nibble is 3, and adding 6 does not
// carry into it.
func eightDigits(w uint64) bool {
	const hiNibbles = 0xF0F0F0F0F0F0F0F0
	return (w&hiNibbles)|((w+0x0606060606060606)&hiNibbles)>>4 == 0x3333333333333333
}

// eightDigitsValue converts eight ASCII digits (loaded little-endian, the
// first digit in the lowest byte) to their value: pairs, then quads, then
// the whole, each step one multiply (the SWAR conversion of simdjson).
func eightDigitsValue(w uint64) uint64 {
	const mask = 0x000000FF000000FF
	w -= 0x3030303030303030
	w = w*10 + w>>8
	return ((w&mask)*(100+1_000_000<<32) + (w>>16&mask)*(1+10_000<<32)) >> 32
}

// bool reads true or false.
func (s *scan) bool() (v, ok bool) {
	s.ws()
	b := s.b[s.i:]
	switch {
	case len(b) >= 4 && string(b[:4]) == "true":
		s.i += 4
		return true, true
	case len(b) >= 5 && string(b[:5]) == "false":
		s.i += 5
		return false, true
	}
	return false, false
}

// dec reads a string holding an unsigned decimal at scale; anything the
// decimal rules reject is refused.
func (s *scan) dec(scale int) (int64, bool) {
	s.ws()
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return 0, false
	}
	v, j, ok := decAt(s.b, s.i+1, scale)
	if ok {
		s.i = j
	}
	return v, ok
}

// decAt converts the decimal string whose text starts at b[i] (after the
// opening quote) and returns the index after its closing quote. It gives
// parseDecimal's result for the string's text (unsigned), reading the
// digits once: they are converted while the closing quote is looked for.
// Its digit loops repeat parseDecimal's on purpose: calling parseDecimal
// would need the quote found first, a second pass over the digits.
// FuzzFastMatchesTree holds the two equal.
func decAt(b []byte, i, scale int) (int64, int, bool) {
	start := i
	var v uint64
	for ; i < len(b); i++ {
		c := b[i] - '0'
		if c > 9 {
			break
		}
		v = v*10 + uint64(c)
	}
	nd, frac := i-start, 0
	if i < len(b) && b[i] == '.' {
		i++
		fs := i
		for ; i < len(b); i++ {
			c := b[i] - '0'
			if c > 9 {
				break
			}
			if frac < scale {
				v = v*10 + uint64(c)
				frac++
			} else if c != 0 {
				return 0, 0, false // ErrPrecision
			}
		}
		if i == fs {
			return 0, 0, false
		}
	}
	if nd == 0 || i >= len(b) || b[i] != '"' || uint(scale) > MaxScale {
		return 0, 0, false
	}
	if nd+frac > 19 { // the rare long form: parseDecimal's own route
		n, err := parseDecimal(b[start:i], scale, false)
		return n, i + 1, err == nil
	}
	hi, lo := bits.Mul64(v, pow10[scale-frac])
	if hi != 0 || lo > math.MaxInt64 {
		return 0, 0, false
	}
	return int64(lo), i + 1, true
}

// level reads one book level, ["price","size"] with any further elements
// ignored (as on the fastjson path). The compact form Bybit sends is
// matched inline; any other spacing goes through the general methods.
func (s *scan) level(ps, ss int) (Level, bool) {
	b, i := s.b, s.i
	if i+1 < len(b) && b[i] == '[' && b[i+1] == '"' {
		if p, j, ok := decAt(b, i+2, ps); ok && j+1 < len(b) && b[j] == ',' && b[j+1] == '"' {
			if q, k, ok := decAt(b, j+2, ss); ok && k < len(b) && b[k] == ']' {
				s.i = k + 1
				return Level{Price: p, Size: q}, true
			}
		}
	}
	if !s.byte1('[') {
		return Level{}, false
	}
	p, ok := s.dec(ps)
	if !ok || !s.byte1(',') {
		return Level{}, false
	}
	q, ok := s.dec(ss)
	if !ok {
		return Level{}, false
	}
	for {
		switch s.next() {
		case ']':
			return Level{Price: p, Size: q}, true
		case ',':
			if !s.skip(1) {
				return Level{}, false
			}
		default:
			return Level{}, false
		}
	}
}

// raw consumes one value and returns its text (for a member read later).
func (s *scan) raw() ([]byte, bool) {
	s.ws()
	start := s.i
	if !s.skip(0) {
		return nil, false
	}
	return s.b[start:s.i], true
}

// skip consumes one value of any type, checking its syntax.
func (s *scan) skip(depth int) bool {
	s.ws()
	if s.i >= len(s.b) {
		return false
	}
	switch c := s.b[s.i]; c {
	case '"':
		s.i++
		_, ok := s.rest()
		return ok
	case '{', '[':
		if depth >= maxSkipDepth {
			return false
		}
		end := byte('}')
		if c == '[' {
			end = ']'
		}
		empty, _ := s.open(c, end)
		for more := !empty; more; {
			if c == '{' {
				if _, ok := s.key(); !ok {
					return false
				}
			}
			if !s.skip(depth + 1) {
				return false
			}
			var ok bool
			if more, ok = s.more(end); !ok {
				return false
			}
		}
		return true
	case 't':
		return s.lit("true")
	case 'f':
		return s.lit("false")
	case 'n':
		return s.lit("null")
	}
	return s.number()
}

func (s *scan) lit(w string) bool {
	if len(s.b)-s.i >= len(w) && string(s.b[s.i:s.i+len(w)]) == w {
		s.i += len(w)
		return true
	}
	return false
}

// number consumes a number in strict JSON syntax.
func (s *scan) number() bool {
	b, i := s.b, s.i
	if i < len(b) && b[i] == '-' {
		i++
	}
	d := i
	for i < len(b) && b[i]-'0' <= 9 {
		i++
	}
	if i == d || (b[d] == '0' && i-d > 1) {
		return false
	}
	if i < len(b) && b[i] == '.' {
		i++
		f := i
		for i < len(b) && b[i]-'0' <= 9 {
			i++
		}
		if i == f {
			return false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		e := i
		for i < len(b) && b[i]-'0' <= 9 {
			i++
		}
		if i == e {
			return false
		}
	}
	// fastjson ends a number token only at a byte outside [0-9.eE+-]: a
	// token such as "1.2.3" is one (lenient) number to it, so leave it.
	if i < len(b) {
		switch b[i] {
		case '.', 'e', 'E', '+', '-':
			return false
		}
	}
	s.i = i
	return true
}
