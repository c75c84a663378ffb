package kline_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/ringfeed/ringfeed/kline"
)

// t0 is 2024-12-01 00:00 UTC, the start of the candles in the examples.
const t0 = 1733011200000

// minute returns a one-minute candle m minutes after t0, prices at scale 1
// (one decimal place: 964105 is 96410.5).
func minute(m int64, closePx int64, confirmed bool) kline.Candle {
	s := t0 + m*int64(kline.Minute)
	return kline.Candle{
		Start: s, End: s + int64(kline.Minute) - 1,
		Open: 964105, High: max(964105, closePx), Low: min(964105, closePx), Close: closePx,
		Volume: 41207, Turnover: 39728305512, Confirm: confirmed,
	}
}

func ExampleParseInterval() {
	for _, code := range []string{"1", "240", "D", "W", "M", "2h"} {
		iv, err := kline.ParseInterval(code)
		if err != nil {
			fmt.Println(code, err)
			continue
		}
		fmt.Println(code, int64(iv), "ms")
	}
	// Output:
	// 1 60000 ms
	// 240 14400000 ms
	// D 86400000 ms
	// W 604800000 ms
	// M -1 ms
	// 2h kline: unknown interval code
}

func ExampleInterval_String() {
	fmt.Println(kline.Interval(3_600_000), kline.Hour12, kline.Day, kline.Month)
	// Output: 60 720 D M
}

func ExampleInterval_Floor() {
	t := time.Date(2024, 2, 29, 13, 45, 0, 0, time.UTC).UnixMilli()
	for _, iv := range []kline.Interval{kline.Hour4, kline.Week, kline.Month} {
		start := iv.Floor(t)
		fmt.Printf("%-2v %s .. %s\n", iv,
			time.UnixMilli(start).UTC().Format(time.DateTime),
			time.UnixMilli(iv.End(start)).UTC().Format("2006-01-02 15:04:05.000"))
	}
	// Output:
	// 240 2024-02-29 12:00:00 .. 2024-02-29 15:59:59.999
	// W  2024-02-26 00:00:00 .. 2024-03-03 23:59:59.999
	// M  2024-02-01 00:00:00 .. 2024-02-29 23:59:59.999
}

func ExampleInterval_Steps() {
	jan := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	may := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	fmt.Println("months:", kline.Month.Steps(jan, may), "missing between:", kline.Month.Steps(jan, may)-1)
	fmt.Println("days:", kline.Day.Steps(jan, may))
	fmt.Println("aligned:", kline.Month.Aligned(may), kline.Month.Aligned(may+1))
	// Output:
	// months: 4 missing between: 3
	// days: 121
	// aligned: true false
}

func ExampleValidate() {
	c := minute(0, 964200, false)
	fmt.Println(kline.Validate(kline.Minute, c))
	fmt.Println(kline.Validate(kline.Minute5, minute(1, 964200, false)))
	c.End = c.Start + 5*int64(kline.Minute) - 1 // a 5-minute candle
	fmt.Println(kline.Validate(kline.Minute, c))
	// Output:
	// <nil>
	// kline: start not aligned to the interval
	// kline: end outside the candle's interval
}

func ExampleWindow_Update() {
	w := kline.NewWindow(3, kline.Minute)
	fmt.Println(w.Update(minute(0, 964000, false))) // first candle
	fmt.Println(w.Update(minute(0, 964100, true)))  // same start: in place
	fmt.Println(w.Update(minute(0, 964200, false))) // would unconfirm: kept
	fmt.Println(w.Update(minute(1, 964300, false)))
	fmt.Println(w.Update(minute(2, 964300, false)))
	fmt.Println(w.Update(minute(3, 964300, false))) // full: evicts minute 0
	fmt.Println(w.Update(minute(1, 964400, true)))  // late confirm
	fmt.Println(w.Update(minute(0, 964400, true)))  // evicted already
	c := minute(4, 964400, false)
	c.High = c.Low - 1
	fmt.Println(w.Update(c))
	fmt.Println("len", w.Len(), "cap", w.Cap(), "appended", w.Count(kline.Appended))
	// Output:
	// appended
	// replaced
	// ignored_stale
	// appended
	// appended
	// appended
	// updated_old
	// ignored_too_old
	// rejected
	// len 3 cap 3 appended 4
}

func ExampleWindow_At() {
	w := kline.NewWindow(10, kline.Minute)
	for m := range int64(3) {
		w.Update(minute(m, 964000+m*100, m < 2))
	}
	newest, _ := w.Newest()
	prev, _ := w.At(1)
	_, ok := w.At(3)
	fmt.Println(newest.Close, newest.Confirm, prev.Close, prev.Confirm, ok)
	// Output: 964200 false 964100 true false
}

func ExampleWindow_Last() {
	w := kline.NewWindow(5, kline.Minute)
	for m := range int64(7) {
		w.Update(minute(m, 964000+m, true))
	}
	buf := make([]kline.Candle, 0, 5) // reused between calls: no allocation
	for _, c := range w.Last(buf, 3) {
		fmt.Println((c.Start-t0)/int64(kline.Minute), c.Close)
	}
	// Output:
	// 4 964004
	// 5 964005
	// 6 964006
}

// After an append, LastGap says which candles the stream skipped, e.g. across
// a reconnect; fetch them from REST /v5/market/kline and Load or Update them.
func ExampleWindow_LastGap() {
	w := kline.NewWindow(10, kline.Minute)
	w.Update(minute(0, 964000, true))
	w.Update(minute(4, 964000, false)) // minutes 1-3 missed
	g := w.LastGap()
	fmt.Println("missing", g.Missing, "from minute", (g.From-t0)/int64(kline.Minute), "to", (g.To-t0)/int64(kline.Minute))
	fmt.Println("gaps in window:", w.Gaps())
	fmt.Println(w.Update(minute(2, 964000, true))) // back-filled row
	fmt.Println("gaps in window:", w.Gaps())
	// Output:
	// missing 3 from minute 1 to 3
	// gaps in window: 3
	// inserted
	// gaps in window: 2
}

func ExampleWindow_Load() {
	w := kline.NewWindow(4, kline.Minute)
	w.Update(minute(5, 964500, false)) // arrived on the stream meanwhile

	// REST rows, newest first; no end time, only the open candle unconfirmed.
	rows := []kline.Candle{minute(4, 964400, false), minute(3, 964300, true), minute(2, 964200, true), minute(1, 964100, true)}
	rows[3].End = 0 // a zero End is taken as the interval's last millisecond
	rows[0].Confirm = true
	if err := w.Load(rows); err != nil {
		fmt.Println(err)
		return
	}
	for _, c := range w.Last(nil, w.Len()) {
		fmt.Println((c.Start-t0)/int64(kline.Minute), c.Close, c.Confirm)
	}
	err := w.Load([]kline.Candle{minute(1, 1, true), minute(2, 1, true)})
	fmt.Println(errors.Is(err, kline.ErrOrder))
	// Output:
	// 2 964200 true
	// 3 964300 true
	// 4 964400 true
	// 5 964500 false
	// true
}

func ExampleWindow_Reset() {
	w := kline.NewWindow(4, kline.Minute)
	w.Update(minute(0, 964000, false))
	w.Reset()
	_, ok := w.Newest()
	fmt.Println(w.Len(), ok, w.Count(kline.Appended))
	// Output: 0 false 1
}

func ExampleOutcome_String() {
	for o := range kline.Outcome(kline.NumOutcomes) {
		fmt.Print(o, " ")
	}
	fmt.Println()
	// Output: replaced appended updated_old inserted ignored_too_old ignored_stale rejected
}
