// Package capture reads and writes ringfeed's capture files: the raw
// WebSocket text frames a connection received, each with its receive time,
// as `ringfeed --record` writes them and `ringfeed replay` reads them.
//
// # Format
//
// A capture is the magic line Magic ("RINGFEED-CAPTURE-1\n") followed by
// records of
//
//	recvUnixNs int64 | length uint32 | frame bytes
//
// little endian, nothing between records and no trailer, so a file cut
// anywhere (a killed recorder, a full disk) holds every record before the
// cut intact: Reader returns them and reports the incomplete tail with
// Truncated. Receive times are wall-clock nanoseconds derived from the
// monotonic receive clock, so intervals between frames are exact. A
// capture may be zstd-compressed as a whole (the name ends in ".zst"
// when Writer makes it); Reader recognises zstd by its magic number.
//
// Reader also reads NDJSON: one raw Bybit frame per line, the format other
// tools record; a line "<ns> {…}" (a receive time, a space, the frame) or
// {"recv_ns":<ns>,"data":{…}} (what `ringfeed export --format ndjson`
// writes) carries a receive time.
//
// # Concurrency and allocation
//
// Ring is the one concurrent type: a single-producer single-consumer byte
// ring a connection's reader copies frames into without ever waiting or
// allocating (a frame that does not fit is dropped and counted). Writer
// and Reader belong to one goroutine each. Reader.Next does not allocate
// in steady state; the frame it returns aliases its buffer (or the file's
// memory mapping) and is valid until the next call.
package capture

import "errors"

// Magic is the first line of an uncompressed capture.
const Magic = "RINGFEED-CAPTURE-1\n"

// MaxFrame bounds one record's frame: a length above it is corruption,
// never an allocation.
const MaxFrame = 64 << 20

// headerSize is a record's header: receive time and length.
const headerSize = 12

// Frame is one recorded WebSocket text message.
type Frame struct {
	RecvUnixNs int64 // 0 when the source had no receive times (plain NDJSON)
	Data       []byte
}

// ErrCorrupt is returned by Reader.Next for a record whose length cannot
// be right (above MaxFrame).
var ErrCorrupt = errors.New("capture: corrupt record")
