package kline

import (
	"errors"
	"strconv"
)

// Interval is a candle length in milliseconds, so Interval(60000) is one
// minute and int64(iv) is its duration. [Month] is the exception: a calendar
// month has no fixed length, so Month is a marker value (-1) that the methods
// below treat with calendar arithmetic; never do arithmetic on it yourself.
//
// The methods are defined for the thirteen Bybit intervals (see [Interval.Valid]),
// which divide a day except Week and Month; any other positive length is
// treated as a fixed length aligned to the Unix epoch. Zero and negative
// values other than Month are invalid and make the methods panic.
type Interval int64

// The Bybit v5 kline intervals, named by length. Their codes, in the same
// order: 1 3 5 15 30 60 120 240 360 720 D W M.
const (
	Minute   Interval = 60_000
	Minute3  Interval = 3 * Minute
	Minute5  Interval = 5 * Minute
	Minute15 Interval = 15 * Minute
	Minute30 Interval = 30 * Minute
	Hour     Interval = 60 * Minute
	Hour2    Interval = 2 * Hour
	Hour4    Interval = 4 * Hour
	Hour6    Interval = 6 * Hour
	Hour12   Interval = 12 * Hour
	Day      Interval = 24 * Hour
	Week     Interval = 7 * Day
	// Month is the calendar month, starting 00:00 UTC on the 1st.
	Month Interval = -1
)

// weekAnchor is the first Monday after the epoch (1970-01-05, the epoch was
// a Thursday): weekly candles start a whole number of weeks from it.
const weekAnchor = 4 * int64(Day)

// ErrInterval is returned by [ParseInterval] for a code Bybit does not use.
var ErrInterval = errors.New("kline: unknown interval code")

// NumIntervals is the number of Bybit kline intervals.
const NumIntervals = 13

// intervals is the one table of Bybit's interval codes in the project:
// parse, the engine's configuration and the simulator read it through
// ParseInterval, String, Index, IntervalAt and Codes.
var intervals = [NumIntervals]struct {
	code string
	iv   Interval
}{
	{"1", Minute}, {"3", Minute3}, {"5", Minute5}, {"15", Minute15}, {"30", Minute30},
	{"60", Hour}, {"120", Hour2}, {"240", Hour4}, {"360", Hour6}, {"720", Hour12},
	{"D", Day}, {"W", Week}, {"M", Month},
}

// ParseInterval returns the interval for a Bybit interval code, as used in
// kline topics ("kline.5.BTCUSDT") and the REST interval parameter:
// 1 3 5 15 30 60 120 240 360 720 D W M. Codes are case-sensitive, as
// Bybit's are. It does not allocate.
func ParseInterval(code string) (Interval, error) {
	for i := range intervals {
		if intervals[i].code == code {
			return intervals[i].iv, nil
		}
	}
	return 0, ErrInterval
}

// Index returns the position of iv among the Bybit intervals, shortest
// first (Minute is 0, Month is NumIntervals-1), or -1 when iv is not one
// of them. parse numbers its compact interval codes this way.
func (iv Interval) Index() int {
	for i := range intervals {
		if intervals[i].iv == iv {
			return i
		}
	}
	return -1
}

// IntervalAt returns the Bybit interval at index i (see [Interval.Index]),
// or 0 (invalid) when i is out of range.
func IntervalAt(i int) Interval {
	if i < 0 || i >= NumIntervals {
		return 0
	}
	return intervals[i].iv
}

// Codes returns the Bybit interval codes, shortest interval first, in a
// new slice.
func Codes() []string {
	out := make([]string, NumIntervals)
	for i := range intervals {
		out[i] = intervals[i].code
	}
	return out
}

// code returns the Bybit code, or "" when iv is not a Bybit interval.
func (iv Interval) code() string {
	if i := iv.Index(); i >= 0 {
		return intervals[i].code
	}
	return ""
}

// Valid reports whether iv is one of the thirteen Bybit intervals.
func (iv Interval) Valid() bool { return iv.code() != "" }

// String returns the Bybit code of iv ("1", "60", "D", "M", ...), the
// reverse of [ParseInterval]. For a value that is not a Bybit interval it
// returns "Interval(n)", which allocates.
func (iv Interval) String() string {
	if c := iv.code(); c != "" {
		return c
	}
	return "Interval(" + strconv.FormatInt(int64(iv), 10) + ")"
}

