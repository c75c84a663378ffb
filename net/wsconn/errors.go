package wsconn

import (
	"errors"
	"strconv"
)

// StatusCode is a WebSocket close status code (RFC 6455 section 7.4).
type StatusCode uint16

// Close status codes used by this package and its callers.
const (
	CloseNormal          StatusCode = 1000
	CloseGoingAway       StatusCode = 1001
	CloseProtocolError   StatusCode = 1002
	CloseUnsupportedData StatusCode = 1003
	// CloseNoStatus is reported when a close frame carries no code. It is
	// never sent on the wire: Close(CloseNoStatus, "") sends an empty close.
	CloseNoStatus StatusCode = 1005
	// CloseAbnormal means the connection was lost without a close frame. It
	// is never sent on the wire.
	CloseAbnormal        StatusCode = 1006
	CloseInvalidPayload  StatusCode = 1007
	ClosePolicyViolation StatusCode = 1008
	CloseMessageTooBig   StatusCode = 1009
	CloseInternalError   StatusCode = 1011
)

// validOnWire reports whether a peer may send c in a close frame: the codes
// RFC 6455 and the IANA registry define for use (1000–1003, 1007–1014) and
// the ranges left to libraries and applications (3000–4999).
func (c StatusCode) validOnWire() bool {
	switch {
	case c >= 1000 && c <= 1003:
		return true
	case c >= 1007 && c <= 1014:
		return true
	case c >= 3000 && c <= 4999:
		return true
	}
	return false
}

// CloseError is returned by ReadMessage when the peer sent a close frame. Code
// is CloseNoStatus when the frame carried no code.
type CloseError struct {
	Code   StatusCode
	Reason string
}

func (e *CloseError) Error() string {
	s := "wsconn: closed by peer: " + strconv.Itoa(int(e.Code))
	if e.Reason != "" {
		s += " " + strconv.Quote(e.Reason)
	}
	return s
}

// Errors returned by ReadMessage. They are preallocated so that returning them
// does not allocate.
var (
	// ErrClosed: Close was called on this Conn (or a write failed, which
	// closes it).
	ErrClosed = errors.New("wsconn: connection closed")
	// ErrConnLost: the stream ended without a close frame (code 1006).
	ErrConnLost = errors.New("wsconn: connection lost without a close frame")
	// ErrMessageTooBig: a message exceeded Options.MaxMessageSize; the
	// connection was closed with code 1009.
	ErrMessageTooBig = errors.New("wsconn: message exceeds MaxMessageSize")
	// ErrIdleTimeout: no byte arrived for Options.IdleTimeout. It reports
	// Timeout() == true, like a net.Error.
	ErrIdleTimeout error = timeoutError{}

	// ErrProtocol matches (errors.Is) every protocol violation below; the
	// connection was closed with code 1002.
	ErrProtocol = errors.New("wsconn: protocol error")

	ErrMaskedFrame            error = &protocolError{"wsconn: protocol error: server frame is masked"}
	ErrReservedBits           error = &protocolError{"wsconn: protocol error: reserved bits set without a negotiated extension"}
	ErrReservedOpcode         error = &protocolError{"wsconn: protocol error: reserved opcode"}
	ErrFragmentedControl      error = &protocolError{"wsconn: protocol error: fragmented control frame"}
	ErrControlTooLong         error = &protocolError{"wsconn: protocol error: control frame payload over 125 bytes"}
	ErrUnexpectedContinuation error = &protocolError{"wsconn: protocol error: continuation frame without a message to continue"}
	ErrExpectedContinuation   error = &protocolError{"wsconn: protocol error: new data frame inside a fragmented message"}
	ErrBadLength              error = &protocolError{"wsconn: protocol error: 64-bit payload length with the most significant bit set"}
	ErrBadClosePayload        error = &protocolError{"wsconn: protocol error: close frame with a 1-byte payload"}
	ErrBadCloseCode           error = &protocolError{"wsconn: protocol error: close code not allowed on the wire"}
)

// protocolError is the type of the protocol-violation sentinels: each keeps
// its own message and matches ErrProtocol, so callers can branch on the family
// or on the exact violation.
type protocolError struct{ msg string }

func (e *protocolError) Error() string        { return e.msg }
func (e *protocolError) Is(target error) bool { return target == ErrProtocol }

type timeoutError struct{}

func (timeoutError) Error() string   { return "wsconn: idle timeout: no data from the peer" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return false }

// Errors returned by Dial, wrapped around the underlying cause.
var (
	// ErrDialTimeout: the TCP connect did not finish within
	// Options.DialTimeout.
	ErrDialTimeout = errors.New("wsconn: dial timeout")
	// ErrHandshakeTimeout: the TLS and HTTP upgrade handshakes did not finish
	// within Options.HandshakeTimeout.
	ErrHandshakeTimeout = errors.New("wsconn: handshake timeout")
)

// StatusError is returned (wrapped) by Dial when the server answers the
// upgrade request with an HTTP status other than 101, e.g. 403 for a
// geo-blocked region or 429 when rate limited.
type StatusError struct {
	Status int
}

func (e *StatusError) Error() string {
	// Always wrapped by Dial's "wsconn: handshake with HOST: " prefix.
	return "HTTP status " + strconv.Itoa(e.Status) + " instead of 101 Switching Protocols"
}
