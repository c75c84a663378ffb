package parse

import (
	"bytes"
	"unicode/utf8"

	"github.com/valyala/fastjson"
)

// Sink hands out the slots Parse writes events into, typically the next free
// slots of a ring. Next returns nil when there is no room; Parse then stops
// with ErrNoRoom.
type Sink interface {
	Next() *Event
}

// Class is the broad class of a message.
type Class uint8

const (
	ClassNone Class = iota
	ClassData       // a topic message: events were written
	ClassOp         // a control message: ack, failure, pong
)

// Op is the operation a control message answers.
type Op uint8

const (
	OpNone        Op = iota
	OpSubscribe      // subscribe ack or failure
	OpUnsubscribe    // unsubscribe ack or failure
	OpPing           // "op":"ping" whose ret_msg is not "pong" (not seen in practice)
	OpPong           // ret_msg == "pong" (spot/linear/inverse) or op == "pong" (option)
	OpCommand        // option/spread "type":"COMMAND_RESP" without "op": subscribe or unsubscribe
	OpUnknown        // any other op (auth, …)
)

var opNames = [...]string{"none", "subscribe", "unsubscribe", "ping", "pong", "command", "unknown"}

func (o Op) String() string {
	if int(o) < len(opNames) {
		return opNames[o]
	}
	return "op(" + itoa(int(o)) + ")"
}

// Result describes one parsed frame.
//
// The []byte fields and the topics returned by SuccessTopic/FailTopic point
// into the Parser's buffer: they are valid until the next Parse on the same
// Parser and must not be kept or passed to another goroutine; copy them.
type Result struct {
	Class Class
	Kind  Kind // ClassData: the topic's kind
	// Depth and Interval name the stream of a data message (KindBook,
	// KindKline), so a caller that drops it can mark that stream alone.
	Depth    uint16
	Interval Interval
	// Sym is the symbol of a data message (for an option trade batch the
	// first written; with ErrNoRoom the one that did not fit), NoSymbol if
	// unknown.
	Sym uint32
	// Events is the number of events written. A frame is read whole
	// before its first slot is taken, so on an error other than ErrNoRoom
	// no slot has been taken; on ErrNoRoom these are whole events
	// (trades, candles, or the first parts of a split book).
	Events int
	// Skipped counts trades of an option batch ("publicTrade.BTC") whose
	// symbol is not registered: they are skipped, not an error, unless
	// no trade at all was written.
	Skipped int

	Op      Op   // ClassOp
	Success bool // "success"; true for an option pong, which carries none
	ReqID   []byte
	RetMsg  []byte // unescaped: `args size \u003e10` reads "args size >10"
	ConnID  []byte
	// ServerMs is the server time an option pong carries in args[0], 0
	// when absent or not an integer.
	ServerMs int64
	// SuccessTopics and FailTopics count the option COMMAND_RESP topics.
	SuccessTopics, FailTopics int

	succ, fail []*fastjson.Value
}

// SuccessTopic returns the i-th topic of an option COMMAND_RESP's
// data.successTopics (0 ≤ i < SuccessTopics).
func (r *Result) SuccessTopic(i int) []byte { return topicAt(r.succ, i) }

// FailTopic returns the i-th topic of data.failTopics (0 ≤ i < FailTopics).
func (r *Result) FailTopic(i int) []byte { return topicAt(r.fail, i) }

func topicAt(vs []*fastjson.Value, i int) []byte {
	if uint(i) >= uint(len(vs)) {
		return nil
	}
	b, _ := vs[i].StringBytes() // checked to be strings during Parse
	return b
}

// Default limits; see WithMaxLevels and WithMaxItems.
const (
	DefaultMaxLevels = 2048 // per side: a depth-1000 snapshot has 1000, a delta can hold more
	DefaultMaxItems  = 4096 // trades or candles per frame: Bybit splits trade bursts at 1,024
)

// Option configures a Parser.
type Option func(*Parser)

// WithMaxLevels sets the most levels accepted per book side; more is
// ErrTooMany. It panics if n < 1.
func WithMaxLevels(n int) Option {
	if n < 1 {
		panic("parse: WithMaxLevels: n must be ≥ 1, got " + itoa(n))
	}
	return func(p *Parser) { p.maxLevels = n }
}

// WithMaxItems sets the most trades, candles or ticker objects accepted in
// one frame; more is ErrTooMany. It panics if n < 1.
func WithMaxItems(n int) Option {
	if n < 1 {
		panic("parse: WithMaxItems: n must be ≥ 1, got " + itoa(n))
	}
	return func(p *Parser) { p.maxItems = n }
}

