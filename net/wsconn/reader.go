package wsconn

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"time"
)

// ReadMessage returns the next text or binary message. Control frames are
// handled inside (pings answered, pongs counted, close answered and returned
// as *CloseError) and never returned.
//
// Message.Payload is valid until the next call to ReadMessage. Every error is
// final: the connection is closed and later calls return the same error. The
// errors are ErrClosed (after Close), *CloseError (the peer closed),
// ErrIdleTimeout, ErrConnLost (possibly wrapping the socket error),
// ErrMessageTooBig, and the ErrProtocol family.
//
// On a protocol error or an oversize message ReadMessage sends the close
// frame and then discards input until the server hangs up, for at most a
// second (or WriteTimeout if shorter), so the close is not lost to a TCP
// reset.
//
// Not safe for concurrent use: one goroutine reads. Allocates nothing in
// steady state (a fragmented or larger-than-buffer message may grow the
// assembly buffer once).
func (c *Conn) ReadMessage() (Message, error) {
	if c.rerr != nil {
		return Message{}, c.rerr
	}
	if c.closed.Load() {
		// Closed by Close or a failed write: do not hand out what is
		// still buffered.
		return Message{}, c.fail(ErrClosed)
	}
	for {
		h, err := c.header()
		if err != nil {
			return Message{}, c.fail(err)
		}
		switch h.op {
		case opText, opBinary:
			if c.fragmented {
				return Message{}, c.fail(ErrExpectedContinuation)
			}
			if h.n > c.maxMsg {
				return Message{}, c.fail(ErrMessageTooBig)
			}
			if h.fin && h.n <= int64(len(c.buf)-h.hlen) {
				return c.inPlace(h)
			}
			c.frag = c.frag[:0]
			c.fragOp = Opcode(h.op)
		case opContinuation:
			if !c.fragmented {
				return Message{}, c.fail(ErrUnexpectedContinuation)
			}
			if h.n > c.maxMsg-int64(len(c.frag)) {
				return Message{}, c.fail(ErrMessageTooBig)
			}
		case opClose, opPing, opPong:
			if err := c.control(h.op, h.hlen, int(h.n)); err != nil {
				return Message{}, c.fail(err)
			}
			continue
		default:
			return Message{}, c.fail(ErrReservedOpcode)
		}
		if done, err := c.assemble(h); err != nil {
			return Message{}, c.fail(err)
		} else if done {
			return Message{Op: c.fragOp, Payload: c.frag, RecvNs: c.recvNs}, nil
		}
	}
}

// frameHeader is a decoded frame header; the header's hlen bytes start at
// buf[r].
type frameHeader struct {
	fin  bool
	op   byte
	hlen int
	n    int64 // payload length
}

// header reads and checks the next frame header (RFC 6455 5.2), leaving r
// at its first byte. It rejects what no server may send us: masked frames,
// reserved bits (no extension is negotiated), fragmented or long control
// frames, lengths past MaxInt64.
func (c *Conn) header() (frameHeader, error) {
	if c.w-c.r < 2 {
		if err := c.fill(2); err != nil {
			return frameHeader{}, err
		}
	}
	b0, b1 := c.buf[c.r], c.buf[c.r+1]
	h := frameHeader{fin: b0&0x80 != 0, op: b0 & 0x0f, hlen: 2, n: int64(b1 & 0x7f)}
	switch {
	case b1&0x80 != 0:
		// Servers must not mask (RFC 6455 5.1); we do not unmask.
		return h, ErrMaskedFrame
	case b0&0x70 != 0:
		// No extension is ever negotiated: ws.Dialer asks for none and
		// rejects a response that selects one.
		return h, ErrReservedBits
	case h.op >= opClose && !h.fin:
		return h, ErrFragmentedControl
	case h.op >= opClose && h.n > 125:
		return h, ErrControlTooLong
	}
	if h.n < 126 {
		return h, nil
	}
	h.hlen = 4
	if h.n == 127 {
		h.hlen = 10
	}
	if c.w-c.r < h.hlen {
		if err := c.fill(h.hlen); err != nil {
			return h, err
		}
	}
	ext := c.buf[c.r : c.r+h.hlen]
	if h.hlen == 4 {
		h.n = int64(binary.BigEndian.Uint16(ext[2:]))
		return h, nil
	}
	u := binary.BigEndian.Uint64(ext[2:])
	if u > math.MaxInt64 {
		return h, ErrBadLength
	}
	h.n = int64(u)
	return h, nil
}

