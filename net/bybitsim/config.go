package bybitsim

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// category is one of Bybit's four public market-data sockets.
type category uint8

const (
	catSpot category = iota
	catLinear
	catInverse
	catOption
	numCategories
)

var categoryNames = [numCategories]string{"spot", "linear", "inverse", "option"}

func (c category) String() string { return categoryNames[c] }

func parseCategory(s string) (category, bool) {
	for i, n := range categoryNames {
		if n == s {
			return category(i), true
		}
	}
	return 0, false
}

// Instrument describes one simulated symbol. Decimals are taken from the
// strings as written: TickSize "0.10" prints prices with two decimals
// ("65000.10"), "0.1" with one; QtyStep likewise for sizes.
type Instrument struct {
	Category  string // "spot", "linear", "inverse" or "option"
	Symbol    string // e.g. "BTCUSDT", "BTC-27DEC30-80000-C"
	BaseCoin  string // default: derived from Symbol
	QuoteCoin string // default: derived from Symbol
	Price     string // initial mid price, a multiple of TickSize
	TickSize  string // price step; its decimals set the price format
	QtyStep   string // size step; its decimals set the size format
	Size      string // typical order size; default 100 × QtyStep
	// Levels is the number of price levels per side of the true book;
	// default 1000 (the deepest stream). Bids stop at one tick above zero,
	// so a low-priced instrument on a coarse grid has fewer bid levels.
	Levels int
}

// DefaultInstruments is the market the simulator serves when Config.Instruments
// is empty: tick sizes and formats as on Bybit in 2025.
func DefaultInstruments() []Instrument {
	return []Instrument{
		{Category: "spot", Symbol: "BTCUSDT", Price: "65000.00", TickSize: "0.01", QtyStep: "0.000001", Size: "0.05"},
		{Category: "spot", Symbol: "ETHUSDT", Price: "3200.00", TickSize: "0.01", QtyStep: "0.00001", Size: "0.5"},
		{Category: "linear", Symbol: "BTCUSDT", Price: "65000.00", TickSize: "0.10", QtyStep: "0.001", Size: "0.2"},
		{Category: "linear", Symbol: "ETHUSDT", Price: "3200.00", TickSize: "0.01", QtyStep: "0.01", Size: "2"},
		{Category: "linear", Symbol: "XRPUSDT", Price: "0.6000", TickSize: "0.0001", QtyStep: "1", Size: "5000"},
		{Category: "inverse", Symbol: "BTCUSD", Price: "65000.00", TickSize: "0.50", QtyStep: "1", Size: "5000"},
		{Category: "option", Symbol: "BTC-27DEC30-80000-C", Price: "3500", TickSize: "5", QtyStep: "0.01", Size: "1"},
		{Category: "option", Symbol: "BTC-27DEC30-60000-P", Price: "2500", TickSize: "5", QtyStep: "0.01", Size: "1"},
		{Category: "option", Symbol: "ETH-27DEC30-4000-C", Price: "150.0", TickSize: "0.1", QtyStep: "0.1", Size: "5"},
	}
}

// SyntheticInstruments returns n made-up instruments of one category
// (S0001USDT, S0002USDT, ... or options S0001-27DEC30-100-C), for tests of
// pagination and many-symbol runs.
func SyntheticInstruments(cat string, n int) []Instrument {
	out := make([]Instrument, 0, n)
	for i := 1; i <= n; i++ {
		in := Instrument{Category: cat, Price: "100.00", TickSize: "0.01", QtyStep: "0.01", Size: "5"}
		switch cat {
		case "option":
			in.Symbol = fmt.Sprintf("S%04d-27DEC30-100-C", i)
			in.Price, in.TickSize = "10.0", "0.1"
		case "inverse":
			in.Symbol = fmt.Sprintf("S%04dUSD", i)
			in.QtyStep, in.Size = "1", "100"
		default:
			in.Symbol = fmt.Sprintf("S%04dUSDT", i)
		}
		out = append(out, in)
	}
	return out
}

// RateMode selects how fast the generator publishes.
type RateMode uint8

const (
	// RateMixed (the default) resembles a busy real feed: each stream at
	// Bybit's push interval (orderbook.1 10 ms, .50 20 ms, .200 100 ms, .1000
	// 200 ms, option .25 20 ms, .100 100 ms, tickers 100 ms (spot 50 ms),
	// trades as they happen, klines 1 s), so books dominate, then trades,
	// tickers and klines.
	RateMixed RateMode = iota
	// RatePerStream publishes every subscribed stream PerSecond times a
	// second (when it has something to say).
	RatePerStream
	// RateTotal paces the generator so the server sends about PerSecond data
	// messages a second in total (one connection: per connection).
	RateTotal
	// RateMax publishes every stream on every generator step, as fast as the
	// sockets take the data (backpressure instead of disconnects).
	RateMax
)

// Rate is the generator's publishing rate.
type Rate struct {
	Mode      RateMode
	PerSecond float64
}