// Parser turns Bybit v5 public WebSocket text frames into Events. It reads
// data frames in a single pass and holds a reused fastjson.Parser for the
// rest (see the package doc); once its scratch and caches have grown to the
// largest frame seen, Parse allocates nothing.
//
// A Parser is not safe for concurrent use: use one per reader goroutine.
type Parser struct {
	fj        fastjson.Parser
	syms      *Symbols
	maxLevels int
	maxItems  int
	num       [64]byte // scratch for the raw text of numbers and decimal strings

	// The single-pass path's scratch (fast.go), grown to the largest
	// frame seen.
	lv      []Level // book levels: bids, then asks from nb on
	nb      int
	cand    []Candle
	tick    []Ticker
	trd     []tradeScratch
	skipped int // option trades skipped

	// Key prediction (keys.go): the envelope before its topic, the
	// envelope of each kind after it, and each data object.
	envOrder                                    [KindTrade + 1]keyOrder
	bookOrder, candleOrder, tickOrder, trdOrder keyOrder
	symMemo                                     [64]uint32 // see symbol: id+1, 0 empty
}

// NewParser returns a Parser resolving symbols in syms. It panics if syms is
// nil.
func NewParser(syms *Symbols, opts ...Option) *Parser {
	if syms == nil {
		panic("parse: NewParser: nil *Symbols")
	}
	p := &Parser{syms: syms, maxLevels: DefaultMaxLevels, maxItems: DefaultMaxItems}
	for _, o := range opts {
		o(p)
	}
	return p
}

// header holds the frame-level fields copied into every event.
type header struct {
	ts, cts, seq int64
	recvNs       int64
	flags        Flags
}

// Parse parses one text frame. For a data message it writes one or more
// events into slots obtained from sink, in order (see Flags for how a
// message maps to events); for a control message it fills the Op part of
// the Result and writes nothing (sink may then be nil). recvNs is copied
// into every event.
//
// Errors are *Error values naming the field; the Parser stays usable for
// the next frame. The frame is read whole before the first slot is taken,
// so only ErrNoRoom leaves slots taken (whole events, see Result.Events); a
// caller that needs a message all-or-nothing (a split book snapshot)
// publishes them only when err is nil.
//
// frame is not retained. Parse does not allocate in steady state.
func (p *Parser) Parse(frame []byte, recvNs int64, sink Sink) (r Result, err error) {
	err = p.ParseTo(&r, frame, recvNs, sink)
	return r, err
}

// ParseTo is Parse writing the Result into *r (all of it: whatever r held
// is overwritten) instead of returning it. In a loop over many frames it
// spares the caller a copy of the whole Result per frame: right after the
// parser's narrower stores to the same bytes, that copy stalled on store
// forwarding (~60 ns a frame in the CPU profile of
// BenchmarkReplay/replay-8/ringfeed). The single-pass path writes the
// Result in place for the same reason.
func (p *Parser) ParseTo(r *Result, frame []byte, recvNs int64, sink Sink) error {
	*r = Result{}
	if ok, err := p.fastParse(frame, recvNs, sink, r); ok {
		return err
	}
	var err error
	*r, err = p.parseTree(frame, recvNs, sink)
	return err
}

// parseTree parses frame through fastjson's value tree: every frame the
// single-pass path does not take, and the one that names errors.
func (p *Parser) parseTree(frame []byte, recvNs int64, sink Sink) (Result, error) {
	r := Result{Sym: NoSymbol}
	v, err := p.fj.ParseBytes(frame)
	if err != nil {
		// fastjson's error allocates; acceptable, bad frames are rare.
		return r, fail(fFrame, ErrSyntax)
	}
	if v.Type() != fastjson.TypeObject {
		return r, fail(fFrame, ErrType)
	}
	o, _ := v.Object()
	tv := o.Get("topic")
	if tv == nil {
		r.Class = ClassOp
		return r, p.parseOp(o, &r)
	}
	r.Class = ClassData
	topic, err := strValue(tv, fTopic)
	if err != nil {
		return r, err
	}
	ti, err := ParseTopic(topic)
	if err != nil {
		if !utf8.Valid(topic) {
			return r, fail(fTopic, ErrUTF8)
		}
		return r, fail(fTopic, err)
	}
	r.Kind, r.Depth, r.Interval = ti.Kind, ti.Depth, ti.Interval
	var h header
	h.recvNs = recvNs
	if h.ts, err = p.intField(o, "ts", fTS, true); err != nil {
		return r, err
	}
	switch ti.Kind {
	case KindBook:
		err = p.parseBook(o, &ti, &h, sink, &r)
	case KindKline:
		err = p.parseKline(o, &ti, &h, sink, &r)
	case KindTicker:
		err = p.parseTicker(o, &ti, &h, sink, &r)
	case KindTrade:
		err = p.parseTrades(o, &ti, &h, sink, &r)
	}
	return r, err
}

