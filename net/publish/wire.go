package publish

import (
	"strconv"

	"github.com/ringfeed/ringfeed/parse"
)

// Prefix is the first token of every subject ringfeed publishes.
const Prefix = "ringfeed"

// JetStream streams the publisher creates (or updates) when it connects.
const (
	// LastStream keeps the newest message of every snapshot, kline and
	// ticker subject (MaxMsgsPerSubject 1, memory storage): a consumer
	// joining late reads the current state from it.
	LastStream = "RINGFEED_LAST"
	// TradeStream keeps every trade (file storage, limits retention, see
	// Config.TradeMaxAge): a consumer that was down catches up from it.
	TradeStream = "RINGFEED_TRADES"
)

// BookSubject is where every update of one book stream goes:
// ringfeed.<category>.book.<depth>.<symbol>.
func BookSubject(category, symbol string, depth int) string {
	return Prefix + "." + category + ".book." + strconv.Itoa(depth) + "." + symbol
}

// SnapshotSubject holds the newest snapshot (or stale notice) of one book
// stream in LastStream: ringfeed.<category>.booksnap.<depth>.<symbol>.
func SnapshotSubject(category, symbol string, depth int) string {
	return Prefix + "." + category + ".booksnap." + strconv.Itoa(depth) + "." + symbol
}

// SnapshotRequestSubject is where a consumer that lost its place asks for
// a fresh snapshot of a book stream (any payload; no reply):
// ringfeed.<category>.snapreq.<depth>.<symbol>.
func SnapshotRequestSubject(category, symbol string, depth int) string {
	return Prefix + "." + category + ".snapreq." + strconv.Itoa(depth) + "." + symbol
}

// TradeSubject carries one symbol's trades: ringfeed.<category>.trade.<symbol>.
func TradeSubject(category, symbol string) string {
	return Prefix + "." + category + ".trade." + symbol
}

// KlineSubject carries one (symbol, interval) candle stream:
// ringfeed.<category>.kline.<interval>.<symbol>.
func KlineSubject(category, symbol, interval string) string {
	return Prefix + "." + category + ".kline." + interval + "." + symbol
}

// TickerSubject carries one symbol's merged ticker:
// ringfeed.<category>.ticker.<symbol>.
func TickerSubject(category, symbol string) string {
	return Prefix + "." + category + ".ticker." + symbol
}

// Message types of the book subjects ("type").
const (
	TypeSnapshot = "snapshot"
	TypeDelta    = "delta"
	TypeStale    = "stale"
)

// BookMsg is a message of a book subject (and of the snapshot subject), as
// consumers decode it. The publisher writes the same JSON by hand.
//
// A consumer's replica follows from these rules alone: a snapshot replaces
// the book; a delta sets each level (size "0" deletes it) and then keeps
// the best Depth levels of each side, as the engine's capped book does; a
// stale message empties nothing but says the book cannot be trusted until
// the next snapshot. N numbers the updates of one stream without gaps: a
// delta is applied only when N is one more than the replica's; a snapshot
// or stale message with any N ≥ the replica's resets it to that N.
type BookMsg struct {
	Type   string `json:"type"`
	Symbol string `json:"symbol"`
	Depth  int    `json:"depth"`
	N      uint64 `json:"n"`
	U      int64  `json:"u"`
	Seq    int64  `json:"seq"`
	TS     int64  `json:"ts"`
	CTS    int64  `json:"cts,omitempty"`
	// Recv is when the engine received the frame (Unix ns); 0 on a
	// refresh that no frame caused.
	Recv int64 `json:"recv,omitempty"`
	// PriceScale and SizeScale are the decimals the engine keeps (on
	// snapshots): every price and size fits them exactly.
	PriceScale int         `json:"ps,omitempty"`
	SizeScale  int         `json:"ss,omitempty"`
	Reason     string      `json:"reason,omitempty"`
	Bids       [][2]string `json:"bids,omitempty"`
	Asks       [][2]string `json:"asks,omitempty"`
}

