package parse

import "encoding/binary"

// Member tables and key prediction for the single-pass path.
//
// Each object kind has one table mapping a member name to a small field
// number (tradeKey, candleKey, tickerKey, bookKey, envKey), shared by the
// single-pass and the fastjson path, so the two cannot disagree on a
// name. The single-pass path also predicts keys: Bybit sends an object's
// members in the same order every time (deltas leave some out), so
// keyOrder learns the order of each kind's keys, quoted and with their
// colon (`"p":`), and a key is first compared as bytes with the next
// ones in that order. A hit skips reading the key as a string and looking
// it up; a miss reads it the general way. The result is the same either
// way: a remembered key holds no quote or backslash, so its bytes match
// exactly what scan.key would read.

// maxOrderKeys and orderBytes bound what a keyOrder remembers; members
// past them are read the general way.
const (
	maxOrderKeys = 48 // an option ticker has ~35 members
	orderBytes   = 1024
)

// keyOrder remembers the member keys of the last object of one kind.
type keyOrder struct {
	n   int                 // keys remembered
	end [maxOrderKeys]int16 // end of key j's quoted form in buf
	fld [maxOrderKeys]int8  // key j's field; -1: not in the table
	// word and mask: key j's first eight bytes of quoted form (fewer for
	// a shorter key, masked), so one load of the frame's next eight bytes
	// is compared with each candidate without slicing buf.
	word, mask [maxOrderKeys]uint64
	buf        [orderBytes + 8]byte // 8 spare bytes: hasPrefix loads whole words
}

// key reads the next member's key and its colon at the cursor and
// returns the key's field (-1 for a key the table does not hold). *pos is
// where the previous key of this object matched in the remembered order
// (0 for the first): the key is looked for from there on, because an
// object's members are a subsequence of the order (a ticker delta leaves
// unchanged members out). A miss reads the key the general way and
// resolves it with the kind's table; a key read past the end of the
// order is learned. ok is false where scan.key would fail.
func (o *keyOrder) key(s *scan, pos *int, resolve func([]byte) int8) (f int8, ok bool) {
	rest := s.b[s.i:]
	start := int16(0)
	if *pos > 0 {
		start = o.end[*pos-1]
	}
	if len(rest) >= 8 {
		w := binary.LittleEndian.Uint64(rest)
		for i := *pos; i < o.n; i++ {
			end := o.end[i]
			if w&o.mask[i] == o.word[i] {
				// The first min(8, len) bytes match; a longer key's
				// rest is compared as below.
				n := int(end - start)
				if n <= 8 || (len(rest) >= n && hasPrefix(rest[8:], o.buf[start+8:end])) {
					s.i += n
					*pos = i + 1
					return o.fld[i], true
				}
			}
			start = end
		}
		return o.miss(s, pos, resolve)
	}
	for i := *pos; i < o.n; i++ {
		q := o.buf[start:o.end[i]]
		start = o.end[i]
		// q is `"k":`; its second byte rejects most mismatches.
		if len(rest) >= len(q) && rest[1] == q[1] && hasPrefix(rest, q) {
			s.i += len(q)
			*pos = i + 1
			return o.fld[i], true
		}
	}
	return o.miss(s, pos, resolve)
}

// miss reads a key the prediction did not match the general way.
func (o *keyOrder) miss(s *scan, pos *int, resolve func([]byte) int8) (f int8, ok bool) {
	k, ok := s.key()
	if !ok {
		return 0, false
	}
	f = resolve(k)
	if *pos == o.n {
		o.learn(k, f)
		*pos = o.n
	}
	return f, true
}

// hasPrefix reports whether rest starts with q (len(rest) ≥ len(q)),
// eight bytes at a time: keys are short, and a call to the runtime's
// memequal per key cost more than the compare (CPU profile of
// BenchmarkParseFrames/trade). q's capacity reaches into keyOrder.buf's
// spare bytes, so its last word can be loaded whole and masked.
func hasPrefix(rest, q []byte) bool {
	for len(q) >= 8 {
		if binary.LittleEndian.Uint64(rest) != binary.LittleEndian.Uint64(q) {
			return false
		}
		rest, q = rest[8:], q[8:]
	}
	if len(q) == 0 {
		return true
	}
	if len(rest) >= 8 && cap(q) >= 8 {
		m := uint64(1)<<(8*uint(len(q))) - 1
		return (binary.LittleEndian.Uint64(rest)^binary.LittleEndian.Uint64(q[:8]))&m == 0
	}
	return string(rest[:len(q)]) == string(q)
}