// next takes a slot from sink.
func next(sink Sink) (*Event, error) {
	if sink == nil {
		return nil, fail(fSink, ErrNoRoom)
	}
	ev := sink.Next()
	if ev == nil {
		return nil, fail(fSink, ErrNoRoom)
	}
	return ev, nil
}

// setHeader writes the header common to all kinds and clears the
// kind-specific header fields.
func setHeader(ev *Event, k Kind, sym uint32, h *header) {
	ev.Kind = k
	ev.Flags = h.flags
	ev.Interval = IntervalNone
	ev.Depth = 0
	ev.NBids = 0
	ev.NAsks = 0
	ev.Sym = sym
	ev.RecvNs = h.recvNs
	ev.TS = h.ts
	ev.CTS = h.cts
	ev.U = 0
	ev.Seq = h.seq
}

// lookup resolves a symbol name from the frame.
func (p *Parser) lookup(name []byte, f field) (uint32, error) {
	if id, ok := p.syms.Lookup(name); ok {
		return id, nil
	}
	if !utf8.Valid(name) {
		return NoSymbol, fail(f, ErrUTF8)
	}
	return NoSymbol, fail(f, ErrUnknownSymbol)
}

// checkSym verifies that a symbol named inside data matches the topic's.
func checkSym(v *fastjson.Value, topicSym []byte, f field) error {
	s, err := strValue(v, f)
	if err != nil {
		return err
	}
	if !bytes.Equal(s, topicSym) {
		if !utf8.Valid(s) {
			return fail(f, ErrUTF8)
		}
		return fail(f, ErrMismatch)
	}
	return nil
}

// preamble is the start of a book or ticker message: the topic's symbol
// (into r.Sym), the required "type", one optional integer member (cts,
// cs) into dst, and "data", which must be present.
func (p *Parser) preamble(o *fastjson.Object, ti *TopicInfo, r *Result, flags *Flags, key string, f field, dst *int64) (uint32, *fastjson.Value, error) {
	id, err := p.lookup(ti.Symbol, fTopic)
	if err != nil {
		return id, nil, err
	}
	r.Sym = id
	if *flags, err = typeFlags(o, true); err != nil {
		return id, nil, err
	}
	if *dst, err = p.intField(o, key, f, false); err != nil {
		return id, nil, err
	}
	dv := o.Get("data")
	if dv == nil {
		return id, nil, fail(fData, ErrMissing)
	}
	return id, dv, nil
}

// typeFlags reads "type": "snapshot" or "delta".
func typeFlags(o *fastjson.Object, required bool) (Flags, error) {
	v := o.Get("type")
	if v == nil {
		if required {
			return 0, fail(fType, ErrMissing)
		}
		return 0, nil
	}
	b, err := strValue(v, fType)
	if err != nil {
		return 0, err
	}
	switch string(b) {
	case "snapshot":
		return Snapshot, nil
	case "delta":
		return 0, nil
	}
	return 0, fail(fType, ErrSyntax)
}

// strValue returns the bytes of a JSON string (unescaped in place by
// fastjson, without allocating).
func strValue(v *fastjson.Value, f field) ([]byte, error) {
	if v.Type() != fastjson.TypeString {
		return nil, fail(f, ErrType)
	}
	b, _ := v.StringBytes()
	return b, nil
}

// intField reads an unsigned JSON integer member of o; absent is 0 unless
// required.
func (p *Parser) intField(o *fastjson.Object, key string, f field, required bool) (int64, error) {
	v := o.Get(key)
	if v == nil {
		if required {
			return 0, fail(f, ErrMissing)
		}
		return 0, nil
	}
	return p.intValue(v, f)
}

// intValue checks every byte of a JSON number itself: fastjson lets "1e5",
// "1.0", "-0", "+1" and "NaN" through as numbers.
func (p *Parser) intValue(v *fastjson.Value, f field) (int64, error) {
	if v.Type() != fastjson.TypeNumber {
		return 0, fail(f, ErrType)
	}
	n, err := parseUint(v.MarshalTo(p.num[:0]))
	if err != nil {
		return 0, fail(f, err)
	}
	return n, nil
}

func boolValue(v *fastjson.Value, f field) (bool, error) {
	switch v.Type() {
	case fastjson.TypeTrue:
		return true, nil
	case fastjson.TypeFalse:
		return false, nil
	}
	return false, fail(f, ErrType)
}

// quoted returns the JSON text between the quotes of string v, escapes
// not decoded, in the Parser's scratch buffer (valid until the next call).
//
// Decimal fields are read this way instead of through StringBytes:
// StringBytes first scans every string for escapes, which was 22% of a
// 1000-level snapshot's CPU profile. The decimal parser rejects a backslash
// anyway, so only then is the string unescaped and parsed again (unescaped).
func (p *Parser) quoted(v *fastjson.Value, f field) ([]byte, error) {
	b := v.MarshalTo(p.num[:0])
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return nil, fail(f, ErrType)
	}
	return b[1 : len(b)-1], nil
}

