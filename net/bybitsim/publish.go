package bybitsim

import (
	"bytes"

	"github.com/gobwas/ws"
)

// publish lets one active stream send what changed since its last message.
// due is the stream's cadence; klines also send their final confirm=true
// frame as soon as a candle closes, whatever the cadence.
func (s *Server) publish(st *stream, now, real int64) {
	if st.silentUntil != 0 {
		if st.silentUntil < 0 || real < st.silentUntil {
			return
		}
		st.silentUntil = 0
		st.mute = false
	}
	due := s.cfg.Rate.Mode != RateMixed || (s.tickN+st.phase)%st.every == 0
	switch st.kind {
	case kindBook:
		if due {
			s.publishBook(st, now, real)
		}
	case kindTicker:
		if due && s.updateTicker(st, now) {
			s.sendTicker(st, real)
		}
	case kindTrade:
		if due {
			s.publishTrades(st, now, real)
		}
	case kindKline:
		s.publishKline(st, now, real, due)
	}
}

// send queues one data message on one connection and counts it.
func (s *Server) send(c *conn, st *stream, p []byte) {
	if c.enqueue(ws.OpText, p, true) {
		s.stats.msgs[st.cat][st.kind].Add(1)
		s.stats.bytes[st.cat][st.kind].Add(int64(len(p)))
		s.delivered++
	}
}

// deliver sends p to every subscriber of st. A stalled connection gets
// nothing; its book and ticker subscriptions are marked to receive a
// snapshot of the sent state when the stall ends (or instead of the next
// delta), so its view converges without a gap. isSnap says p is itself a
// complete snapshot.
func (s *Server) deliver(st *stream, p []byte, isSnap bool, real int64) {
	var snap []byte
	for _, sb := range st.subs {
		c := sb.c
		if c.stalled(real) {
			if st.kind == kindBook || st.kind == kindTicker {
				sb.needSnap = true
				s.markStalled(c)
			}
			continue
		}
		msg := p
		if sb.needSnap && !isSnap {
			if snap == nil {
				s.snap = s.appendSnapshot(s.snap[:0], st)
				snap = s.snap
			}
			msg = snap
		}
		sb.needSnap = false
		s.send(c, st, msg)
	}
}

func (s *Server) appendSnapshot(dst []byte, st *stream) []byte {
	if st.kind == kindTicker {
		return st.appendTickerSnapshot(dst)
	}
	return st.appendBookSnapshot(dst)
}

func (s *Server) markStalled(c *conn) {
	if !c.resnap {
		c.resnap = true
		s.stalledC = append(s.stalledC, c)
	}
}

// resnapStalled sends snapshots to connections whose stall has ended.
func (s *Server) resnapStalled(now, real int64) {
	j := 0
	for _, c := range s.stalledC {
		if c.stalled(real) {
			s.stalledC[j] = c
			j++
			continue
		}
		c.resnap = false
		for _, t := range c.order {
			sb := c.subs[t]
			if sb == nil || !sb.needSnap {
				continue
			}
			sb.needSnap = false
			s.snap = s.appendSnapshot(s.snap[:0], sb.st)
			s.send(c, sb.st, s.snap)
		}
	}
	clear(s.stalledC[j:])
	s.stalledC = s.stalledC[:j]
}

// ---- orderbook

// refreshBook brings an idle stream (no subscriber has seen its sent state
// since it last changed) up to the true book, spending one u if anything
// changed.
func (s *Server) refreshBook(st *stream, now int64) {
	m := st.m
	if !st.started {
		st.takeWindows()
	} else if !st.syncWindows() {
		return
	}
	st.u++
	st.seq, st.cts, st.ts, st.started = m.seq, m.evTime, now, true
}

func (s *Server) publishBook(st *stream, now, real int64) {
	m := st.m
	if st.restart {
		// Service restart: u starts again at 1 with a snapshot.
		st.restart = false
		st.takeWindows()
		st.u, st.seq, st.cts, st.ts, st.lastSend, st.started = 1, m.seq, m.evTime, now, real, true
		s.buf = st.appendBookSnapshot(s.buf[:0])
		s.deliver(st, s.buf, true, real)
		return
	}
	if st.depth == 1 {
		s.publishLevel1(st, now, real)
		return
	}
	if st.cross && len(st.sentA) > 0 {
		// A bad delta: one bid at the best ask's price. It spends a u but
		// the sent state (Book) does not include it; the real changes
		// follow with the next u, diffed against Book.
		st.cross = false
		st.u++
		st.seq, st.cts, st.ts = m.seq, m.evTime, now
		s.crossLv[0] = level{-st.sentA[0].key, m.size}
		s.buf = st.appendBook(s.buf[:0], "delta", s.crossLv[:], nil, st.u, st.seq, st.ts, st.cts)
		s.deliver(st, s.buf, false, real)
		return
	}
	if !st.syncWindows() {
		return
	}
	st.u++
	st.seq, st.cts, st.ts = m.seq, m.evTime, now
	if st.skip {
		st.skip = false // the delta is made (u spent, Book updated) but not sent
		return
	}
	s.buf = st.appendBook(s.buf[:0], "delta", st.chB, st.chA, st.u, st.seq, st.ts, st.cts)
	s.deliver(st, s.buf, false, real)
	if st.dup {
		st.dup = false
		s.deliver(st, s.buf, false, real)
	}
}