// ParseRate reads "mixed", "max", "N/stream" (messages per second per
// stream) or "N" (messages per second in total).
func ParseRate(s string) (Rate, error) {
	switch s {
	case "", "mixed":
		return Rate{Mode: RateMixed}, nil
	case "max":
		return Rate{Mode: RateMax}, nil
	}
	mode := RateTotal
	if v, ok := strings.CutSuffix(s, "/stream"); ok {
		s, mode = v, RatePerStream
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || !(f > 0 && f <= 1e7) {
		return Rate{}, fmt.Errorf("bybitsim: bad rate %q: want mixed, max, N or N/stream with 0 < N <= 1e7", s)
	}
	return Rate{Mode: mode, PerSecond: f}, nil
}

func (r Rate) String() string {
	switch r.Mode {
	case RateMax:
		return "max"
	case RatePerStream:
		return strconv.FormatFloat(r.PerSecond, 'g', -1, 64) + "/stream"
	case RateTotal:
		return strconv.FormatFloat(r.PerSecond, 'g', -1, 64)
	}
	return "mixed"
}

// Config configures a Server. The zero value is usable: 127.0.0.1 on a free
// port, seed 0, DefaultInstruments, mixed rate, real-time clock.
type Config struct {
	Addr        string       // listen address; default "127.0.0.1:0"
	Seed        uint64       // seeds every market, id and conn_id
	Instruments []Instrument // default DefaultInstruments()
	Rate        Rate

	// TimeScale speeds up the simulated clock that stamps every ts, cts, T
	// and kline start/end: 60 makes a 1-minute candle close every real
	// second. Candles stay aligned to their interval on the simulated
	// clock. Push cadences stay in real time. Default 1.
	TimeScale float64

	// SnapshotBeforeAck sends the first snapshot of a subscription before
	// its ack, as Bybit sometimes does.
	SnapshotBeforeAck bool

	// IdleTimeout closes (without a close frame, as Bybit does) a connection
	// on which the client sent nothing and the server sent no data for this
	// long. Default 10 minutes.
	IdleTimeout time.Duration

	// QueueBytes bounds each connection's outgoing queue. Outside RateMax a
	// client that lets its queue exceed it is disconnected (slow client);
	// in RateMax the generator waits for it instead. Default 8 MiB.
	QueueBytes int

	// WriteTimeout bounds one socket write; a client that accepts nothing
	// for this long is disconnected. Default 10 s.
	WriteTimeout time.Duration

	// Level1Resend re-sends an unchanged orderbook.1 snapshot (same u) after
	// this much real time. Default 3 s, as Bybit.
	Level1Resend time.Duration

	// MaxRequestBytes bounds a client message. Default 64 KiB.
	MaxRequestBytes int

	// KlineHistory is the number of candles kept per symbol and interval
	// (REST history, Kline). Default 1000.
	KlineHistory int

	// Faults, when PerSecond > 0, injects random faults (see FaultSchedule).
	Faults FaultSchedule

	// Logf, when set, receives one line per notable event (faults, slow
	// clients). It must be safe for concurrent use.
	Logf func(format string, args ...any)
}

func (c *Config) withDefaults() Config {
	o := *c
	if o.Addr == "" {
		o.Addr = "127.0.0.1:0"
	}
	if o.Instruments == nil {
		o.Instruments = DefaultInstruments()
	}
	if o.TimeScale == 0 {
		o.TimeScale = 1
	}
	if o.IdleTimeout == 0 {
		o.IdleTimeout = 10 * time.Minute
	}
	if o.QueueBytes == 0 {
		o.QueueBytes = 8 << 20
	}
	if o.WriteTimeout == 0 {
		o.WriteTimeout = 10 * time.Second
	}
	if o.Level1Resend == 0 {
		o.Level1Resend = 3 * time.Second
	}
	if o.MaxRequestBytes == 0 {
		o.MaxRequestBytes = 64 << 10
	}
	if o.KlineHistory == 0 {
		o.KlineHistory = 1000
	}
	return o
}

var errConfig = errors.New("bybitsim: bad config")

func (c *Config) validate() error {
	switch {
	case !(c.TimeScale > 0 && c.TimeScale <= 1e6):
		return fmt.Errorf("%w: TimeScale %v: want 0 < x <= 1e6", errConfig, c.TimeScale)
	case c.IdleTimeout < 0:
		return fmt.Errorf("%w: IdleTimeout %v is negative", errConfig, c.IdleTimeout)
	case c.QueueBytes < 4096:
		return fmt.Errorf("%w: QueueBytes %d: want >= 4096", errConfig, c.QueueBytes)
	case c.MaxRequestBytes < 128:
		return fmt.Errorf("%w: MaxRequestBytes %d: want >= 128", errConfig, c.MaxRequestBytes)
	case c.KlineHistory < 1 || c.KlineHistory > 100000:
		return fmt.Errorf("%w: KlineHistory %d: want 1..100000", errConfig, c.KlineHistory)
	case c.Rate.Mode > RateMax:
		return fmt.Errorf("%w: Rate mode %d", errConfig, c.Rate.Mode)
	case (c.Rate.Mode == RatePerStream || c.Rate.Mode == RateTotal) && !(c.Rate.PerSecond > 0 && c.Rate.PerSecond <= 1e7):
		return fmt.Errorf("%w: Rate.PerSecond %v: want 0 < x <= 1e7", errConfig, c.Rate.PerSecond)
	case c.Faults.PerSecond < 0:
		return fmt.Errorf("%w: Faults.PerSecond %v is negative", errConfig, c.Faults.PerSecond)
	}
	if len(c.Instruments) == 0 {
		return fmt.Errorf("%w: no instruments", errConfig)
	}
	seen := map[string]bool{}
	for i := range c.Instruments {
		in := &c.Instruments[i]
		if _, ok := parseCategory(in.Category); !ok {
			return fmt.Errorf("%w: instrument %q: category %q", errConfig, in.Symbol, in.Category)
		}
		if in.Symbol == "" || strings.ContainsAny(in.Symbol, ". \"\\<>&") {
			return fmt.Errorf("%w: instrument symbol %q", errConfig, in.Symbol)
		}
		k := in.Category + "/" + in.Symbol
		if seen[k] {
			return fmt.Errorf("%w: instrument %s listed twice", errConfig, k)
		}
		seen[k] = true
	}
	return nil
}