// unescaped reports whether a conversion of raw text that failed with err
// deserves a second try on the unescaped string, and returns that string.
func unescaped(v *fastjson.Value, raw []byte, err error) ([]byte, bool) {
	if err != ErrSyntax || bytes.IndexByte(raw, '\\') < 0 {
		return nil, false
	}
	b, _ := v.StringBytes()
	return b, true
}

// decValue converts a JSON string holding a decimal.
func (p *Parser) decValue(v *fastjson.Value, scale int, signed bool, f field) (int64, error) {
	raw, err := p.quoted(v, f)
	if err != nil {
		return 0, err
	}
	n, err := parseDecimal(raw, scale, signed)
	if err != nil {
		if b, ok := unescaped(v, raw, err); ok {
			n, err = parseDecimal(b, scale, signed)
		}
		if err != nil {
			return 0, fail(f, err)
		}
	}
	return n, nil
}

// dataArray returns o["data"] as an array.
func dataArray(o *fastjson.Object, max int) ([]*fastjson.Value, error) {
	v := o.Get("data")
	if v == nil {
		return nil, fail(fData, ErrMissing)
	}
	if v.Type() != fastjson.TypeArray {
		return nil, fail(fData, ErrType)
	}
	a, _ := v.Array()
	if len(a) > max {
		return nil, fail(fData, ErrTooMany)
	}
	return a, nil
}

// parseOp fills r from a control message (no "topic").
func (p *Parser) parseOp(o *fastjson.Object, r *Result) error {
	var op, typ []byte
	var err error
	if v := o.Get("op"); v != nil {
		if op, err = strValue(v, fOp); err != nil {
			return err
		}
	}
	hasSuccess := false
	if v := o.Get("success"); v != nil {
		if r.Success, err = boolValue(v, fSuccess); err != nil {
			return err
		}
		hasSuccess = true
	}
	if v := o.Get("type"); v != nil {
		if typ, err = strValue(v, fType); err != nil {
			return err
		}
	}
	for _, m := range [...]struct {
		key string
		f   field
		dst *[]byte
	}{{"ret_msg", fRetMsg, &r.RetMsg}, {"conn_id", fConnID, &r.ConnID}, {"req_id", fReqID, &r.ReqID}} {
		if v := o.Get(m.key); v != nil {
			if *m.dst, err = strValue(v, m.f); err != nil {
				return err
			}
		}
	}
	isCmd := string(typ) == "COMMAND_RESP"
	switch string(op) {
	case "subscribe":
		r.Op = OpSubscribe
	case "unsubscribe":
		r.Op = OpUnsubscribe
	case "ping":
		r.Op = OpPing
	case "pong":
		r.Op = OpPong
	case "":
		switch {
		case isCmd:
			r.Op = OpCommand
		case !hasSuccess && o.Get("op") == nil:
			// Neither a topic nor anything a control message carries.
			return fail(fTopic, ErrMissing)
		default:
			r.Op = OpUnknown
		}
	default:
		r.Op = OpUnknown
	}
	// Spot/linear/inverse answer a ping with op "ping" and ret_msg "pong".
	if string(r.RetMsg) == "pong" {
		r.Op = OpPong
	}
	if r.Op == OpPong {
		if !hasSuccess {
			r.Success = true
		}
		if args := o.Get("args"); args != nil && args.Type() == fastjson.TypeArray {
			if a, _ := args.Array(); len(a) > 0 && a[0].Type() == fastjson.TypeString {
				b, _ := a[0].StringBytes()
				if n, err := parseUint(b); err == nil {
					r.ServerMs = n
				}
			}
		}
	}
	if isCmd {
		if d := o.Get("data"); d != nil {
			if d.Type() != fastjson.TypeObject {
				return fail(fData, ErrType)
			}
			do, _ := d.Object()
			if r.succ, err = topicList(do, "successTopics", fSuccessTopics, p.maxItems); err != nil {
				return err
			}
			if r.fail, err = topicList(do, "failTopics", fFailTopics, p.maxItems); err != nil {
				return err
			}
			r.SuccessTopics, r.FailTopics = len(r.succ), len(r.fail)
		}
	}
	return nil
}

func topicList(o *fastjson.Object, key string, f field, max int) ([]*fastjson.Value, error) {
	v := o.Get(key)
	if v == nil {
		return nil, nil
	}
	if v.Type() != fastjson.TypeArray {
		return nil, fail(f, ErrType)
	}
	a, _ := v.Array()
	if len(a) > max {
		return nil, fail(f, ErrTooMany)
	}
	for _, t := range a {
		if t.Type() != fastjson.TypeString {
			return nil, fail(f, ErrType)
		}
	}
	return a, nil
}
