package ringfeed

import (
	"context"
	"errors"
	"io"
	"sort"
	"strconv"
	"time"
	"unsafe"

	"github.com/valyala/fastjson"

	"github.com/ringfeed/ringfeed/capture"
	"github.com/ringfeed/ringfeed/net/wsconn"
	"github.com/ringfeed/ringfeed/parse"
)

// Dump is the engine's final state in the admin API's shapes.
type Dump struct {
	Books   []BookView   `json:"books"`
	Klines  []KlinesView `json:"klines"`
	Tickers []TickerView `json:"tickers"`
	// Trades holds each symbol's trade tape, newest first.
	Trades []TradesView `json:"trades,omitempty"`
}

// ReplayResult summarises a replay.
type ReplayResult struct {
	Frames      int
	ParseErrors int
	// Skipped counts frames left out: topics replay does not know (a
	// stream Bybit added since, such as liquidations) and topics or
	// symbols the configuration does not name. They are not errors.
	Skipped int
	// UnknownTopics lists the distinct unknown topics seen (at most
	// maxUnknownTopics).
	UnknownTopics []string
	// Truncated holds a warning for each input that ended inside a
	// record: every complete frame before the cut was replayed.
	Truncated []error
	Elapsed   time.Duration
	Stats     Stats
	Dump      Dump

	shared int // frames the processor parsed (rawFrames), for tests
}

// maxUnknownTopics bounds ReplayResult.UnknownTopics.
const maxUnknownTopics = 20

// replayBatch is how many frames the replay feeder parses between
// publishes. Publishing (and waking the processor) after every frame made
// the two goroutines trade the ring's cache lines ~200,000 times a second;
// a batch of 64 frames (~50 µs of parsing) keeps the processor busy on
// the previous batch while the next is parsed (BenchmarkReplay/replay-8).
const replayBatch = 64

// replayRingSize is the replay's ring: small enough that the slots the
// two goroutines hand back and forth stay in their caches (8,192 slots
// of 1 KiB, the live default, do not: 8 MiB), large enough for several
// batches above rawLowWater so the processor rarely runs dry (512 to
// 4,096 slots measured within noise of each other with rawLowWater at a
// quarter of the ring; 2,048 is kept).
var replayRingSize = 2048

// MsgsPerSec is the replay's throughput: messages applied per second of
// wall time from the first frame fed to the last one applied.
func (r ReplayResult) MsgsPerSec() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Stats.Messages) / r.Elapsed.Seconds()
}

// StaleBooks counts books that ended stale.
func (r ReplayResult) StaleBooks() int {
	n := 0
	for _, b := range r.Dump.Books {
		if b.Stale {
			n++
		}
	}
	return n
}

// FrameSource yields a replay's frames in order: Next returns io.EOF after
// the last one. A frame's Data need only stay valid until the next call
// (capture.Reader's contract); the replay does not retain it.
type FrameSource interface {
	Next() (Frame, error)
}

type sliceSource struct {
	frames []Frame
	i      int
}

func (s *sliceSource) Next() (Frame, error) {
	if s.i == len(s.frames) {
		return Frame{}, io.EOF
	}
	s.i++
	return s.frames[s.i-1], nil
}

// fileSource streams capture files one after the other, collecting a
// warning for each that was cut off.
type fileSource struct {
	paths []string
	r     *capture.Reader
	warn  []error
}

func (s *fileSource) Next() (Frame, error) {
	for {
		if s.r == nil {
			if len(s.paths) == 0 {
				return Frame{}, io.EOF
			}
			r, err := capture.Open(s.paths[0])
			if err != nil {
				return Frame{}, err
			}
			s.r = r
		}
		f, err := s.r.Next()
		if err == nil {
			return f, nil
		}
		if !errors.Is(err, io.EOF) {
			return Frame{}, &replayInputError{s.paths[0], err}
		}
		if t := s.r.Truncated(); t != nil {
			s.warn = append(s.warn, &replayInputError{s.paths[0], t})
		}
		s.r.Close()
		s.r, s.paths = nil, s.paths[1:]
	}
}

