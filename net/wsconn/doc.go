// Package wsconn is ringfeed's client WebSocket connection (RFC 6455): dial,
// an allocation-free frame reader, and a small locked writer. It is built on
// github.com/gobwas/ws for the HTTP upgrade and for masking; frame headers are
// parsed by hand from bytes already in the read buffer.
//
// # Reading
//
// One goroutine per connection calls [Conn.ReadMessage] in a loop. Frames are
// read in place from a large per-connection buffer ([Options.ReadBufferSize],
// 1 MiB by default): a message that arrives as one frame and fits in the
// buffer is returned as a slice of that buffer, without copying. Fragmented
// messages and messages bigger than the buffer are assembled in a second
// per-connection buffer that grows as bytes actually arrive (never on a length
// the peer declared), up to [Options.MaxMessageSize], and is kept for reuse.
//
// Ownership: [Message.Payload] belongs to the Conn and is valid only until the
// next call to ReadMessage on that Conn; it must not cross a goroutine. Copy it
// to keep it.
//
// Control frames are handled inside ReadMessage and never returned: a ping is
// answered with a pong echoing its payload (also between the fragments of a
// message), a pong is counted, a close is answered with a close echoing its
// code and returned as a [*CloseError]. Protocol violations close the
// connection with code 1002, oversize messages with 1009.
//
// Text payloads are not checked for valid UTF-8 (RFC 6455 asks for it).
// Bybit sends ASCII JSON, the JSON parser downstream rejects malformed input
// anyway, and utf8.Valid on a 40 KB snapshot costs ~1.1–1.3 µs, more than
// ReadMessage's own framing of it from memory (~0.9–1.2 µs) and ~10% of a
// loopback read (BenchmarkUTF8Valid/large against BenchmarkReadMessage/large
// and BenchmarkReadMessageTCP/large). Close reasons are not checked either.
//
// Every error ReadMessage returns is final: the socket is closed, and later
// calls return the same error. The session reconnects.
//
// # Latency and allocation
//
// In steady state ReadMessage allocates nothing, takes no lock, and makes no
// syscall but the socket read (plus, with an IdleTimeout, a read-deadline
// update at most once per IdleTimeout/8). Each message carries RecvNs, the
// [Nanotime] just after the socket read that delivered its last byte: the
// engine measures handling latency from there with the same clock.
//
// # Writing
//
// [Conn.WriteText] and [Conn.Close] may be called from any goroutine,
// concurrently with ReadMessage. Writes are serialised by a mutex, masked with
// a fresh key from a ChaCha8 generator seeded from crypto/rand, built in a
// reused buffer (the caller's bytes are never modified), and bounded by
// [Options.WriteTimeout]. A pong the reader owes waits at most that long. A
// failed write leaves a partial frame on the wire, so it closes the connection.
//
// # Stats
//
// [Conn.Stats] returns counters (frames and bytes by opcode, messages, pings,
// pongs, closes, protocol errors, oversize messages) that any goroutine may
// read at any time; they are updated with atomic adds.
package wsconn
