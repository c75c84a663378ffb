package parse

// LevelsPerEvent is the number of book levels one Event carries. 32 keeps an
// Event near 1 KiB while the median real delta fits in one slot (the
// captured XRPUSDT depth-500 deltas have a median of 29 levels, BTCUSDT
// depth-50 deltas fewer); a depth-1000 snapshot (2,000 levels) takes 63
// consecutive slots. Doubling it would halve the slot count of big snapshots
// but make every slot 1.5 KiB; only the header and the levels actually
// written are touched, so the cache cost is set by levels, not slot size.
const LevelsPerEvent = 32

// Level is one price level in fixed point: Price at the symbol's price scale,
// Size at its size scale. Size 0 in a delta deletes the level.
type Level struct {
	Price, Size int64
}

// Kind says which part of an Event is meaningful.
type Kind uint8

const (
	KindNone   Kind = iota
	KindBook        // orderbook.{depth}.{symbol}: Levels, NBids, NAsks, U, Seq, CTS
	KindKline       // kline.{interval}.{symbol}: Candle, Interval
	KindTicker      // tickers.{symbol}: Ticker, Seq (= cs)
	KindTrade       // publicTrade.{symbol}: Trade, Seq (trade seq)
)

var kindNames = [...]string{"none", "book", "kline", "ticker", "trade"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "kind(" + itoa(int(k)) + ")"
}

// Flags describe an event's place in its message.
type Flags uint8

const (
	// Snapshot: the message's type was "snapshot". A book snapshot
	// replaces the book; a ticker snapshot replaces the cached ticker.
	Snapshot Flags = 1 << iota
	// First: the first event of a message. A message that needed more than
	// one event (a book larger than LevelsPerEvent, a kline or trade batch)
	// runs from a First event to a Last event in consecutive slots.
	First
	// Last: the last event of a message.
	Last
)

// Event is one fixed-size, pointer-free unit of parsed market data, written
// by the Parser straight into a caller-provided slot (typically a ring
// slot). It holds no references to the frame, so it may be copied and
// handed to other goroutines by value.
//
// Only the header and the part named by Kind are written for an event; the
// other parts keep whatever an earlier use of the slot left there and must
// not be read. The Parser does not clear whole slots: that would cost a
// 1 KiB memclr per event for bytes nobody reads.
type Event struct {
	Kind     Kind
	Flags    Flags
	Interval Interval // KindKline: the topic's interval
	_        uint8
	Depth    uint16 // KindBook: depth of the stream (1, 25, 50, 200, 1000 …); each depth is its own book
	NBids    uint16 // KindBook: Levels[:NBids] are bids
	NAsks    uint16 // KindBook: Levels[NBids:NBids+NAsks] are asks
	Sym      uint32 // symbol id in the Symbols table

	RecvNs int64 // receive time given to Parse by the caller
	// Stage stamps on the clock of RecvNs, for the engine's latency by
	// stage. The Parser never writes them: the engine's sink stamps the
	// last slot of each message when its parse started and ended and when
	// it was published to the processor.
	ParseNs, DoneNs, PubNs int64
	TS                     int64 // frame "ts", ms: when Bybit's push system produced it
	CTS                    int64 // KindBook: "cts", ms matching-engine time; 0 when absent
	U                      int64 // KindBook: update id of this (symbol, depth) stream
	Seq                    int64 // engine cross sequence: book seq, ticker cs, trade seq; 0 when absent

	Levels [LevelsPerEvent]Level // KindBook
	Candle Candle                // KindKline
	Ticker Ticker                // KindTicker
	Trade  Trade                 // KindTrade
}

// Is reports whether all of f are set.
func (e *Event) Is(f Flags) bool { return e.Flags&f == f }

// Bids returns the bid levels of a book event, a slice of the event's own
// array: valid as long as the event is.
func (e *Event) Bids() []Level { return e.Levels[:e.NBids] }

// Asks returns the ask levels of a book event, a slice of the event's own
// array.
func (e *Event) Asks() []Level { return e.Levels[e.NBids : e.NBids+e.NAsks] }

// Candle is one kline. Open, High, Low, Close are at the symbol's price
// scale, Volume at its size scale, Turnover at ValueScale.
type Candle struct {
	Start, End             int64 // ms; End = Start + interval − 1
	Open, High, Low, Close int64
	Volume, Turnover       int64
	Timestamp              int64 // ms, "timestamp": last trade included
	Confirm                bool  // the candle is closed and final
}

// Side is a trade's taker side.
type Side uint8

const (
	SideNone Side = iota
	Buy
	Sell
)

func (s Side) String() string {
	switch s {
	case Buy:
		return "Buy"
	case Sell:
		return "Sell"
	}
	return ""
}

// TickDirection is Bybit's tick direction of a trade ("L") or ticker.
type TickDirection uint8

const (
	TickNone TickDirection = iota // absent, or a value this package does not know
	PlusTick
	ZeroPlusTick
	MinusTick
	ZeroMinusTick
)

var tickNames = [...]string{"", "PlusTick", "ZeroPlusTick", "MinusTick", "ZeroMinusTick"}

func (t TickDirection) String() string {
	if int(t) < len(tickNames) {
		return tickNames[t]
	}
	return ""
}

// parseTick maps a tick direction string; unknown values become TickNone
// rather than failing the frame, since new enum values are harmless.
func parseTick(b []byte) TickDirection {
	switch string(b) {
	case "PlusTick":
		return PlusTick
	case "ZeroPlusTick":
		return ZeroPlusTick
	case "MinusTick":
		return MinusTick
	case "ZeroMinusTick":
		return ZeroMinusTick
	}
	return TickNone
}

// TradeIDMax bounds a trade id: UUIDs are 36 bytes, spot ids 19 digits.
const TradeIDMax = 40

// Trade is one public trade. Price and Size are at the symbol's scales.
type Trade struct {
	Time       int64 // "T", ms fill time
	Price      int64
	Size       int64
	Side       Side
	Tick       TickDirection // "L"; TickNone on spot
	BlockTrade bool          // "BT"
	RPI        bool          // "RPI": against a retail-price-improvement order
	IDLen      uint8
	IDBuf      [TradeIDMax]byte // "i", opaque; IDBuf[:IDLen]
}

// ID returns the trade id, a slice of the trade's own array.
func (t *Trade) ID() []byte { return t.IDBuf[:t.IDLen] }