func (s *fileSource) Close() error {
	if s.r != nil {
		return s.r.Close()
	}
	return nil
}

// replayInputError names the file a read error or warning is about.
type replayInputError struct {
	path string
	err  error
}

func (e *replayInputError) Error() string { return e.path + ": " + e.err.Error() }
func (e *replayInputError) Unwrap() error { return e.err }

// Replay feeds frames through the same pipeline a live connection uses
// (parser → ring → processor) on one connection and one processor, so the
// result is deterministic, and returns the figures and the final state.
// Symbols and topics the config does not name are discovered from the
// frames. speed 0 replays as fast as possible; otherwise frames with
// receive times are paced at speed × real time. Receive times for latency
// are taken as frames are fed, once per batch as a live reader takes one
// per socket read.
func Replay(ctx context.Context, cfg Config, frames []Frame, speed float64) (ReplayResult, error) {
	return ReplaySource(ctx, cfg, func() (FrameSource, error) { return &sliceSource{frames: frames}, nil }, speed)
}

// ReplayFiles replays capture or NDJSON files (plain or zstd, see package
// capture) in order as one stream, reading them as it goes rather than
// loading them first. A file cut off inside a record is replayed up to
// the cut and reported in ReplayResult.Truncated.
func ReplayFiles(ctx context.Context, cfg Config, paths []string, speed float64) (ReplayResult, error) {
	return ReplaySource(ctx, cfg, func() (FrameSource, error) { return &fileSource{paths: paths}, nil }, speed)
}

// ReplaySource is Replay over frames from open, which is called once to
// discover symbols and topics when the config does not name them, and
// once for the replay. A source with a Close method is closed after each
// pass.
func ReplaySource(ctx context.Context, cfg Config, open func() (FrameSource, error), speed float64) (ReplayResult, error) {
	var res ReplayResult
	if len(cfg.Symbols) == 0 || len(cfg.Topics) == 0 {
		src, err := open()
		if err != nil {
			return res, err
		}
		d := newDiscovery(cfg.Category)
		err = d.run(src)
		closeSource(src)
		if err != nil {
			return res, err
		}
		syms, topics := d.result()
		if len(cfg.Symbols) == 0 {
			cfg.Symbols = syms
		}
		if len(cfg.Topics) == 0 {
			cfg.Topics = topics
		}
	}
	cfg.Admin = "off"
	cfg.NoKlineHistory = true
	cfg.Record = ""
	cfg.Processors = 1
	// A replay must not drop: the feeder waits for the processor as long
	// as it takes, so every run applies every frame.
	cfg.RingFullWait = time.Hour
	// One connection, so one reader parses and one processor applies,
	// each on a core of its own, and the processor parses the frames the
	// reader hands it unparsed (rawFrames). (Two readers, each parsing
	// half of the symbols, ran at a fifth of one reader's rate with other
	// jobs on the 2-core machine: three busy goroutines on two cores.)
	cfg.SymbolsPerConn = max(1, len(cfg.Symbols))
	if cfg.RingSize == 0 {
		cfg.RingSize = replayRingSize
	}
	cfg.replay = true
	e, err := New(cfg)
	if err != nil {
		return res, err
	}
	src, err := open()
	if err != nil {
		return res, err
	}
	defer closeSource(src)
	f := &replayFeed{e: e, c: e.conns[0], src: src, want: newTopicFilter(e.cfg.Topics), speed: speed}
	f.c.feed = f.run
	if speed == 0 && rawShare {
		// As fast as possible: the processor takes a share of the parsing
		// (rawFrames). A paced replay keeps the live division of work.
		f.c.raw = newRawFrames(e.syms, f.want)
	}
	start := time.Now()
	err = e.Run(ctx)
	res.Elapsed = time.Since(start)
	if err != nil {
		return res, err
	}
	if f.err != nil {
		return res, f.err
	}
	res.Frames, res.ParseErrors, res.Skipped = f.res.Frames, f.res.ParseErrors, f.res.Skipped
	unknown := f.unknown
	if raw := f.c.raw; raw != nil {
		res.ParseErrors += raw.parseErrors
		res.Skipped += raw.skipped
		res.shared = raw.frames
		unknown = mergeUnknown(unknown, raw.unknown)
	}
	for _, u := range unknown {
		res.UnknownTopics = append(res.UnknownTopics, u.topic)
	}
	if w, ok := src.(interface{ warnings() []error }); ok {
		res.Truncated = w.warnings()
	}
	res.Stats = e.Stats()
	res.Dump = e.Dump(context.Background())
	return res, nil
}

