package wsconn

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gobwas/ws"
)

// Defaults applied by Dial to zero Options fields.
const (
	// DefaultReadBufferSize holds a whole orderbook.1000 snapshot (~40 KB)
	// many times over, so nearly every message is returned in place.
	DefaultReadBufferSize = 1 << 20
	DefaultMaxMessageSize = 16 << 20
	// MinReadBufferSize is the smallest ReadBufferSize accepted: room for a
	// full control frame (2+125 bytes) and any frame header, with margin.
	MinReadBufferSize = 256

	DefaultDialTimeout      = 10 * time.Second
	DefaultHandshakeTimeout = 10 * time.Second
	DefaultWriteTimeout     = 5 * time.Second
)

// Options configure Dial. The zero value is usable: zero fields take the
// defaults above; IdleTimeout zero means no idle timeout.
type Options struct {
	// ReadBufferSize is the size of the per-connection read buffer; messages
	// up to this size (minus the frame header) are returned without copying.
	ReadBufferSize int
	// MaxMessageSize bounds a message, all fragments together. A bigger one
	// closes the connection with 1009 and ReadMessage returns
	// ErrMessageTooBig.
	MaxMessageSize int64

	// DialTimeout bounds the TCP connect.
	DialTimeout time.Duration
	// HandshakeTimeout bounds the TLS handshake (wss) and the HTTP upgrade,
	// counted from the end of the TCP connect.
	HandshakeTimeout time.Duration
	// IdleTimeout: if no byte arrives for this long, ReadMessage returns
	// ErrIdleTimeout. It fires after between 1 and 9/8 IdleTimeout of
	// silence, because the read deadline is pushed forward only once every
	// IdleTimeout/8 to keep it off the per-message path. Zero disables it;
	// the session sets about twice its heartbeat interval.
	IdleTimeout time.Duration
	// WriteTimeout bounds every write (text, pong, close).
	WriteTimeout time.Duration

	// Header holds extra HTTP headers for the upgrade request.
	Header http.Header

	// RootCAs are added to the system roots for wss:// (they never replace
	// them). Certificate verification is always on: there is deliberately no
	// way to turn it off.
	RootCAs []*x509.Certificate
	// RootCAFile names a PEM file whose certificates are added to the system
	// roots, like RootCAs. It is read on every Dial.
	RootCAFile string
}

func (o Options) withDefaults() (Options, error) {
	switch {
	case o.ReadBufferSize < 0 || (o.ReadBufferSize > 0 && o.ReadBufferSize < MinReadBufferSize):
		return o, fmt.Errorf("wsconn: Options.ReadBufferSize %d is below the minimum %d", o.ReadBufferSize, MinReadBufferSize)
	case o.MaxMessageSize < 0:
		return o, fmt.Errorf("wsconn: Options.MaxMessageSize %d is negative", o.MaxMessageSize)
	case o.DialTimeout < 0:
		return o, fmt.Errorf("wsconn: Options.DialTimeout %v is negative", o.DialTimeout)
	case o.HandshakeTimeout < 0:
		return o, fmt.Errorf("wsconn: Options.HandshakeTimeout %v is negative", o.HandshakeTimeout)
	case o.IdleTimeout < 0:
		return o, fmt.Errorf("wsconn: Options.IdleTimeout %v is negative", o.IdleTimeout)
	case o.WriteTimeout < 0:
		return o, fmt.Errorf("wsconn: Options.WriteTimeout %v is negative", o.WriteTimeout)
	}
	if o.ReadBufferSize == 0 {
		o.ReadBufferSize = DefaultReadBufferSize
	}
	if o.MaxMessageSize == 0 {
		o.MaxMessageSize = DefaultMaxMessageSize
	}
	if o.DialTimeout == 0 {
		o.DialTimeout = DefaultDialTimeout
	}
	if o.HandshakeTimeout == 0 {
		o.HandshakeTimeout = DefaultHandshakeTimeout
	}
	if o.WriteTimeout == 0 {
		o.WriteTimeout = DefaultWriteTimeout
	}
	return o, nil
}

// Opcode is the type of a data message.
type Opcode byte

// Data opcodes returned in Message.Op.
const (
	OpText   Opcode = 1
	OpBinary Opcode = 2
)