// inPlace returns a message of one frame that fits the buffer (the fast
// path, nearly every message): its payload is a slice of buf.
func (c *Conn) inPlace(h frameHeader) (Message, error) {
	end := h.hlen + int(h.n)
	if c.w-c.r < end {
		if err := c.fill(end); err != nil {
			return Message{}, c.fail(err)
		}
	}
	// Cap the slice so an append by the caller cannot overwrite the next
	// frame.
	p := c.buf[c.r+h.hlen : c.r+end : c.r+end]
	c.r += end
	c.stats.frames[h.op].Add(1)
	c.stats.bytes[h.op].Add(h.n)
	c.stats.messages[h.op&3].Add(1)
	return Message{Op: Opcode(h.op), Payload: p, RecvNs: c.recvNs}, nil
}

// assemble is the slow path, for a fragment or a frame bigger than the
// buffer: it copies the payload into frag as it arrives and reports
// whether the message is complete.
func (c *Conn) assemble(h frameHeader) (bool, error) {
	c.r += h.hlen
	if err := c.appendPayload(h.n); err != nil {
		return false, err
	}
	c.stats.frames[h.op].Add(1)
	c.stats.bytes[h.op].Add(h.n)
	if !h.fin {
		c.fragmented = true
		return false, nil
	}
	c.fragmented = false
	c.stats.messages[c.fragOp&3].Add(1)
	return true, nil
}

// control handles a ping, pong or close frame of n <= 125 payload bytes
// whose header of hlen bytes starts at buf[r].
func (c *Conn) control(op byte, hlen, n int) error {
	end := hlen + n
	if c.w-c.r < end {
		if err := c.fill(end); err != nil {
			return err
		}
	}
	// p stays valid until the next fill, after the pong is written.
	p := c.buf[c.r+hlen : c.r+end]
	c.r += end
	c.stats.frames[op].Add(1)
	c.stats.bytes[op].Add(int64(n))
	switch op {
	case opPing:
		if err := c.writeFrame(opPong, p); err != nil {
			return err
		}
		c.stats.pongsSent.Add(1)
	case opClose:
		return c.peerClose(p)
	}
	return nil
}

// peerClose validates a close frame's payload, echoes its code (RFC 6455
// 5.5.1) and closes the socket. After our own Close the frame is the
// peer's reply, and the error is ErrClosed, as Close promises: otherwise a
// reader would report the peer's echo of our code and reason as the
// peer's close, whenever the reply beat the socket's close.
func (c *Conn) peerClose(p []byte) error {
	if c.closed.Load() {
		return ErrClosed
	}
	code := CloseNoStatus
	var reason string
	switch {
	case len(p) == 1:
		return ErrBadClosePayload
	case len(p) >= 2:
		code = StatusCode(binary.BigEndian.Uint16(p))
		if !code.validOnWire() {
			return ErrBadCloseCode
		}
		reason = string(p[2:])
	}
	// The peer sends nothing after its close, so no linger.
	_ = c.closeWith(code, "", false) // CloseNoStatus: an empty close frame
	return &CloseError{Code: code, Reason: reason}
}

// appendPayload moves the next n payload bytes into frag, reading as needed.
func (c *Conn) appendPayload(n int64) error {
	for n > 0 {
		if c.r == c.w {
			c.r, c.w = 0, 0
			if err := c.readMore(); err != nil {
				return err
			}
		}
		k := int(min(int64(c.w-c.r), n))
		c.growFrag(k)
		c.frag = append(c.frag, c.buf[c.r:c.r+k]...)
		c.r += k
		n -= int64(k)
	}
	return nil
}

// growFrag makes room for k more bytes in frag. It grows by doubling from
// what has actually arrived, never to a length the peer declared, and never
// beyond maxMsg (the caller has checked len(frag)+k <= maxMsg).
func (c *Conn) growFrag(k int) {
	need := len(c.frag) + k
	if need <= cap(c.frag) {
		return
	}
	size := int(min(int64(max(2*cap(c.frag), need, 4096)), c.maxMsg))
	nb := make([]byte, len(c.frag), size)
	copy(nb, c.frag)
	c.frag = nb
}

