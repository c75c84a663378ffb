package bybitsim

import (
	"bufio"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gobwas/ws"
)

// conn is one WebSocket client. Its reader runs on the HTTP handler's
// goroutine; its one writer goroutine drains a bounded byte queue that the
// generator, the reader (acks, pongs) and fault injection fill with
// complete frames. Double buffering: producers append to q under mu, the
// writer swaps q with its own buffer and writes it in one syscall, so a busy
// stream costs one write per batch, not per message.
type conn struct {
	s      *Server
	id     string
	cat    category
	nc     net.Conn
	br     *bufio.Reader
	remote string

	mu       sync.Mutex
	q, wbuf  []byte
	closing  bool // no more frames accepted; writer closes after flushing
	abortNow bool // writer drops the queue and resets the TCP connection
	abrupt   bool // close without a close frame (RST)
	msgs     int64
	dropAt   int64 // abrupt close once msgs reaches dropAt (0 = off)
	fragSize int
	fragPing bool
	dropT    *time.Timer

	wake       chan struct{}
	space      chan struct{}
	kill       chan struct{}
	killOnce   sync.Once
	writerDone chan struct{}

	stallUntil atomic.Int64 // real ns
	pingEvery  atomic.Int64 // server ping interval, ns (0 = off)
	lastRecv   atomic.Int64 // real ns of the last client frame
	lastData   atomic.Int64 // real ns of the last data message queued
	queued     atomic.Int64 // bytes in q, for RateMax backpressure

	// Under Server.mu.
	subs    map[string]*sub
	order   []string // topics in subscription order
	resnap  bool
	connIdx int
}

func (c *conn) stalled(real int64) bool { return c.stallUntil.Load() > real }

func (c *conn) signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// enqueue queues one message. data marks a market-data message (counted
// toward drop-after-N and the idle timer; subject to the queue bound). It
// reports whether the message was queued.
func (c *conn) enqueue(op ws.OpCode, p []byte, data bool) bool {
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		return false
	}
	limit := c.s.cfg.QueueBytes
	if c.s.cfg.Rate.Mode == RateMax {
		limit *= 4 // the generator waits at QueueBytes/2; this is the hard stop
	}
	if data && len(c.q)+len(p) > limit {
		c.closing, c.abortNow, c.abrupt = true, true, true
		c.mu.Unlock()
		c.s.stats.slowDrops.Add(1)
		c.s.logf("bybitsim: conn %s: slow client: queue over %d bytes, disconnecting", c.id, limit)
		c.stop() // also unblocks a writer stuck in Write
		return false
	}
	c.q = appendFrame(c.q, op, p, c.fragSize, c.fragPing)
	c.queued.Store(int64(len(c.q)))
	if data {
		c.msgs++
		if c.dropAt > 0 && c.msgs >= c.dropAt {
			c.closing, c.abrupt = true, true
		}
	}
	c.mu.Unlock()
	c.signal(c.wake)
	return true
}

// enqueueRaw queues pre-framed bytes (fault frames).
func (c *conn) enqueueRaw(frames []byte) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing {
		return false
	}
	c.q = append(c.q, frames...)
	c.queued.Store(int64(len(c.q)))
	c.signal(c.wake)
	return true
}

// closeGraceful queues a close frame and closes the socket once it is out.
func (c *conn) closeGraceful(code ws.StatusCode, reason string) {
	c.mu.Lock()
	if !c.closing {
		c.q = appendClose(c.q, code, reason)
		c.closing = true
	}
	c.mu.Unlock()
	c.signal(c.wake)
}

// abort resets the connection now: no close frame, queued bytes dropped.
func (c *conn) abort() {
	c.mu.Lock()
	c.closing, c.abortNow, c.abrupt = true, true, true
	c.mu.Unlock()
	c.signal(c.wake)
	c.stop()
}

// stop ends the writer and the socket; the reader then fails and cleans up.
func (c *conn) stop() {
	c.killOnce.Do(func() {
		close(c.kill)
		c.mu.Lock()
		abrupt := c.abrupt
		if c.dropT != nil {
			c.dropT.Stop()
		}
		c.mu.Unlock()
		if tc, ok := c.nc.(*net.TCPConn); ok && abrupt {
			_ = tc.SetLinger(0) // RST, like a dropped Bybit connection (1006)
		}
		_ = c.nc.Close()
	})
}

