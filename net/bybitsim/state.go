package bybitsim

import (
	"errors"
	"strconv"
)

// Errors of the state accessors.
var (
	ErrUnknownCategory = errors.New("bybitsim: unknown category")
	ErrUnknownSymbol   = errors.New("bybitsim: unknown symbol")
	ErrUnknownTopic    = errors.New("bybitsim: topic not offered")
	ErrNotStreamed     = errors.New("bybitsim: nothing sent on this stream yet")
)

// BookState is an order book as decimal strings: bids best (highest) first,
// asks best (lowest) first, formatted exactly as the stream prints them.
type BookState struct {
	U, Seq, TS, CTS int64
	Bids, Asks      [][2]string
}

// KlineRow is one candle as sent.
type KlineRow struct {
	Start, End                               int64
	Interval                                 string
	Open, Close, High, Low, Volume, Turnover string
	Confirm                                  bool
	Timestamp                                int64
}

// Trade is one trade as sent.
type Trade struct {
	ID, Symbol, Side, Price, Size, TickDirection string
	T, Seq                                       int64
}

func (s *Server) market(category, symbol string) (*market, error) {
	cat, ok := parseCategory(category)
	if !ok {
		return nil, ErrUnknownCategory
	}
	m := s.markets[cat][symbol]
	if m == nil {
		return nil, ErrUnknownSymbol
	}
	return m, nil
}

func bookState(m *market, b, a []level, u, seq, ts, cts int64) BookState {
	bs := BookState{U: u, Seq: seq, TS: ts, CTS: cts, Bids: make([][2]string, len(b)), Asks: make([][2]string, len(a))}
	for i, l := range b {
		bs.Bids[i] = [2]string{string(appendFixed(nil, l.key, m.pscale, m.ptrim)), string(appendFixed(nil, l.qty, m.qscale, m.qtrim))}
	}
	for i, l := range a {
		bs.Asks[i] = [2]string{string(appendFixed(nil, -l.key, m.pscale, m.ptrim)), string(appendFixed(nil, l.qty, m.qscale, m.qtrim))}
	}
	return bs
}

// Book returns the state of stream orderbook.{depth}.{symbol} as of the
// last message sent on it: what a client that applied every message sent
// holds. Two faults make it differ from replaying the frames: after
// SkipDelta it includes the withheld delta; after CrossDelta it has the bad
// delta's U but not its level (see Fault). The result is a copy.
func (s *Server) Book(category, symbol string, depth int) (BookState, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, err := s.market(category, symbol)
	if err != nil {
		return BookState{}, err
	}
	st, e := s.lookup(m.cat, "orderbook."+strconv.Itoa(depth)+"."+symbol)
	if e != "" {
		return BookState{}, ErrUnknownTopic
	}
	if !st.started {
		return BookState{}, ErrNotStreamed
	}
	return bookState(m, st.sentB, st.sentA, st.u, st.seq, st.ts, st.cts), nil
}

// TrueBook returns the best depth levels of the simulator's true book now
// (U is 0: the true book has no stream counter; Seq is the market's).
func (s *Server) TrueBook(category, symbol string, depth int) (BookState, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, err := s.market(category, symbol)
	if err != nil {
		return BookState{}, err
	}
	return bookState(m, m.bids.window(nil, depth), m.asks.window(nil, depth), 0, m.seq, s.simNow(), m.evTime), nil
}

// Kline returns the candles sent on kline.{interval}.{symbol}, oldest
// first (the last KlineHistory of them); a candle re-sent in place appears
// once, in its latest state.
func (s *Server) Kline(category, symbol, interval string) ([]KlineRow, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, err := s.market(category, symbol)
	if err != nil {
		return nil, err
	}
	st, e := s.lookup(m.cat, "kline."+interval+"."+symbol)
	if e != "" {
		return nil, ErrUnknownTopic
	}
	out := make([]KlineRow, 0, len(st.sentK))
	for _, k := range st.sentK {
		out = append(out, klineRow(m, st.iv, k.c, k.confirm))
	}
	return out, nil
}

// KlineSeries returns the market's candles for interval, oldest first, as
// REST serves them: every closed candle it keeps (Confirm true, final) and
// the open one (Confirm false), whatever the stream has sent of them. A
// client that back-filled from REST holds these; Kline is what the stream
// sent. ErrNotStreamed until the series exists (first subscribe or REST
// request).
func (s *Server) KlineSeries(category, symbol, interval string) ([]KlineRow, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, err := s.market(category, symbol)
	if err != nil {
		return nil, err
	}
	iv, ok := parseInterval(interval)
	if !ok || m.cat == catOption {
		return nil, ErrUnknownTopic
	}
	ks := m.klines[iv]
	if ks == nil {
		return nil, ErrNotStreamed
	}
	out := make([]KlineRow, 0, len(ks.hist)+1)
	for _, c := range ks.hist {
		out = append(out, klineRow(m, iv, c, true))
	}
	return append(out, klineRow(m, iv, ks.cur, false)), nil
}

func klineRow(m *market, iv interval, c candle, confirm bool) KlineRow {
	f := func(v int64, sc int) string { return string(appendFixed(nil, v, sc, true)) }
	return KlineRow{
		Start: c.start, End: c.end, Interval: iv.String(),
		Open: f(c.open, m.pscale), Close: f(c.close, m.pscale), High: f(c.high, m.pscale), Low: f(c.low, m.pscale),
		Volume: f(c.vol, m.qscale), Turnover: f(c.turn, m.turnScale),
		Confirm: confirm, Timestamp: c.ts,
	}
}