// Frame opcodes (RFC 6455 section 5.2).
const (
	opContinuation = 0x0
	opText         = 0x1
	opBinary       = 0x2
	opClose        = 0x8
	opPing         = 0x9
	opPong         = 0xA
)

// Message is one data message.
type Message struct {
	Op Opcode
	// Payload is owned by the Conn and valid until the next ReadMessage.
	Payload []byte
	// RecvNs is the Nanotime just after the socket read that delivered the
	// message's last byte.
	RecvNs int64
}

// Conn is a client WebSocket connection. ReadMessage must be called from one
// goroutine at a time; WriteText, Close and Stats are safe for concurrent use
// with it and with each other.
type Conn struct {
	// Reader side: owned by the goroutine that calls ReadMessage.
	nc         net.Conn
	buf        []byte // read buffer; bytes buf[r:w] are unread
	r, w       int
	frag       []byte // assembles fragmented and oversize-for-buf messages
	fragOp     Opcode
	fragmented bool
	maxMsg     int64
	idleNs     int64 // IdleTimeout in ns, 0 = none
	deadlineNs int64 // Nanotime when the read deadline was last pushed
	recvNs     int64 // Nanotime after the last successful socket read
	rerr       error // sticky: every error ends the connection

	// Keep the writer's fields off the reader's cache lines: writers run on
	// other goroutines.
	_ [64]byte

	wmu          sync.Mutex
	wbuf         []byte
	rng          *mrand.ChaCha8 // mask keys; seeded from crypto/rand
	wclosed      bool           // no more frames may be written (under wmu)
	writeTimeout time.Duration

	closed atomic.Bool // Close started or a close frame is on its way
	stats  counters
}

// Dial connects to a ws:// or wss:// URL and performs the WebSocket upgrade.
// ctx bounds the whole call together with Options.DialTimeout (connect) and
// Options.HandshakeTimeout (TLS + upgrade); it does not affect the Conn after
// Dial returns. Frames the server sent in the same packets as its handshake
// response are kept and returned first by ReadMessage.
func Dial(ctx context.Context, rawURL string, opts Options) (*Conn, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("wsconn: dial: %w", err)
	}
	var port string
	switch u.Scheme {
	case "ws":
		port = "80"
	case "wss":
		port = "443"
	default:
		return nil, fmt.Errorf("wsconn: dial %q: scheme must be ws or wss", rawURL)
	}
	host := u.Hostname()
	if host == "" {
		return nil, fmt.Errorf("wsconn: dial %q: no host", rawURL)
	}
	if p := u.Port(); p != "" {
		port = p
	}
	var tlsConf *tls.Config
	if u.Scheme == "wss" {
		tlsConf, err = tlsConfig(host, o)
		if err != nil {
			return nil, err
		}
	}

	d := net.Dialer{Timeout: o.DialTimeout}
	nc, err := d.DialContext(ctx, "tcp", net.JoinHostPort(host, port))
	if err != nil {
		if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
			return nil, fmt.Errorf("%w: %s: %w", ErrDialTimeout, u.Host, err)
		}
		return nil, fmt.Errorf("wsconn: dial %s: %w", u.Host, err)
	}
	pending, err := handshake(ctx, nc, u, tlsConf, o)
	if err != nil {
		nc.Close()
		return nil, err
	}
	return newConn(pending.conn, pending.bytes, o), nil
}

type handshakeResult struct {
	conn  net.Conn // the TLS conn for wss
	bytes []byte   // frame bytes read past the upgrade response
}