// Floor returns the start of the interval that contains time t.
func (iv Interval) Floor(t int64) int64 {
	if iv == Month {
		return monthStart(monthIndex(t))
	}
	ms, off := iv.fixed()
	return floorDiv(t-off, ms)*ms + off
}

// Aligned reports whether t is the start of an interval.
func (iv Interval) Aligned(t int64) bool {
	if iv == Month {
		return monthStart(monthIndex(t)) == t
	}
	ms, off := iv.fixed()
	return floorMod(t-off, ms) == 0
}

// Add returns the start of the n-th interval after the one containing t
// (before it when n is negative). Add(start, 1) is the next candle's start.
func (iv Interval) Add(t int64, n int64) int64 {
	if iv == Month {
		return monthStart(monthIndex(t) + n)
	}
	return iv.Floor(t) + n*int64(iv)
}

// End returns the last millisecond of the interval containing t: for a
// candle start, the End Bybit sends (Start + interval - 1, or the last
// millisecond of the month).
func (iv Interval) End(t int64) int64 { return iv.Add(t, 1) - 1 }

// Steps returns the number of interval boundaries from time a to time b:
// for two candle starts, how many intervals b is after a (negative when b is
// before a). The number of candles missing between two consecutive candles
// is Steps(a, b) - 1.
func (iv Interval) Steps(a, b int64) int64 {
	if iv == Month {
		return monthIndex(b) - monthIndex(a)
	}
	ms, off := iv.fixed()
	return floorDiv(b-off, ms) - floorDiv(a-off, ms)
}

// steps is Steps for two aligned starts, one division instead of two: the
// hot path has already checked alignment.
func (iv Interval) steps(a, b int64) int64 {
	if iv == Month {
		return monthIndex(b) - monthIndex(a)
	}
	return (b - a) / int64(iv)
}

// fixed returns the length and alignment offset of a fixed interval.
func (iv Interval) fixed() (ms, off int64) {
	if iv <= 0 {
		panic("kline: invalid interval " + strconv.FormatInt(int64(iv), 10))
	}
	if iv == Week {
		return int64(iv), weekAnchor
	}
	return int64(iv), 0
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func floorMod(a, b int64) int64 {
	m := a % b
	if m != 0 && ((m < 0) != (b < 0)) {
		m += b
	}
	return m
}

// Calendar arithmetic for Month, on the proleptic Gregorian calendar in UTC.
// The day/civil conversions are Howard Hinnant's public-domain algorithms
// ("chrono-Compatible Low-Level Date Algorithms"): integer only, no tables,
// no time.Time, so the hot path stays cheap and allocation-free.

// monthIndex returns the month containing time t as year*12 + month-1.
func monthIndex(t int64) int64 {
	y, m := civilMonth(floorDiv(t, int64(Day)))
	return y*12 + m - 1
}

// monthStart returns the Unix ms of 00:00 UTC on the 1st of month index i.
func monthStart(i int64) int64 {
	y := floorDiv(i, 12)
	m := i - y*12 + 1
	return daysFromCivil(y, m, 1) * int64(Day)
}

// civilMonth returns the year and month (1-12) of day z since 1970-01-01.
func civilMonth(z int64) (y, m int64) {
	z += 719468
	era := floorDiv(z, 146097)
	doe := z - era*146097                                  // [0, 146096]
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365 // [0, 399]
	doy := doe - (365*yoe + yoe/4 - yoe/100)               // [0, 365], from March 1st
	mp := (5*doy + 2) / 153                                // [0, 11], March = 0
	y = yoe + era*400
	if mp < 10 {
		m = mp + 3
	} else {
		m = mp - 9
		y++
	}
	return y, m
}

// daysFromCivil returns the days since 1970-01-01 of year y, month m (1-12),
// day d.
func daysFromCivil(y, m, d int64) int64 {
	if m <= 2 {
		y--
	}
	era := floorDiv(y, 400)
	yoe := y - era*400 // [0, 399]
	var mp int64       // March = 0
	if m > 2 {
		mp = m - 3
	} else {
		mp = m + 9
	}
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}