// replayFeed is a replay's reader: it parses the frames of src into the
// connection's ring, publishing once per batch. When the ring runs low
// (the processor is about to wait for it) it copies the next batch's
// frames into their slots unparsed instead, for the processor to parse
// (rawFrames): parsing is most of a replay's work, and this way both
// goroutines, one on each core, do their share of it in frame order.
type replayFeed struct {
	e     *Engine
	c     *connection
	src   FrameSource
	want  *topicFilter
	speed float64
	res   ReplayResult // Frames, ParseErrors, Skipped
	// unknown lists the distinct unknown topics the reader saw (at most
	// maxUnknownTopics) with the frame each was first seen in.
	unknown []unknownTopic
	err     error // a read error
}

func (f *replayFeed) run(ctx context.Context) error {
	p := parse.NewParser(f.e.syms)
	sink := f.c.sink
	sink.Reset()
	res := &f.res
	var first, base, now int64
	var r parse.Result
	raw := false // hand this batch's frames to the processor unparsed
	for n := 0; ; n++ {
		fr, err := f.src.Next()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				f.err = err
			}
			return nil
		}
		if n%replayBatch == 0 {
			if ctx.Err() != nil {
				return nil
			}
			sink.Flush()
			now = wsconn.Nanotime()
			raw = f.c.raw != nil && f.c.ring.Len() < rawLowWater
		}
		res.Frames++
		if f.speed > 0 && fr.RecvUnixNs != 0 {
			if first == 0 {
				first, base = fr.RecvUnixNs, wsconn.Nanotime()
			}
			due := base + int64(float64(fr.RecvUnixNs-first)/f.speed)
			if d := due - wsconn.Nanotime(); d > 0 {
				sink.Flush()
				time.Sleep(time.Duration(d))
			}
			now = wsconn.Nanotime()
		}
		if raw && len(fr.Data) <= rawMax {
			if e := sink.Next(); e != nil {
				e.Kind = kindRaw
				e.Flags = parse.First | parse.Last
				e.Sym = parse.NoSymbol
				e.RecvNs = now
				e.U = int64(len(fr.Data))
				e.Seq = int64(n)
				copy(rawBytes(e), fr.Data)
				sink.Commit()
				continue
			}
			// No slot (the ring closed): the parse below meets the
			// same and handles it as a live reader does.
		}
		err = p.ParseTo(&r, fr.Data, now, sink)
		switch {
		case err == nil && (r.Class != parse.ClassData || f.want.has(&r)):
			sink.Commit()
		case err == nil, errors.Is(err, parse.ErrUnknownSymbol):
			sink.Abort(parse.Result{}, nil) // roll back, no drop marker
			res.Skipped++
		case errors.Is(err, parse.ErrUnknownTopic):
			sink.Abort(parse.Result{}, nil)
			res.Skipped++
			f.unknown = addUnknown(f.unknown, n, fr.Data)
		default:
			res.ParseErrors++
			sink.Abort(r, err)
		}
	}
}

// rawShare turns on the processor's share of a full-speed replay's
// parsing (rawFrames). A variable so benchmarks and tests can compare.
var rawShare = true