// Ticker returns tickers.{symbol} merged as sent (every field of the last
// snapshot overlaid with every later delta), or nil before the first
// message. The map is a copy.
func (s *Server) Ticker(category, symbol string) (map[string]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, err := s.market(category, symbol)
	if err != nil {
		return nil, err
	}
	st, _ := s.lookup(m.cat, "tickers."+symbol)
	if !st.tk.has {
		return nil, ErrNotStreamed
	}
	out := make(map[string]string, len(st.tk.fields))
	for i, f := range st.tk.fields {
		out[f.name] = string(st.tk.sent[i])
	}
	return out, nil
}

// Trades returns the trades sent on publicTrade.{symbol} (the base coin
// for options), oldest first, at most the last 1024, without the repeat
// that the split-trades fault sends.
func (s *Server) Trades(category, symbol string) ([]Trade, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cat, ok := parseCategory(category)
	if !ok {
		return nil, ErrUnknownCategory
	}
	st, e := s.lookup(cat, "publicTrade."+symbol)
	if e != "" {
		return nil, ErrUnknownSymbol
	}
	n := min(st.sentTradeHead, sentTradesSize)
	out := make([]Trade, 0, n)
	for i := st.sentTradeHead - n; i < st.sentTradeHead; i++ {
		t := &st.sentTrades[i%sentTradesSize]
		m := t.m
		side := "Sell"
		if t.buy {
			side = "Buy"
		}
		out = append(out, Trade{
			ID: string(appendTradeID(nil, cat, t)), Symbol: m.sym, Side: side,
			Price: string(appendFixed(nil, t.px, m.pscale, m.ptrim)), Size: string(appendFixed(nil, t.qty, m.qscale, m.qtrim)),
			TickDirection: tickDirNames[t.dir], T: t.t, Seq: t.seq,
		})
	}
	return out, nil
}

// Stats is a snapshot of the Server's counters.
type Stats struct {
	ConnsAccepted, ConnsOpen             int64
	HandshakesRefused, HandshakesDelayed int64
	SubscribesOK, SubscribesFailed       int64 // topics
	UnsubscribesOK                       int64
	PingsAnswered                        int64 // {"op":"ping"} answered
	PingsStalled                         int64 // {"op":"ping"} left unanswered by a stall
	ControlPingsAnswered                 int64 // RFC 6455 pings answered with pongs
	ServerPingsSent, PongsReceived       int64 // RFC 6455, server side
	FaultsInjected                       int64
	Faults                               map[string]int64 // by FaultKind
	SlowClientDrops, IdleCloses          int64
	// Messages and Bytes count data messages (and their payload bytes)
	// by "category.kind", e.g. "linear.orderbook", "spot.publicTrade".
	Messages, Bytes map[string]int64
	WireBytes       int64 // every byte written to sockets, frames included
}

// Stats returns the counters.
func (s *Server) Stats() Stats {
	c := &s.stats
	st := Stats{
		ConnsAccepted: c.connsAccepted.Load(), HandshakesRefused: c.handshakesRefused.Load(),
		HandshakesDelayed: c.handshakesDelayed.Load(), SubscribesOK: c.subsOK.Load(),
		SubscribesFailed: c.subsFailed.Load(), UnsubscribesOK: c.unsubsOK.Load(),
		PingsAnswered: c.pings.Load(), PingsStalled: c.pingsStalled.Load(), ControlPingsAnswered: c.controlPongs.Load(),
		ServerPingsSent: c.serverPings.Load(), PongsReceived: c.pongsReceived.Load(),
		FaultsInjected: c.faults.Load(), SlowClientDrops: c.slowDrops.Load(),
		IdleCloses: c.idleCloses.Load(), WireBytes: c.wireBytes.Load(),
		Faults: map[string]int64{}, Messages: map[string]int64{}, Bytes: map[string]int64{},
	}
	for k := range numFaultKinds {
		if v := c.faultsBy[k].Load(); v != 0 {
			st.Faults[faultNames[k]] = v
		}
	}
	for ci := range numCategories {
		for k := range numKinds {
			if v := c.msgs[ci][k].Load(); v != 0 {
				key := ci.String() + "." + kindNames[k]
				st.Messages[key] = v
				st.Bytes[key] = c.bytes[ci][k].Load()
			}
		}
	}
	s.mu.Lock()
	st.ConnsOpen = int64(len(s.conns))
	s.mu.Unlock()
	return st
}

// ConnInfo describes an open connection.
type ConnInfo struct {
	ID       string // the conn_id sent in its acks
	Category string
	Remote   string
	Topics   []string // in subscription order
}

// Conns lists the open connections.
func (s *Server) Conns() []ConnInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]ConnInfo, 0, len(s.conns))
	for _, c := range s.conns {
		out = append(out, ConnInfo{ID: c.id, Category: c.cat.String(), Remote: c.remote, Topics: append([]string(nil), c.order...)})
	}
	return out
}

// Symbols lists a category's symbols in configuration order (nil for an
// unknown category).
func (s *Server) Symbols(category string) []string {
	cat, ok := parseCategory(category)
	if !ok {
		return nil
	}
	out := make([]string, 0, len(s.marketList[cat]))
	for _, m := range s.marketList[cat] {
		out = append(out, m.sym)
	}
	return out
}