// handshake runs TLS (for wss) and the HTTP upgrade under one deadline. ctx
// cancellation is turned into an immediate deadline, which is cheaper than a
// watcher goroutine per read.
func handshake(ctx context.Context, nc net.Conn, u *url.URL, tlsConf *tls.Config, o Options) (handshakeResult, error) {
	var res handshakeResult
	if err := nc.SetDeadline(time.Now().Add(o.HandshakeTimeout)); err != nil {
		return res, fmt.Errorf("wsconn: handshake with %s: %w", u.Host, err)
	}
	stop := context.AfterFunc(ctx, func() { _ = nc.SetDeadline(time.Unix(1, 0)) })

	conn := nc
	var err error
	if tlsConf != nil {
		tc := tls.Client(nc, tlsConf)
		err = tc.Handshake()
		conn = tc
	}
	if err == nil {
		d := ws.Dialer{
			// The upgrade reader may read frames past the response; keep it
			// no bigger than our buffer so they all fit there.
			ReadBufferSize: min(ws.DefaultClientReadBufferSize, o.ReadBufferSize),
		}
		if o.Header != nil {
			d.Header = ws.HandshakeHeaderHTTP(o.Header)
		}
		br, _, uerr := d.Upgrade(conn, u)
		if br != nil {
			if uerr == nil {
				res.bytes, _ = br.Peek(br.Buffered())
				res.bytes = append([]byte(nil), res.bytes...)
			}
			ws.PutReader(br)
		}
		err = uerr
	}
	if !stop() {
		return res, fmt.Errorf("wsconn: handshake with %s: %w", u.Host, context.Cause(ctx))
	}
	if err != nil {
		if se, ok := errors.AsType[ws.StatusError](err); ok {
			return res, fmt.Errorf("wsconn: handshake with %s: %w", u.Host, &StatusError{Status: int(se)})
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return res, fmt.Errorf("%w: %s: %w", ErrHandshakeTimeout, u.Host, err)
		}
		return res, fmt.Errorf("wsconn: handshake with %s: %w", u.Host, err)
	}
	if err := nc.SetDeadline(time.Time{}); err != nil {
		return res, fmt.Errorf("wsconn: handshake with %s: %w", u.Host, err)
	}
	res.conn = conn
	return res, nil
}

// tlsConfig verifies against the system roots plus the configured additions.
func tlsConfig(host string, o Options) (*tls.Config, error) {
	conf := &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	if len(o.RootCAs) == 0 && o.RootCAFile == "" {
		return conf, nil // nil RootCAs: the system pool
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		// No system pool on this platform: trust only the additions.
		pool = x509.NewCertPool()
	}
	for _, c := range o.RootCAs {
		pool.AddCert(c)
	}
	if o.RootCAFile != "" {
		pem, err := os.ReadFile(o.RootCAFile)
		if err != nil {
			return nil, fmt.Errorf("wsconn: Options.RootCAFile: %w", err)
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("wsconn: Options.RootCAFile %q holds no PEM certificate", o.RootCAFile)
		}
	}
	conf.RootCAs = pool
	return conf, nil
}

// newConn wraps an upgraded connection. pending holds bytes already read past
// the handshake response; len(pending) must not exceed o.ReadBufferSize. o
// must have its defaults applied.
func newConn(nc net.Conn, pending []byte, o Options) *Conn {
	if len(pending) > o.ReadBufferSize {
		panic(fmt.Sprintf("BUG: wsconn: %d pending handshake bytes exceed ReadBufferSize %d", len(pending), o.ReadBufferSize))
	}
	var seed [32]byte
	_, _ = rand.Read(seed[:]) // never fails (crypto/rand panics instead)
	c := &Conn{
		nc:           nc,
		buf:          make([]byte, o.ReadBufferSize),
		maxMsg:       o.MaxMessageSize,
		idleNs:       int64(o.IdleTimeout),
		rng:          mrand.NewChaCha8(seed),
		writeTimeout: o.WriteTimeout,
		recvNs:       Nanotime(),
	}
	c.w = copy(c.buf, pending)
	if c.idleNs > 0 {
		c.pushDeadline(Nanotime())
	}
	return c
}

// WriteText sends p as one masked text frame. p is not modified or retained.
// Safe for concurrent use; each write is bounded by Options.WriteTimeout, and
// a failed write closes the connection (a partial frame cannot be taken
// back). Returns ErrClosed after Close. Does not allocate once the write
// buffer has grown to the largest frame sent.
func (c *Conn) WriteText(p []byte) error {
	err := c.writeFrame(opText, p)
	if err == nil {
		c.stats.textSent.Add(1)
		c.stats.textBytesSent.Add(int64(len(p)))
	}
	return err
}

// writeFrame writes one final frame. The deadline is taken before the lock:
// whoever holds the lock started earlier and so gives up earlier, so a caller
// never waits longer than WriteTimeout in total (the reader's pongs rely on
// it).
func (c *Conn) writeFrame(op byte, p []byte) error {
	deadline := time.Now().Add(c.writeTimeout)
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.wclosed {
		return ErrClosed
	}
	return c.writeLocked(op, p, deadline)
}

