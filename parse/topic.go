package parse

import (
	"bytes"

	"github.com/ringfeed/ringfeed/kline"
)

// Interval is a kline interval as a one-byte code for event slots: 1 + the
// interval's kline.Interval.Index, so Interval1 is kline.Minute and
// IntervalM kline.Month. The codes and lengths come from kline's table.
type Interval uint8

const (
	IntervalNone Interval = iota
	Interval1             // "1" minute
	Interval3
	Interval5
	Interval15
	Interval30
	Interval60
	Interval120
	Interval240
	Interval360
	Interval720
	IntervalD // "D" day
	IntervalW // "W" week
	IntervalM // "M" month
	numIntervals
)

// The codes above must follow kline's table one for one.
var _ [int(numIntervals) - 1 - kline.NumIntervals]struct{}
var _ [kline.NumIntervals - int(numIntervals) + 1]struct{}

// Kline returns the interval as a kline.Interval; 0 (invalid) for
// IntervalNone or an invalid code.
func (iv Interval) Kline() kline.Interval { return kline.IntervalAt(int(iv) - 1) }

// String returns the Bybit token ("1", "60", "D", …), "" for an invalid code.
func (iv Interval) String() string {
	if k := iv.Kline(); k != 0 {
		return k.String()
	}
	return ""
}

// Millis returns the interval's length in ms; 0 for IntervalM (months vary:
// use the candle's End) and for invalid codes.
func (iv Interval) Millis() int64 { return max(int64(iv.Kline()), 0) }

// ParseInterval maps a Bybit token ("1" … "720", "D", "W", "M") to its code.
func ParseInterval(tok []byte) (Interval, error) {
	k, err := kline.ParseInterval(string(tok))
	if err != nil {
		return IntervalNone, ErrUnknownTopic
	}
	return Interval(k.Index() + 1), nil
}

// TopicInfo is a topic split into its parts.
type TopicInfo struct {
	Kind     Kind
	Depth    uint16   // KindBook
	Interval Interval // KindKline
	// Symbol is the topic's last part, a slice of the input: a symbol, or a
	// base coin for option trades ("publicTrade.BTC").
	Symbol []byte
}

// ParseTopic splits a data topic such as "orderbook.50.BTCUSDT",
// "kline.5.BTCUSDT", "tickers.BTCUSDT" or "publicTrade.BTC". It switches on
// the prefix bytes and does not allocate. Anything else (including
// "orderbook.rpi.X", a depth of 0 or above 65535, an unknown interval, an
// empty symbol) is ErrUnknownTopic.
func ParseTopic(t []byte) (TopicInfo, error) {
	var ti TopicInfo
	if err := ti.parse(t); err != nil {
		return TopicInfo{}, err
	}
	return ti, nil
}

func (ti *TopicInfo) parse(t []byte) error {
	dot := bytes.IndexByte(t, '.')
	if dot <= 0 {
		return ErrUnknownTopic
	}
	rest := t[dot+1:]
	switch string(t[:dot]) {
	case "orderbook":
		ti.Kind = KindBook
		d := bytes.IndexByte(rest, '.')
		if d <= 0 || d > 5 {
			return ErrUnknownTopic
		}
		n, err := parseUint(rest[:d])
		if err != nil || n == 0 || n > 0xffff {
			return ErrUnknownTopic
		}
		ti.Depth = uint16(n)
		rest = rest[d+1:]
	case "kline":
		ti.Kind = KindKline
		d := bytes.IndexByte(rest, '.')
		if d <= 0 {
			return ErrUnknownTopic
		}
		iv, err := ParseInterval(rest[:d])
		if err != nil {
			return err
		}
		ti.Interval = iv
		rest = rest[d+1:]
	case "tickers":
		ti.Kind = KindTicker
	case "publicTrade":
		ti.Kind = KindTrade
	default:
		return ErrUnknownTopic
	}
	if len(rest) == 0 {
		return ErrUnknownTopic
	}
	ti.Symbol = rest
	return nil
}

// AppendTopic appends the subscription topic for kind and symbol to dst.
// param is the depth for KindBook and an Interval for KindKline, ignored
// otherwise. For option trades pass the base coin ("BTC") as symbol.
// It panics on a kind, depth or interval that names no topic: topics are
// built from validated configuration, so that is a programming error.
func AppendTopic(dst []byte, kind Kind, param int, symbol string) []byte {
	switch kind {
	case KindBook:
		if param <= 0 || param > 0xffff {
			panic("parse: AppendTopic: invalid orderbook depth " + itoa(param))
		}
		dst = append(dst, "orderbook."...)
		dst = AppendDecimal(dst, int64(param), 0)
	case KindKline:
		if param <= int(IntervalNone) || param >= int(numIntervals) {
			panic("parse: AppendTopic: invalid kline interval code " + itoa(param))
		}
		dst = append(dst, "kline."...)
		dst = append(dst, Interval(param).String()...)
	case KindTicker:
		dst = append(dst, "tickers"...)
	case KindTrade:
		dst = append(dst, "publicTrade"...)
	default:
		panic("parse: AppendTopic: invalid kind " + kind.String())
	}
	dst = append(dst, '.')
	return append(dst, symbol...)
}

// Topic is AppendTopic returning a string; cold path, it allocates.
func Topic(kind Kind, param int, symbol string) string {
	return string(AppendTopic(nil, kind, param, symbol))
}
