package session

import (
	"fmt"
	"strings"
	"time"

	"github.com/ringfeed/ringfeed/parse"
)

// numKinds bounds parse.Kind values used as an array index.
const numKinds = int(parse.KindTrade) + 1

// topicTable names the connection's topics by a dense index and maps a
// parsed message back to its topic without allocating.
//
// It is built once in New and read-only afterwards, so every goroutine may
// read it.
type topicTable struct {
	names   []string
	index   map[string]int
	silence []int64 // ns; 0 = no check
	// byKind[kind] lists the streams of that kind (one per depth or
	// interval); a stream maps symbol ids to topic indexes.
	byKind [numKinds][]stream
	// streams[i] names topic i's stream the way the parser does, for
	// telling the sink which stream went silent; an option trade topic
	// covers several symbols.
	streams []topicStream
	// argsChars is the topics' length as JSON array elements.
	argsChars int
}

// topicStream is the stream of one topic: its kind, depth or interval, and
// symbol ids.
type topicStream struct {
	kind  parse.Kind
	param int
	syms  []uint32
}

type stream struct {
	param int     // depth for books, parse.Interval for klines, 0 otherwise
	bySym []int32 // topic index by symbol id; -1 for none
}

// newTopicTable validates topics and builds the table. Every symbol must be
// registered in syms; an option trade topic names a base coin and covers
// every registered symbol "BASE-…".
func newTopicTable(category string, topics []string, syms *parse.Symbols, silence func(string) time.Duration) (*topicTable, error) {
	t := &topicTable{
		names:   make([]string, 0, len(topics)),
		index:   make(map[string]int, len(topics)),
		silence: make([]int64, 0, len(topics)),
	}
	for _, name := range topics {
		i := len(t.names)
		if _, dup := t.index[name]; dup {
			return nil, fmt.Errorf("session: Config.Topics: %q is listed twice", name)
		}
		if err := checkTopicBytes(name); err != nil {
			return nil, err
		}
		ti, err := parse.ParseTopic([]byte(name))
		if err != nil {
			return nil, fmt.Errorf("session: Config.Topics: %q: %w", name, err)
		}
		param := 0
		switch ti.Kind {
		case parse.KindBook:
			param = int(ti.Depth)
		case parse.KindKline:
			param = int(ti.Interval)
		}
		st := t.stream(ti.Kind, param, syms.Len())
		sym := string(ti.Symbol)
		ts := topicStream{kind: ti.Kind, param: param}
		if id, ok := syms.Lookup(ti.Symbol); ok {
			st.bySym[id] = int32(i)
			ts.syms = []uint32{id}
		} else if ti.Kind == parse.KindTrade && category == "option" {
			// publicTrade.BTC carries every BTC option's trades.
			for id := range syms.Len() {
				if strings.HasPrefix(syms.Name(uint32(id)), sym+"-") {
					st.bySym[id] = int32(i)
					ts.syms = append(ts.syms, uint32(id))
				}
			}
			if len(ts.syms) == 0 {
				return nil, fmt.Errorf("session: Config.Topics: %q: no registered symbol has base coin %q", name, sym)
			}
		} else {
			return nil, fmt.Errorf("session: Config.Topics: %q: symbol %q is not registered in Config.Symbols", name, sym)
		}
		d := silence(name)
		if d < 0 {
			d = 0
		}
		t.names = append(t.names, name)
		t.streams = append(t.streams, ts)
		t.index[name] = i
		t.silence = append(t.silence, int64(d))
		t.argsChars += len(name) + 3 // quotes and comma
	}
	if t.argsChars > MaxArgsChars {
		return nil, fmt.Errorf("session: Config.Topics: %d topics take %d characters of args, over Bybit's %d per connection: shard them over more connections",
			len(topics), t.argsChars, MaxArgsChars)
	}
	return t, nil
}

// checkTopicBytes keeps topics printable ASCII without quotes or
// backslashes, so they can be written into JSON requests verbatim.
func checkTopicBytes(name string) error {
	for i := 0; i < len(name); i++ {
		if c := name[i]; c <= ' ' || c >= 0x7f || c == '"' || c == '\\' {
			return fmt.Errorf("session: Config.Topics: %q: byte %q not allowed in a topic", name, c)
		}
	}
	return nil
}

// stream returns the stream for (kind, param), creating it.
func (t *topicTable) stream(kind parse.Kind, param, nsyms int) *stream {
	ss := t.byKind[kind]
	for i := range ss {
		if ss[i].param == param {
			return &ss[i]
		}
	}
	st := stream{param: param, bySym: make([]int32, nsyms)}
	for i := range st.bySym {
		st.bySym[i] = -1
	}
	t.byKind[kind] = append(ss, st)
	return &t.byKind[kind][len(t.byKind[kind])-1]
}

// lookup returns the topic index of a message of kind for sym, with param
// the book depth or kline interval (0 otherwise), or -1. It does not
// allocate: a scan of the few streams of one kind, then an array index.
func (t *topicTable) lookup(kind parse.Kind, param int, sym uint32) int {
	if int(kind) >= numKinds {
		return -1
	}
	ss := t.byKind[kind]
	for i := range ss {
		if ss[i].param == param {
			if int(sym) < len(ss[i].bySym) {
				return int(ss[i].bySym[sym])
			}
			return -1
		}
	}
	return -1
}

// result describes topic i's stream for symbol sym as a data message's
// parse.Result would: the shape Sink.Abort and Sink.Silent take.
func (t *topicTable) result(i int, sym uint32) parse.Result {
	ts := &t.streams[i]
	r := parse.Result{Class: parse.ClassData, Kind: ts.kind, Sym: sym}
	switch ts.kind {
	case parse.KindBook:
		r.Depth = uint16(ts.param)
	case parse.KindKline:
		r.Interval = parse.Interval(ts.param)
	}
	return r
}

// resultParam is the lookup param of a parsed data message.
func resultParam(r *parse.Result) int {
	switch r.Kind {
	case parse.KindBook:
		return int(r.Depth)
	case parse.KindKline:
		return int(r.Interval)
	}
	return 0
}
