package bybitsim

import (
	"errors"
	"strconv"
	"strings"
)

// maxScale bounds the decimals the simulator formats: 10^18 is the largest
// power of ten an int64 holds.
const maxScale = 18

var pow10 = func() (p [maxScale + 1]int64) {
	p[0] = 1
	for i := 1; i <= maxScale; i++ {
		p[i] = p[i-1] * 10
	}
	return p
}()

var errDecimal = errors.New("bybitsim: not a non-negative decimal")

// parseDecimal reads a non-negative decimal string such as "0.10" and returns
// its digits as an integer and the number of decimals written (trailing zeros
// count: "0.10" is 10 with scale 2). Configuration only; never on a hot path.
func parseDecimal(s string) (v int64, scale int, err error) {
	if s == "" || len(s) > 19 {
		return 0, 0, errDecimal
	}
	ip, fp, dot := strings.Cut(s, ".")
	if ip == "" || (dot && fp == "") || len(fp) > maxScale {
		return 0, 0, errDecimal
	}
	for _, c := range ip + fp {
		if c < '0' || c > '9' {
			return 0, 0, errDecimal
		}
	}
	v, err = strconv.ParseInt(ip+fp, 10, 64)
	if err != nil {
		return 0, 0, errDecimal
	}
	return v, len(fp), nil
}

// parseFixed reads a decimal string at a given scale: parseFixed("1.5", 3) is
// 1500. More decimals than scale is an error (never rounded).
func parseFixed(s string, scale int) (int64, error) {
	v, sc, err := parseDecimal(s)
	if err != nil {
		return 0, err
	}
	if sc > scale {
		return 0, errDecimal
	}
	d := scale - sc
	if v > (1<<63-1)/pow10[d] {
		return 0, errDecimal
	}
	return v * pow10[d], nil
}

// appendFixed appends v/10^scale in decimal. trim drops trailing fractional
// zeros and a bare point ("75844" rather than "75844.00"), as Bybit's spot
// frames and klines print; otherwise exactly scale decimals are written, as
// its linear and inverse books do ("109378.80"). Digits are written
// backwards into a stack buffer: BenchmarkAppendFixed, 11 ns against 35 ns
// for strconv.AppendFloat (which would also be inexact).
func appendFixed(dst []byte, v int64, scale int, trim bool) []byte {
	u := uint64(v)
	if v < 0 {
		u = uint64(-v)
	}
	var b [48]byte
	i := len(b)
	if scale > 0 {
		for range scale {
			i--
			b[i] = byte('0' + u%10)
			u /= 10
		}
		i--
		b[i] = '.'
	}
	for {
		i--
		b[i] = byte('0' + u%10)
		if u /= 10; u == 0 {
			break
		}
	}
	if v < 0 {
		i--
		b[i] = '-'
	}
	end := len(b)
	if trim && scale > 0 {
		for b[end-1] == '0' {
			end--
		}
		if b[end-1] == '.' {
			end--
		}
	}
	return append(dst, b[i:end]...)
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string. Like Go's encoding/json (which
// Bybit's servers evidently use: "args size \u003e10"), it escapes <, > and &
// as \u00XX.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
		case c < 0x20 || c == '<' || c == '>' || c == '&':
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		default:
			dst = append(dst, c)
		}
	}
	return append(dst, '"')
}

// appendUUID appends a version-5-looking UUID made of hi and lo, the shape of
// Bybit's derivative trade ids ("2a74ac78-691c-5b54-9dbe-5aafe8364627").
func appendUUID(dst []byte, hi, lo uint64) []byte {
	hi = hi&^(0xf<<12) | 5<<12
	lo = lo&^(3<<62) | 2<<62
	var b [36]byte
	put := func(at int, v uint64, digits int) {
		for i := digits - 1; i >= 0; i-- {
			b[at+i] = hexDigits[v&0xf]
			v >>= 4
		}
	}
	put(0, hi>>32, 8)
	b[8] = '-'
	put(9, hi>>16, 4)
	b[13] = '-'
	put(14, hi, 4)
	b[18] = '-'
	put(19, lo>>48, 4)
	b[23] = '-'
	put(24, lo, 12)
	return append(dst, b[:]...)
}