// rawLowWater is the ring occupancy, in slots, under which the replay
// reader hands the next batch's frames to the processor unparsed: the
// processor is about to run out of parsed work, so it parses those
// itself, while the reader parses the batches after them. Both cores
// stay busy, each with as much of the parsing as the other leaves it.
var rawLowWater = 512

// rawMax is the largest frame handed to the processor unparsed: the bytes
// a slot's Levels array holds. Larger frames (book snapshots) are parsed
// by the reader.
const rawMax = int(unsafe.Sizeof(parse.Event{}.Levels))

// rawBytes is a slot's Levels array as bytes: where a kindRaw event
// carries its frame (U bytes long). parse.Event holds no pointers, so the
// bytes are plain data in the ring's preallocated slot.
func rawBytes(e *parse.Event) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(&e.Levels)), rawMax)
}

// rawFrames is the processor's side of a replay's shared parsing: it
// parses each kindRaw slot with a parser of its own into its own slots
// and applies what the reader would have committed, counting what the
// reader would have counted. Processor goroutine only; the replay reads
// the counts after the processor has stopped.
type rawFrames struct {
	p    *parse.Parser
	want *topicFilter
	ev   []parse.Event // rawSlots events, allocated once
	n    int           // handed out for the current frame
	res  parse.Result  // the current frame's

	frames, skipped, parseErrors int
	unknown                      []unknownTopic
}

// rawSlots bounds the events one raw frame may produce: a frame of at most
// rawMax bytes holds far fewer (a book event takes ≥ 32 levels of ≥ 9
// bytes or the whole rest of the frame; a trade or candle object tens of
// bytes). A frame that needed more would end in ErrNoRoom and be counted
// as the reader counts a message it had no room for.
const rawSlots = 64

func newRawFrames(syms *parse.Symbols, want *topicFilter) *rawFrames {
	return &rawFrames{p: parse.NewParser(syms), want: want, ev: make([]parse.Event, rawSlots)}
}

// Next implements parse.Sink. The stage stamps of these slots stay zero,
// so the latency-by-stage histograms (whose stages are the reader's) skip
// them; their handling latency is recorded as for any message.
func (r *rawFrames) Next() *parse.Event {
	if r.n == len(r.ev) {
		return nil
	}
	r.n++
	return &r.ev[r.n-1]
}

// apply parses raw event ev of connection c and applies the result, as
// the reader's loop would have committed or dropped it.
func (r *rawFrames) apply(p *processor, c *connection, ev *parse.Event) {
	r.n = 0
	r.frames++
	frame := rawBytes(ev)[:ev.U]
	res := &r.res
	err := r.p.ParseTo(res, frame, ev.RecvNs, r)
	switch {
	case err == nil && (res.Class != parse.ClassData || r.want.has(res)):
		for i := range r.n {
			p.apply(c, &r.ev[i])
		}
		// drain counts the raw slot as one event; it stands for these.
		p.nEvents += uint64(r.n) - 1
	case err == nil, errors.Is(err, parse.ErrUnknownSymbol):
		r.skipped++
		p.nEvents-- // the raw slot stood for no event
	case errors.Is(err, parse.ErrUnknownTopic):
		r.skipped++
		r.unknown = addUnknown(r.unknown, int(ev.Seq), frame)
		p.nEvents--
	default:
		// As ringSink.Abort: a data message of a known symbol leaves a
		// drop marker for its stream, applied where the reader would
		// have placed it (next in the ring).
		r.parseErrors++
		if errors.Is(err, parse.ErrNoRoom) {
			p.e.m.ringDrops.Inc()
		}
		if res.Class != parse.ClassData || res.Sym == parse.NoSymbol {
			p.nEvents--
			return
		}
		// The raw slot stands for the marker event.
		reason := uint8(markNoRoom)
		if !errors.Is(err, parse.ErrNoRoom) {
			reason = markBadInput
		}
		m := &r.ev[0]
		*m = parse.Event{Kind: kindDropped, Sym: res.Sym, Depth: res.Depth, Interval: res.Interval, Seq: int64(res.Kind), U: int64(reason)}
		p.apply(c, m)
	}
}