// fill makes at least n <= len(buf) bytes available in buf[r:w]. Before
// reading it moves the unread bytes (part of one frame, so fewer than n) to
// the front if n would not fit behind r, or if r is past the middle so that
// every read has at least half the buffer to fill, as bufio does by always
// sliding. The copy is at most one partial frame per half buffer consumed.
// (An A/B of the second rule on BenchmarkReadMessageTCP was within the
// noise of the shared 2-core machine; it is kept for the bound it gives.)
func (c *Conn) fill(n int) error {
	if c.r == c.w {
		c.r, c.w = 0, 0
	} else if len(c.buf)-c.r < n || c.r > len(c.buf)/2 {
		c.w = copy(c.buf, c.buf[c.r:c.w])
		c.r = 0
	}
	for c.w-c.r < n {
		if err := c.readMore(); err != nil {
			return err
		}
	}
	return nil
}

// maxEmptyReads bounds successive (0, nil) reads, as bufio does.
const maxEmptyReads = 100

// readMore reads once or more into buf[w:] (which must not be empty) until
// some bytes arrive, and stamps recvNs.
func (c *Conn) readMore() error {
	if c.idleNs > 0 {
		if now := Nanotime(); now-c.deadlineNs > c.idleNs>>3 {
			c.pushDeadline(now)
		}
	}
	for range maxEmptyReads {
		m, err := c.nc.Read(c.buf[c.w:])
		if m > 0 {
			// A net.Conn returns the error again on the next read, so it
			// is safe to drop it here and hand over the bytes first.
			c.w += m
			c.recvNs = Nanotime()
			return nil
		}
		if err != nil {
			return err
		}
	}
	return io.ErrNoProgress
}

// pushDeadline sets the read deadline to IdleTimeout*9/8 from now. Called at
// most once per IdleTimeout/8, so every read still has at least IdleTimeout
// ahead of it.
func (c *Conn) pushDeadline(now int64) {
	c.deadlineNs = now
	_ = c.nc.SetReadDeadline(time.Now().Add(time.Duration(c.idleNs + c.idleNs>>3)))
}

// writeError wraps a failed write so that fail keeps it as the cause.
type writeError struct{ err error }

func (e *writeError) Error() string { return "wsconn: write: " + e.err.Error() }
func (e *writeError) Unwrap() error { return e.err }

// fail ends the connection with err, sending the close code the error calls
// for, and makes err sticky.
func (c *Conn) fail(err error) error {
	var we *writeError
	switch {
	case errors.Is(err, ErrProtocol):
		c.stats.protocolErrors.Add(1)
		_ = c.closeWith(CloseProtocolError, "", true)
	case err == ErrMessageTooBig:
		c.stats.oversize.Add(1)
		_ = c.closeWith(CloseMessageTooBig, "", true)
	case err == ErrClosed, errors.As(err, &we):
		c.abort()
	default:
		if _, ok := err.(*CloseError); !ok {
			err = c.readErr(err)
		}
		c.abort()
	}
	c.rerr = err
	return err
}

// readErr maps a socket read error to this package's errors.
func (c *Conn) readErr(err error) error {
	switch {
	case c.closed.Load() || errors.Is(err, net.ErrClosed):
		return ErrClosed
	case errors.Is(err, os.ErrDeadlineExceeded):
		return ErrIdleTimeout
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		return ErrConnLost
	}
	return fmt.Errorf("%w: %w", ErrConnLost, err)
}

// abort closes the socket without a close frame.
func (c *Conn) abort() {
	c.closed.Store(true)
	c.wmu.Lock()
	c.wclosed = true
	c.wmu.Unlock()
	_ = c.nc.Close()
}

// Buffered reports whether the read buffer already holds the whole of the
// next frame and that frame completes a data message, so the next
// ReadMessage returns a message without reading the socket. The session
// uses it to publish parsed events once per socket read instead of once per
// message. It answers false for control frames (ReadMessage would handle
// them and then read), fragments and frames of 64 KiB or more, so a true
// answer never leads to a blocking read. Reader goroutine only; it does not
// allocate.
func (c *Conn) Buffered() bool {
	avail := c.w - c.r
	if avail < 2 || c.rerr != nil {
		return false
	}
	b0, b1 := c.buf[c.r], c.buf[c.r+1]
	op := b0 & 0x0f
	if b0&0x80 == 0 || (op != opText && op != opBinary && op != opContinuation) {
		return false
	}
	if op == opContinuation && !c.fragmented {
		return false
	}
	n, hlen := int(b1&0x7f), 2
	switch n {
	case 126:
		if avail < 4 {
			return false
		}
		n, hlen = int(binary.BigEndian.Uint16(c.buf[c.r+2:])), 4
	case 127:
		return false
	}
	return avail >= hlen+n
}
