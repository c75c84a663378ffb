package ringfeed

import (
	"github.com/ringfeed/ringfeed/book"
	"github.com/ringfeed/ringfeed/kline"
	"github.com/ringfeed/ringfeed/parse"
	"github.com/ringfeed/ringfeed/tape"
)

// symState is everything the engine keeps for one symbol. It is owned by
// one processor: only that goroutine touches it (docs/design.md: single writer).
type symState struct {
	name   string
	id     uint32
	conn   *connection
	books  []*bookState // one per subscribed depth; a handful at most
	klines []*klineState
	ticker *tickerState
	tape   *tape.Tape
	trade  string // publicTrade topic, "" if not subscribed
	tf     tradeFill
	// reloadInstrument: a book restarted (u == 1); instruments-info is
	// re-read for this symbol at the next housekeeping.
	reloadInstrument bool
	// tradeSilent: the trade topic went silent; cleared by the next trade.
	tradeSilent staleFlag

	pubTradeN uint64 // number of the last trade handed to the publisher
}

// bookState is one (symbol, depth) book and its resync bookkeeping.
type bookState struct {
	depth      uint16
	topic      string
	b          *book.Book
	staleSince int64 // Nanotime when it went stale; 0 while live
	lastResync int64 // Nanotime of the last resync request
	lastStale  book.Reason
	seen       anomalyCounts // book counters already exported
	pub        bookPub       // NATS fan-out state (publish.go)
}

type klineState struct {
	code  string // Bybit interval code: "1", "D", ...
	iv    parse.Interval
	topic string
	w     *kline.Window
	// needFill is set when the window has a gap or was reset, so the
	// REST history loader tops it up.
	needFill bool
	filling  bool
	// full: the next fill loads a whole window (start, a gap, a
	// reconnect, unless NoKlineHistory); otherwise it refreshes the newest
	// candles after lost messages.
	full bool
	// silent: the topic went silent; cleared by the next kline message.
	silent staleFlag
	pubN   uint64 // number of the last candle update handed to the publisher
}

func (s *symState) book(depth uint16) *bookState {
	for _, b := range s.books {
		if b.depth == depth {
			return b
		}
	}
	return nil
}

func (s *symState) kline(iv parse.Interval) *klineState {
	for _, k := range s.klines {
		if k.iv == iv {
			return k
		}
	}
	return nil
}
