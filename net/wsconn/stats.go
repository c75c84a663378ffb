package wsconn

import "sync/atomic"

// Stats is a snapshot of a Conn's counters. Received frames and payload bytes
// are counted by opcode; Messages counts the data messages ReadMessage
// returned (a fragmented message is one message and several frames).
type Stats struct {
	Messages       int64 // data messages returned by ReadMessage
	TextMessages   int64
	BinaryMessages int64

	TextFrames         int64
	BinaryFrames       int64
	ContinuationFrames int64
	PingFrames         int64 // pings received
	PongFrames         int64 // pongs received
	CloseFrames        int64 // close frames received

	TextBytes         int64 // payload bytes, headers excluded
	BinaryBytes       int64
	ContinuationBytes int64
	PingBytes         int64
	PongBytes         int64
	CloseBytes        int64

	PongsSent      int64
	ClosesSent     int64
	TextSent       int64 // frames sent by WriteText
	TextBytesSent  int64
	ProtocolErrors int64 // violations that closed the connection with 1002
	Oversize       int64 // messages over MaxMessageSize (closed with 1009)
}

// counters are written by the reader goroutine (receive side) or under the
// write mutex (send side) and read by anyone, hence atomics. Arrays indexed
// by opcode keep the hot path branch-free.
type counters struct {
	frames   [16]atomic.Int64 // received, by opcode
	bytes    [16]atomic.Int64 // received payload bytes, by opcode
	messages [4]atomic.Int64  // returned messages, by opcode (text 1, binary 2); 4 so op&3 needs no bounds check

	pongsSent      atomic.Int64
	closesSent     atomic.Int64
	textSent       atomic.Int64
	textBytesSent  atomic.Int64
	protocolErrors atomic.Int64
	oversize       atomic.Int64
}

// Stats returns a snapshot of the connection's counters. Safe for concurrent
// use with every other method; does not allocate. Fields are read one by one,
// so a snapshot taken while the reader runs may be off by the frame in flight.
func (c *Conn) Stats() Stats {
	s := &c.stats
	return Stats{
		Messages:       s.messages[opText].Load() + s.messages[opBinary].Load(),
		TextMessages:   s.messages[opText].Load(),
		BinaryMessages: s.messages[opBinary].Load(),

		TextFrames:         s.frames[opText].Load(),
		BinaryFrames:       s.frames[opBinary].Load(),
		ContinuationFrames: s.frames[opContinuation].Load(),
		PingFrames:         s.frames[opPing].Load(),
		PongFrames:         s.frames[opPong].Load(),
		CloseFrames:        s.frames[opClose].Load(),

		TextBytes:         s.bytes[opText].Load(),
		BinaryBytes:       s.bytes[opBinary].Load(),
		ContinuationBytes: s.bytes[opContinuation].Load(),
		PingBytes:         s.bytes[opPing].Load(),
		PongBytes:         s.bytes[opPong].Load(),
		CloseBytes:        s.bytes[opClose].Load(),

		PongsSent:      s.pongsSent.Load(),
		ClosesSent:     s.closesSent.Load(),
		TextSent:       s.textSent.Load(),
		TextBytesSent:  s.textBytesSent.Load(),
		ProtocolErrors: s.protocolErrors.Load(),
		Oversize:       s.oversize.Load(),
	}
}