// learn appends k to the order, if there is room.
func (o *keyOrder) learn(k []byte, f int8) {
	start := 0
	if o.n > 0 {
		start = int(o.end[o.n-1])
	}
	if o.n == maxOrderKeys || start+len(k)+3 > orderBytes {
		return
	}
	i := start
	o.buf[i] = '"'
	i += 1 + copy(o.buf[i+1:], k)
	o.buf[i], o.buf[i+1] = '"', ':'
	o.end[o.n] = int16(i + 2)
	o.fld[o.n] = f
	// buf's 8 spare bytes make the word's load safe; bytes past the key
	// are masked off.
	o.mask[o.n] = ^uint64(0)
	if n := i + 2 - start; n < 8 {
		o.mask[o.n] = uint64(1)<<(8*uint(n)) - 1
	}
	o.word[o.n] = binary.LittleEndian.Uint64(o.buf[start:]) & o.mask[o.n]
	o.n++
}

// Trade members, in the bit order of the required-members mask
// (tradeFields) first.
const (
	trT   int8 = iota // "T" trade time
	trS               // "S" side
	trV               // "v" size
	trP               // "p" price
	trI               // "i" trade id
	trSym             // "s" symbol
	trL               // "L" tick direction
	trBT              // "BT" block trade
	trRPI             // "RPI"
	trSeq             // "seq"
)

// tradeKey is the trade object's member table.
func tradeKey(k []byte) int8 {
	switch string(k) {
	case "T":
		return trT
	case "S":
		return trS
	case "v":
		return trV
	case "p":
		return trP
	case "i":
		return trI
	case "s":
		return trSym
	case "L":
		return trL
	case "BT":
		return trBT
	case "RPI":
		return trRPI
	case "seq":
		return trSeq
	}
	return -1
}

// Candle members, in the bit order of candleFields first.
const (
	cnStart int8 = iota
	cnEnd
	cnOpen
	cnClose
	cnHigh
	cnLow
	cnVolume
	cnTurnover
	cnConfirm
	cnTimestamp
)

// candleKey is the kline candle's member table.
func candleKey(k []byte) int8 {
	switch string(k) {
	case "start":
		return cnStart
	case "end":
		return cnEnd
	case "open":
		return cnOpen
	case "close":
		return cnClose
	case "high":
		return cnHigh
	case "low":
		return cnLow
	case "volume":
		return cnVolume
	case "turnover":
		return cnTurnover
	case "confirm":
		return cnConfirm
	case "timestamp":
		return cnTimestamp
	}
	return -1
}

// tickSymbol is the ticker's "symbol" member in tickerResolve's numbering
// (the TickerFields come first).
const tickSymbol = int8(NumTickerFields)

// tickerResolve is tickerKey in keyOrder's form.
func tickerResolve(k []byte) int8 {
	if string(k) == "symbol" {
		return tickSymbol
	}
	if f, ok := tickerKey(k); ok {
		return int8(f)
	}
	return -1
}

// Book data members.
const (
	bkS int8 = iota
	bkB
	bkA
	bkU
	bkSeq
)

func bookKey(k []byte) int8 {
	switch string(k) {
	case "s":
		return bkS
	case "b":
		return bkB
	case "a":
		return bkA
	case "u":
		return bkU
	case "seq":
		return bkSeq
	}
	return -1
}

// Envelope members of a data message.
const (
	envTopic int8 = iota
	envType
	envTS
	envCTS
	envCS
	envData
)

func envKey(k []byte) int8 {
	switch string(k) {
	case "topic":
		return envTopic
	case "type":
		return envType
	case "ts":
		return envTS
	case "cts":
		return envCTS
	case "cs":
		return envCS
	case "data":
		return envData
	}
	return -1
}