// replayLatEvery is how many messages a replay applies per message it
// times. A replay's handling latency is queueing (frames are fed as fast
// as the ring takes them), and timing every message (a clock read and
// five histogram records, ~150 ns) cost a tenth of the processor's time
// per message; one in 16 draws the same distribution.
const replayLatEvery = 16

// replayDone is processor.done in a replay: it counts every message and
// times one in replayLatEvery. The feed delay (exchange time to receive)
// is not recorded: the receive times are the replay's, not the capture's.
func (p *processor) replayDone(ev *parse.Event) {
	p.nApplied++
	if p.untimed++; p.untimed < replayLatEvery {
		return
	}
	p.untimed = 0
	now := wsconn.Nanotime()
	p.lat.record(now - ev.RecvNs)
	p.stage.record(ev.RecvNs, ev.ParseNs, ev.DoneNs, ev.PubNs, p.pickNs, now)
}

// unknownTopic is an unknown topic and the number of the frame it was
// first seen in, so the reader's and the processor's lists merge in
// frame order.
type unknownTopic struct {
	frame int
	topic string
}

// addUnknown adds frame's topic to list unless it is there or the list is
// full.
func addUnknown(list []unknownTopic, n int, frame []byte) []unknownTopic {
	if len(list) == maxUnknownTopics {
		return list
	}
	t := topicOf(frame, nil)
	if t == nil {
		return list
	}
	for _, u := range list {
		if u.topic == string(t) {
			return list
		}
	}
	return append(list, unknownTopic{n, string(t)})
}

// mergeUnknown merges two lists of first sightings in frame order, keeping
// each topic's first and at most maxUnknownTopics in all: each list holds
// the first sightings its side saw, so the merge holds the first ones
// overall.
func mergeUnknown(a, b []unknownTopic) []unknownTopic {
	all := append(append([]unknownTopic(nil), a...), b...)
	sort.SliceStable(all, func(i, j int) bool { return all[i].frame < all[j].frame })
	var out []unknownTopic
	seen := map[string]bool{}
	for _, u := range all {
		if !seen[u.topic] && len(out) < maxUnknownTopics {
			seen[u.topic] = true
			out = append(out, u)
		}
	}
	return out
}

func (s *fileSource) warnings() []error { return s.warn }

func closeSource(src FrameSource) {
	if c, ok := src.(io.Closer); ok {
		c.Close()
	}
}

// topicFilter says whether a parsed message is of a configured topic.
type topicFilter struct {
	depths    []uint16
	intervals [32]bool
	ticker    bool
	trade     bool
}

func newTopicFilter(topics []string) *topicFilter {
	f := &topicFilter{}
	for _, t := range topics {
		ti, err := parse.ParseTopic([]byte(t + ".X"))
		if err != nil {
			continue
		}
		switch ti.Kind {
		case parse.KindBook:
			f.depths = append(f.depths, ti.Depth)
		case parse.KindKline:
			f.intervals[ti.Interval] = true
		case parse.KindTicker:
			f.ticker = true
		case parse.KindTrade:
			f.trade = true
		}
	}
	return f
}

func (f *topicFilter) has(r *parse.Result) bool {
	switch r.Kind {
	case parse.KindBook:
		for _, d := range f.depths {
			if d == r.Depth {
				return true
			}
		}
		return false
	case parse.KindKline:
		return int(r.Interval) < len(f.intervals) && f.intervals[r.Interval]
	case parse.KindTicker:
		return f.ticker
	case parse.KindTrade:
		return f.trade
	}
	return false
}