// writer is the connection's only writer of socket bytes.
func (c *conn) writer() {
	defer close(c.writerDone)
	defer c.stop()
	cfg := &c.s.cfg
	var idleC <-chan time.Time
	if cfg.IdleTimeout > 0 {
		t := time.NewTicker(max(cfg.IdleTimeout/4, time.Millisecond))
		defer t.Stop()
		idleC = t.C
	}
	var pingT *time.Ticker
	var pingC <-chan time.Time
	var pingD int64
	defer func() {
		if pingT != nil {
			pingT.Stop()
		}
	}()
	stallT := time.NewTimer(time.Hour)
	stallT.Stop()
	for {
		if d := c.pingEvery.Load(); d != pingD {
			if pingT != nil {
				pingT.Stop()
				pingT, pingC = nil, nil
			}
			if pingD = d; d > 0 {
				pingT = time.NewTicker(time.Duration(d))
				pingC = pingT.C
			}
		}
		select {
		case <-c.wake:
		case <-c.kill:
			return
		case <-idleC:
			now := time.Now().UnixNano()
			idle := int64(cfg.IdleTimeout)
			if now-c.lastRecv.Load() >= idle && now-c.lastData.Load() >= idle {
				c.s.stats.idleCloses.Add(1)
				c.abort()
				return
			}
			continue
		case <-pingC:
			if !c.stalled(time.Now().UnixNano()) && c.enqueue(ws.OpPing, []byte("sim"), false) {
				c.s.stats.serverPings.Add(1)
			}
			continue
		}
		if until := c.stallUntil.Load(); until > time.Now().UnixNano() {
			stallT.Reset(time.Duration(until - time.Now().UnixNano()))
			select {
			case <-stallT.C:
			case <-c.wake: // a new stall may end this one early: look again
			case <-c.kill:
				return
			}
			c.signal(c.wake)
			continue
		}
		c.mu.Lock()
		c.q, c.wbuf = c.wbuf[:0], c.q
		c.queued.Store(0)
		closing, abortNow := c.closing, c.abortNow
		c.mu.Unlock()
		if abortNow {
			c.abort()
			return
		}
		if len(c.wbuf) > 0 {
			_ = c.nc.SetWriteDeadline(time.Now().Add(cfg.WriteTimeout))
			_, err := c.nc.Write(c.wbuf)
			if err != nil {
				c.abort()
				return
			}
			c.s.stats.wireBytes.Add(int64(len(c.wbuf)))
			c.lastData.Store(time.Now().UnixNano())
		}
		c.signal(c.space)
		if closing {
			return // the deferred stop closes the socket (RST when abrupt)
		}
	}
}

// readLoop reads client frames until the socket fails. It answers control
// frames and hands complete text messages to the request handler.
func (c *conn) readLoop() {
	maxReq := c.s.cfg.MaxRequestBytes
	var hb [ws.MaxHeaderSize]byte
	var buf, msg []byte
	inMsg := false
	var msgOp ws.OpCode
	for {
		h, err := ws.ReadHeaderBuffer(c.br, hb[:2])
		if err != nil {
			return
		}
		c.lastRecv.Store(time.Now().UnixNano())
		switch {
		case h.Rsv != 0 || !h.Masked:
			c.closeGraceful(ws.StatusProtocolError, "bad frame")
			return
		case h.OpCode.IsControl() && (!h.Fin || h.Length > 125):
			c.closeGraceful(ws.StatusProtocolError, "bad control frame")
			return
		case h.Length > int64(maxReq) || (!h.OpCode.IsControl() && int64(len(msg))+h.Length > int64(maxReq)):
			c.closeGraceful(ws.StatusMessageTooBig, "message too big")
			return
		}
		n := int(h.Length)
		if cap(buf) < n {
			buf = make([]byte, n) // bounded by MaxRequestBytes
		}
		buf = buf[:n]
		if _, err := readFull(c.br, buf); err != nil {
			return
		}
		ws.Cipher(buf, h.Mask, 0)
		switch h.OpCode {
		case ws.OpPing:
			if !c.stalled(time.Now().UnixNano()) && c.enqueue(ws.OpPong, buf, false) {
				c.s.stats.controlPongs.Add(1)
			}
		case ws.OpPong:
			c.s.stats.pongsReceived.Add(1)
		case ws.OpClose:
			code := ws.StatusNoStatusRcvd
			if len(buf) >= 2 {
				code = ws.StatusCode(uint16(buf[0])<<8 | uint16(buf[1]))
			}
			if code == ws.StatusNoStatusRcvd {
				code = ws.StatusNormalClosure
			}
			c.closeGraceful(code, "")
			return
		case ws.OpText, ws.OpBinary:
			if inMsg {
				c.closeGraceful(ws.StatusProtocolError, "expected continuation")
				return
			}
			msg = append(msg[:0], buf...)
			msgOp, inMsg = h.OpCode, !h.Fin
			if h.Fin && msgOp == ws.OpText { // binary requests are ignored
				c.s.handleRequest(c, msg)
			}
		case ws.OpContinuation:
			if !inMsg {
				c.closeGraceful(ws.StatusProtocolError, "unexpected continuation")
				return
			}
			msg = append(msg, buf...)
			if h.Fin {
				inMsg = false
				if msgOp == ws.OpText {
					c.s.handleRequest(c, msg)
				}
			}
		default:
			c.closeGraceful(ws.StatusProtocolError, "unknown opcode")
			return
		}
	}
}

func readFull(br *bufio.Reader, p []byte) (int, error) {
	n := 0
	for n < len(p) {
		k, err := br.Read(p[n:])
		n += k
		if err != nil {
			return n, err
		}
	}
	return n, nil
}