// TradeMsg is a message of a trade subject: a trade in the /v1/trades
// shape plus the symbol, the stream number N, the tick direction and the
// receive time.
type TradeMsg struct {
	Symbol     string `json:"symbol"`
	N          uint64 `json:"n"`
	Time       int64  `json:"time"` // fill time, ms
	Side       string `json:"side"` // Buy or Sell
	Price      string `json:"price"`
	Size       string `json:"size"`
	ID         string `json:"id"`
	Tick       string `json:"tick,omitempty"` // PlusTick, ZeroPlusTick, MinusTick, ZeroMinusTick
	BlockTrade bool   `json:"block_trade"`
	RPI        bool   `json:"rpi,omitempty"`
	Seq        int64  `json:"seq,omitempty"`
	Recv       int64  `json:"recv,omitempty"`
}

// KlineMsg is a message of a kline subject: the current state of one
// candle in the /v1/klines shape.
type KlineMsg struct {
	Symbol   string `json:"symbol"`
	Interval string `json:"interval"`
	N        uint64 `json:"n"`
	Start    int64  `json:"start"`
	End      int64  `json:"end"`
	Open     string `json:"open"`
	High     string `json:"high"`
	Low      string `json:"low"`
	Close    string `json:"close"`
	Volume   string `json:"volume"`
	Turnover string `json:"turnover"`
	// Timestamp is Bybit's "timestamp": the last trade the candle includes.
	Timestamp int64 `json:"timestamp,omitempty"`
	Confirm   bool  `json:"confirm"`
	TS        int64 `json:"ts"`
	Recv      int64 `json:"recv,omitempty"`
}

// TickerMsg is a message of a ticker subject: the whole merged ticker in
// the /v1/ticker shape.
type TickerMsg struct {
	Symbol string            `json:"symbol"`
	N      uint64            `json:"n"`
	TS     int64             `json:"ts"`
	Seq    int64             `json:"seq,omitempty"` // Bybit's cs
	Stale  bool              `json:"stale"`
	Fields map[string]string `json:"fields"`
	Recv   int64             `json:"recv,omitempty"`
}

// encoder appends the wire JSON of messages to a reused buffer.
type encoder struct {
	buf []byte
}

// appendStr appends s as a JSON string. One generic body serves the
// symbol and reason strings and the trade id bytes (t.ID()), so the
// escaping rule is written once; each instantiation is allocation-free.
func appendStr[S string | []byte](b []byte, s S) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20:
			b = append(b, `\u00`...)
			b = append(b, "0123456789abcdef"[c>>4], "0123456789abcdef"[c&15])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

func appendInt(b []byte, key string, v int64) []byte {
	b = append(b, ',', '"')
	b = append(b, key...)
	b = append(b, '"', ':')
	return strconv.AppendInt(b, v, 10)
}

func appendDec(b []byte, key string, v int64, scale int) []byte {
	b = append(b, ',', '"')
	b = append(b, key...)
	b = append(b, '"', ':', '"')
	b = parse.AppendDecimal(b, v, scale)
	return append(b, '"')
}

func appendLevels(b []byte, key string, ls []parse.Level, ps, ss int) []byte {
	b = append(b, ',', '"')
	b = append(b, key...)
	b = append(b, `":[`...)
	for i, l := range ls {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '[', '"')
		b = parse.AppendDecimal(b, l.Price, ps)
		b = append(b, '"', ',', '"')
		b = parse.AppendDecimal(b, l.Size, ss)
		b = append(b, '"', ']')
	}
	return append(b, ']')
}

// bookHead writes the common head of a book message.
func (e *encoder) bookHead(typ, symbol string, depth int, n uint64, m *Msg, recv int64) {
	b := append(e.buf[:0], `{"type":"`...)
	b = append(b, typ...)
	b = append(b, `","symbol":`...)
	b = appendStr(b, symbol)
	b = appendInt(b, "depth", int64(depth))
	b = append(b, `,"n":`...)
	b = strconv.AppendUint(b, n, 10)
	b = appendInt(b, "u", m.U)
	b = appendInt(b, "seq", m.Seq)
	b = appendInt(b, "ts", m.TS)
	if m.CTS != 0 {
		b = appendInt(b, "cts", m.CTS)
	}
	if recv != 0 {
		b = appendInt(b, "recv", recv)
	}
	e.buf = b
}

// book encodes a snapshot or delta whose levels are bids and asks.
func (e *encoder) book(typ, symbol string, depth int, m *Msg, recv int64, ps, ss int, bids, asks []parse.Level) []byte {
	e.bookHead(typ, symbol, depth, m.N, m, recv)
	b := e.buf
	if typ == TypeSnapshot {
		b = appendInt(b, "ps", int64(ps))
		b = appendInt(b, "ss", int64(ss))
	}
	b = appendLevels(b, "bids", bids, ps, ss)
	b = appendLevels(b, "asks", asks, ps, ss)
	e.buf = append(b, '}')
	return e.buf
}