// writeLocked builds a masked frame in wbuf and writes it. Called with wmu
// held.
func (c *Conn) writeLocked(op byte, p []byte, deadline time.Time) error {
	n := len(p)
	hlen := 2 + 4
	switch {
	case n > 0xFFFF:
		hlen += 8
	case n > 125:
		hlen += 2
	}
	if need := hlen + n; cap(c.wbuf) < need {
		c.wbuf = make([]byte, need)
	}
	b := c.wbuf[:hlen+n]
	b[0] = 0x80 | op
	switch {
	case n > 0xFFFF:
		b[1] = 0x80 | 127
		for i := range 8 {
			b[2+i] = byte(uint64(n) >> (56 - 8*i))
		}
	case n > 125:
		b[1] = 0x80 | 126
		b[2], b[3] = byte(n>>8), byte(n)
	default:
		b[1] = 0x80 | byte(n)
	}
	k := c.rng.Uint64()
	mask := [4]byte{byte(k), byte(k >> 8), byte(k >> 16), byte(k >> 24)}
	copy(b[hlen-4:hlen], mask[:])
	copy(b[hlen:], p)
	ws.Cipher(b[hlen:], mask, 0)

	if err := c.nc.SetWriteDeadline(deadline); err != nil {
		c.shutdownLocked()
		return c.writeErr(err)
	}
	if _, err := c.nc.Write(b); err != nil {
		c.shutdownLocked()
		return c.writeErr(err)
	}
	return nil
}

func (c *Conn) writeErr(err error) error {
	if errors.Is(err, net.ErrClosed) {
		return ErrClosed
	}
	return &writeError{err}
}

// shutdownLocked closes the socket after a failed write. Called with wmu held.
func (c *Conn) shutdownLocked() {
	c.wclosed = true
	c.closed.Store(true)
	_ = c.nc.Close()
}

// Close sends a close frame with code and reason (truncated to the 123 bytes
// a control frame allows), then closes the socket without waiting for the
// peer's reply. A code that may not appear on the wire (CloseNoStatus,
// CloseAbnormal, 1015, or outside 1000–4999) sends an empty close frame
// instead. Close is idempotent (later calls return nil), safe for concurrent
// use, and makes a ReadMessage blocked in another goroutine return ErrClosed.
// It waits at most WriteTimeout for the close frame to be written.
func (c *Conn) Close(code StatusCode, reason string) error {
	return c.closeWith(code, reason, false)
}

// closeWith sends a close frame and closes the socket, once. With linger
// (only from the reader goroutine, which owns buf) it first reads and
// discards until the peer hangs up, for at most lingerTimeout: closing a
// socket with unread bytes makes the kernel send a TCP reset, and the peer
// would then likely lose our close frame and never learn why (1002, 1009).
// RFC 6455 7.1.1 also asks the client to let the server close first.
func (c *Conn) closeWith(code StatusCode, reason string, linger bool) error {
	if !c.closed.CompareAndSwap(false, true) {
		return nil
	}
	var body [125]byte
	n := 0
	if code.validOnWire() {
		body[0], body[1] = byte(code>>8), byte(code)
		n = 2 + copy(body[2:], truncate(reason, len(body)-2))
	}
	deadline := time.Now().Add(c.writeTimeout)
	c.wmu.Lock()
	var werr error
	if !c.wclosed {
		werr = c.writeLocked(opClose, body[:n], deadline)
		if werr == nil {
			c.stats.closesSent.Add(1)
		}
		c.wclosed = true
	}
	c.wmu.Unlock()
	if linger && werr == nil {
		c.linger()
	}
	cerr := c.nc.Close()
	if werr != nil && !errors.Is(werr, ErrClosed) {
		return werr
	}
	if cerr != nil && !errors.Is(cerr, net.ErrClosed) {
		return fmt.Errorf("wsconn: close: %w", cerr)
	}
	return nil
}

// Bounds on linger: time, and bytes for a peer that streams faster than we
// discard.
const (
	lingerTimeout = time.Second
	lingerBytes   = 64 << 20
)

func (c *Conn) linger() {
	_ = c.nc.SetReadDeadline(time.Now().Add(min(lingerTimeout, c.writeTimeout)))
	for n := 0; n < lingerBytes; {
		m, err := c.nc.Read(c.buf)
		if err != nil {
			return
		}
		n += m
	}
}

// truncate cuts s to at most n bytes without splitting a UTF-8 sequence.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