// publishLevel1 serves orderbook.1: snapshots only, a new u when the top
// changed, the same snapshot (same u) again after Level1Resend.
func (s *Server) publishLevel1(st *stream, now, real int64) {
	m := st.m
	changed := len(st.sentB) == 0 || len(st.sentA) == 0 ||
		m.bids.top(0) != st.sentB[0] || m.asks.top(0) != st.sentA[0]
	if !changed && real-st.lastSend < int64(s.cfg.Level1Resend) {
		return
	}
	st.ts, st.lastSend = now, real
	if changed {
		st.u++
		st.seq, st.cts = m.seq, m.evTime
		if st.cross && len(st.sentA) > 0 {
			st.cross = false
			s.crossLv[0] = level{-st.sentA[0].key, m.size}
			s.buf = st.appendBook(s.buf[:0], "snapshot", s.crossLv[:], st.sentA, st.u, st.seq, st.ts, st.cts)
			s.deliver(st, s.buf, true, real)
			return
		}
		st.takeWindows()
		if st.skip {
			st.skip = false
			return
		}
	}
	s.buf = st.appendBookSnapshot(s.buf[:0])
	s.deliver(st, s.buf, true, real)
}

// ---- tickers

// updateTicker renders every field and merges the changed ones into the
// sent state; it reports whether anything changed (s.idx lists what).
func (s *Server) updateTicker(st *stream, now int64) bool {
	tk, m := &st.tk, st.m
	s.idx = s.idx[:0]
	for i, f := range tk.fields {
		tk.cur[i] = f.f(m, now, tk.cur[i][:0])
		if !tk.has || !bytes.Equal(tk.cur[i], tk.sent[i]) {
			s.idx = append(s.idx, i)
			tk.sent[i] = append(tk.sent[i][:0], tk.cur[i]...)
		}
	}
	if len(s.idx) == 0 {
		return false
	}
	tk.cs, tk.ts = m.seq, now
	return true
}

// sendTicker sends the change updateTicker found: a delta of the changed
// fields on linear/inverse (a snapshot the first time), a full snapshot on
// spot and option, which have no ticker deltas.
func (s *Server) sendTicker(st *stream, real int64) {
	tk := &st.tk
	first := !tk.has
	tk.has = true
	if (st.cat == catLinear || st.cat == catInverse) && !first {
		s.buf = st.appendTicker(s.buf[:0], "delta", tk.sent, s.idx)
		s.deliver(st, s.buf, false, real)
		return
	}
	s.buf = st.appendTicker(s.buf[:0], "snapshot", tk.sent, nil)
	s.deliver(st, s.buf, true, real)
}

// ---- trades

// maxTradesPerFrame is Bybit's cap on one publicTrade frame.
const maxTradesPerFrame = 1024

func (s *Server) publishTrades(st *stream, now, real int64) {
	st.batch = st.batch[:0]
	for i, m := range st.mkts {
		cur := st.cursors[i]
		if m.tradeHead-cur > tradeLogSize {
			cur = m.tradeHead - tradeLogSize
		}
		for ; cur < m.tradeHead; cur++ {
			st.batch = append(st.batch, m.trades[cur%tradeLogSize])
		}
		st.cursors[i] = m.tradeHead
	}
	b := st.batch
	if len(b) == 0 {
		return
	}
	if len(st.mkts) > 1 { // several options of one base coin: merge by time
		for i := 1; i < len(b); i++ {
			for j := i; j > 0 && b[j].t < b[j-1].t; j-- {
				b[j], b[j-1] = b[j-1], b[j]
			}
		}
	}
	for i := range b {
		st.sentTrades[st.sentTradeHead%sentTradesSize] = b[i]
		st.sentTradeHead++
	}
	if st.split && len(b) >= 2 {
		// One batch in two frames, the last trade of the first repeated
		// as the first of the second: clients must dedupe on i.
		st.split = false
		k := len(b) / 2
		s.sendTrades(st, b[:k], now, real)
		s.sendTrades(st, b[k-1:], now, real)
		return
	}
	s.sendTrades(st, b, now, real)
}

func (s *Server) sendTrades(st *stream, b []trade, now, real int64) {
	for off := 0; off < len(b); off += maxTradesPerFrame {
		end := min(off+maxTradesPerFrame, len(b))
		s.buf = st.appendTrades(s.buf[:0], b[off:end], now)
		s.deliver(st, s.buf, true, real)
	}
}

// ---- klines

func (s *Server) publishKline(st *stream, now, real int64, due bool) {
	ks := st.ks
	if st.lastStart != 0 && ks.cur.start != st.lastStart {
		// The candle this stream was updating has closed: its final state
		// goes out now with confirm=true; the new candle at the next push.
		c, ok := ks.find(st.lastStart)
		st.lastStart = ks.cur.start
		if ok {
			s.sendKline(st, &c, true, now, real)
			return
		}
	}
	if due {
		st.lastStart = ks.cur.start
		s.sendKline(st, &ks.cur, false, now, real)
	}
}

func (s *Server) sendKline(st *stream, c *candle, confirm bool, now, real int64) {
	st.recordKline(*c, confirm)
	s.buf = st.appendKline(s.buf[:0], c, confirm, now)
	s.deliver(st, s.buf, true, real)
}

func (st *stream) recordKline(c candle, confirm bool) {
	if n := len(st.sentK); n > 0 && st.sentK[n-1].c.start == c.start {
		st.sentK[n-1] = sentCandle{c, confirm}
		return
	}
	limit := st.ks.limit
	if st.sentK == nil {
		st.sentK = make([]sentCandle, 0, 2*limit)
	}
	if len(st.sentK) >= 2*limit {
		n := copy(st.sentK, st.sentK[len(st.sentK)-limit+1:])
		st.sentK = st.sentK[:n]
	}
	st.sentK = append(st.sentK, sentCandle{c, confirm})
}