// stale encodes a stale notice.
func (e *encoder) stale(symbol string, depth int, m *Msg, recv int64, reason string) []byte {
	e.bookHead(TypeStale, symbol, depth, m.N, m, recv)
	b := append(e.buf, `,"reason":`...)
	b = appendStr(b, reason)
	e.buf = append(b, '}')
	return e.buf
}

func (e *encoder) trade(symbol string, m *Msg, recv int64, ps, ss int) []byte {
	t := &m.Trade
	b := append(e.buf[:0], `{"symbol":`...)
	b = appendStr(b, symbol)
	b = append(b, `,"n":`...)
	b = strconv.AppendUint(b, m.N, 10)
	b = appendInt(b, "time", t.Time)
	b = append(b, `,"side":"`...)
	b = append(b, t.Side.String()...)
	b = append(b, '"')
	b = appendDec(b, "price", t.Price, ps)
	b = appendDec(b, "size", t.Size, ss)
	b = append(b, `,"id":`...)
	b = appendStr(b, t.ID())
	if t.Tick != parse.TickNone {
		b = append(b, `,"tick":"`...)
		b = append(b, t.Tick.String()...)
		b = append(b, '"')
	}
	b = append(b, `,"block_trade":`...)
	b = strconv.AppendBool(b, t.BlockTrade)
	if t.RPI {
		b = append(b, `,"rpi":true`...)
	}
	if m.Seq != 0 {
		b = appendInt(b, "seq", m.Seq)
	}
	if recv != 0 {
		b = appendInt(b, "recv", recv)
	}
	e.buf = append(b, '}')
	return e.buf
}

func (e *encoder) kline(symbol string, m *Msg, recv int64, ps, ss int) []byte {
	c := &m.Candle
	b := append(e.buf[:0], `{"symbol":`...)
	b = appendStr(b, symbol)
	b = append(b, `,"interval":"`...)
	b = append(b, m.Interval.String()...)
	b = append(b, `","n":`...)
	b = strconv.AppendUint(b, m.N, 10)
	b = appendInt(b, "start", c.Start)
	b = appendInt(b, "end", c.End)
	b = appendDec(b, "open", c.Open, ps)
	b = appendDec(b, "high", c.High, ps)
	b = appendDec(b, "low", c.Low, ps)
	b = appendDec(b, "close", c.Close, ps)
	b = appendDec(b, "volume", c.Volume, ss)
	b = appendDec(b, "turnover", c.Turnover, parse.ValueScale)
	if c.Timestamp != 0 {
		b = appendInt(b, "timestamp", c.Timestamp)
	}
	b = append(b, `,"confirm":`...)
	b = strconv.AppendBool(b, c.Confirm)
	b = appendInt(b, "ts", m.TS)
	if recv != 0 {
		b = appendInt(b, "recv", recv)
	}
	e.buf = append(b, '}')
	return e.buf
}

func (e *encoder) ticker(symbol string, m *Msg, recv int64, ss int) []byte {
	t := &m.Ticker
	b := append(e.buf[:0], `{"symbol":`...)
	b = appendStr(b, symbol)
	b = append(b, `,"n":`...)
	b = strconv.AppendUint(b, m.N, 10)
	b = appendInt(b, "ts", m.TS)
	if m.Seq != 0 {
		b = appendInt(b, "seq", m.Seq)
	}
	b = append(b, `,"stale":`...)
	b = strconv.AppendBool(b, m.Reason != 0)
	b = append(b, `,"fields":{`...)
	first := true
	for f := parse.TickerField(0); f < parse.NumTickerFields; f++ {
		if !t.Has(f) {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, '"')
		b = append(b, f.String()...)
		b = append(b, '"', ':', '"')
		switch {
		case t.IsEmpty(f):
		case f == parse.TickTickDirection:
			b = append(b, parse.TickDirection(t.Values[f]).String()...)
		default:
			b = parse.AppendDecimal(b, t.Values[f], f.Scale(ss))
		}
		b = append(b, '"')
	}
	b = append(b, '}')
	if recv != 0 {
		b = appendInt(b, "recv", recv)
	}
	e.buf = append(b, '}')
	return e.buf
}
