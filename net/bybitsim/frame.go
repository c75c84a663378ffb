package bybitsim

import "github.com/gobwas/ws"

// appendFrameHeader appends an unmasked (server-to-client) RFC 6455 frame
// header for a payload of n bytes.
func appendFrameHeader(dst []byte, op ws.OpCode, fin bool, n int) []byte {
	b0 := byte(op)
	if fin {
		b0 |= 0x80
	}
	switch {
	case n < 126:
		return append(dst, b0, byte(n))
	case n <= 0xffff:
		return append(dst, b0, 126, byte(n>>8), byte(n))
	}
	u := uint64(n)
	return append(dst, b0, 127,
		byte(u>>56), byte(u>>48), byte(u>>40), byte(u>>32),
		byte(u>>24), byte(u>>16), byte(u>>8), byte(u))
}

// appendFrame appends p as one message. With frag > 0 a data message longer
// than frag is split into a first frame and continuation frames of frag
// bytes; pingInside puts a ping control frame after the first fragment
// (RFC 6455 allows control frames between fragments).
func appendFrame(dst []byte, op ws.OpCode, p []byte, frag int, pingInside bool) []byte {
	if frag <= 0 || len(p) <= frag || op.IsControl() {
		dst = appendFrameHeader(dst, op, true, len(p))
		return append(dst, p...)
	}
	for off := 0; off < len(p); off += frag {
		end := min(off+frag, len(p))
		o := ws.OpContinuation
		if off == 0 {
			o = op
		}
		dst = appendFrameHeader(dst, o, end == len(p), end-off)
		dst = append(dst, p[off:end]...)
		if off == 0 && pingInside {
			dst = appendFrameHeader(dst, ws.OpPing, true, len(fragPing))
			dst = append(dst, fragPing...)
		}
	}
	return dst
}

const fragPing = "frag"

// appendClose appends a close frame with a status code and reason.
func appendClose(dst []byte, code ws.StatusCode, reason string) []byte {
	if len(reason) > 123 {
		reason = reason[:123]
	}
	dst = appendFrameHeader(dst, ws.OpClose, true, 2+len(reason))
	dst = append(dst, byte(code>>8), byte(code))
	return append(dst, reason...)
}
