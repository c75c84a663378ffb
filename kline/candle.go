package kline

import "errors"

// Candle is one kline. Prices, Volume and Turnover are int64 fixed point at
// the caller's scale; Start, End and Timestamp are Unix milliseconds
// (Timestamp is Bybit's "timestamp", the last trade included; 0 when
// unknown, as for candles from REST history). Confirm is Bybit's
// "confirm": the candle is closed and its values final.
//
// Its fields are parse.Candle's, so a parsed candle converts with
// kline.Candle(c).
type Candle struct {
	Start, End             int64
	Open, High, Low, Close int64
	Volume, Turnover       int64
	Timestamp              int64
	Confirm                bool
}

// MaxTime bounds candle times: starts must lie in [0, MaxTime), which is
// 1970-01-01 up to 10000-01-01 UTC. It keeps interval arithmetic far from
// int64 overflow.
const MaxTime int64 = 253402300800000

// Reasons a candle is rejected, returned by [Validate]. [Window.Update]
// counts these as [Rejected]; call Validate to learn which.
var (
	ErrRange     = errors.New("kline: start out of range")
	ErrUnaligned = errors.New("kline: start not aligned to the interval")
	ErrEnd       = errors.New("kline: end outside the candle's interval")
	ErrHighLow   = errors.New("kline: high below low")
	ErrOpenClose = errors.New("kline: open or close outside [low, high]")
	ErrNegative  = errors.New("kline: negative volume or turnover")
)

// Validate checks candle c against interval iv: Start in [0, MaxTime) and
// aligned to iv, Start <= End <= iv.End(Start), Low <= High, Open and Close
// within [Low, High], Volume and Turnover not negative. An End short of the
// interval's last millisecond is accepted, since only its upper bound tells
// candles of different intervals apart. It returns nil or one of the
// sentinel errors above, without allocating.
func Validate(iv Interval, c Candle) error {
	if c.Start < 0 || c.Start >= MaxTime {
		return ErrRange
	}
	var last int64 // the interval's last millisecond
	if iv == Month {
		i := monthIndex(c.Start)
		if monthStart(i) != c.Start {
			return ErrUnaligned
		}
		last = monthStart(i+1) - 1
	} else {
		// One division: Start is not negative here, so % is the floor mod.
		ms, off := iv.fixed()
		if (c.Start+ms-off)%ms != 0 {
			return ErrUnaligned
		}
		last = c.Start + ms - 1
	}
	if c.End < c.Start || c.End > last {
		return ErrEnd
	}
	if c.High < c.Low {
		return ErrHighLow
	}
	if c.Open < c.Low || c.Open > c.High || c.Close < c.Low || c.Close > c.High {
		return ErrOpenClose
	}
	if c.Volume < 0 || c.Turnover < 0 {
		return ErrNegative
	}
	return nil
}