// Dump returns every book, kline window, ticker and trade tape in the
// API's shapes.
func (e *Engine) Dump(ctx context.Context) Dump {
	var d Dump
	for _, st := range e.bySym {
		if st == nil {
			continue
		}
		for _, bs := range st.books {
			if v, err := e.Book(ctx, st.name, int(bs.depth), 0); err == nil {
				d.Books = append(d.Books, v)
			}
		}
		for _, ks := range st.klines {
			if v, err := e.Klines(ctx, st.name, ks.code, 0); err == nil {
				d.Klines = append(d.Klines, v)
			}
		}
		if st.ticker != nil {
			if v, err := e.Ticker(ctx, st.name); err == nil {
				d.Tickers = append(d.Tickers, v)
			}
		}
		if st.tape != nil {
			if v, err := e.Trades(ctx, st.name, 0); err == nil {
				d.Trades = append(d.Trades, v)
			}
		}
	}
	return d
}

// topicOf returns a frame's topic without building a value tree when the
// frame starts with it, as Bybit's do; otherwise through fj (nil: none).
func topicOf(frame []byte, fj *fastjson.Parser) []byte {
	const pre = `{"topic":"`
	if len(frame) > len(pre) && string(frame[:len(pre)]) == pre {
		for i := len(pre); i < len(frame); i++ {
			switch frame[i] {
			case '"':
				return frame[len(pre):i]
			case '\\':
				i = len(frame)
			}
		}
	}
	if fj == nil {
		return nil
	}
	v, err := fj.ParseBytes(frame)
	if err != nil {
		return nil
	}
	return v.GetStringBytes("topic")
}

// discovery lists the symbols and topic kinds a capture carries, skipping
// topics the engine cannot serve. It looks at each distinct topic once;
// only option trades (whose topic names a base coin) are opened to read
// their symbols.
type discovery struct {
	cat    Category
	fj     fastjson.Parser
	seen   map[string]bool
	syms   map[string]bool
	kinds  map[string]bool
	option bool
}

func newDiscovery(cat Category) *discovery {
	return &discovery{cat: cat, seen: map[string]bool{}, syms: map[string]bool{}, kinds: map[string]bool{}, option: cat == Option}
}

func (d *discovery) run(src FrameSource) error {
	for {
		f, err := src.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		d.frame(f.Data)
	}
}

func (d *discovery) frame(b []byte) {
	t := topicOf(b, &d.fj)
	if t == nil {
		return
	}
	if d.seen[string(t)] {
		if d.option && len(t) > 12 && string(t[:12]) == "publicTrade." {
			d.tradeSymbols(b)
		}
		return
	}
	d.seen[string(t)] = true
	ti, err := parse.ParseTopic(t)
	if err != nil {
		return
	}
	var kind string
	switch ti.Kind {
	case parse.KindBook:
		kind = "orderbook." + strconv.Itoa(int(ti.Depth))
	case parse.KindKline:
		kind = "kline." + ti.Interval.String()
	case parse.KindTicker:
		kind = "tickers"
	case parse.KindTrade:
		kind = "publicTrade"
	}
	if validTopic(d.cat, kind, true) != nil {
		return
	}
	if ti.Kind == parse.KindTrade && d.option {
		d.kinds[kind] = true
		d.tradeSymbols(b)
		return
	}
	if !validSymbol(string(ti.Symbol)) {
		return
	}
	d.kinds[kind] = true
	d.syms[string(ti.Symbol)] = true
}

// tradeSymbols adds the symbols of an option trade frame's trades.
func (d *discovery) tradeSymbols(b []byte) {
	v, err := d.fj.ParseBytes(b)
	if err != nil {
		return
	}
	for _, tr := range v.GetArray("data") {
		if s := string(tr.GetStringBytes("s")); validSymbol(s) {
			d.syms[s] = true
		}
	}
}

func (d *discovery) result() (symbols, topics []string) {
	for s := range d.syms {
		symbols = append(symbols, s)
	}
	for k := range d.kinds {
		topics = append(topics, k)
	}
	sort.Strings(symbols)
	sort.Strings(topics)
	return symbols, topics
}
