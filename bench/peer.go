package bench

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Peer is the conventional Go stack the suite measures ringfeed against,
// written the way a Bybit client usually is: every frame is decoded with
// encoding/json into structs (raw data first, then the typed payload),
// decimal strings become float64 with strconv.ParseFloat, each book side is
// a map from price to size, and after every book message the side's keys
// are sorted with sort.Slice to read the top levels and enforce the depth.
// Tickers are merged into a map, klines kept in a slice window, trades in a
// slice tape. It really does all of that work for every frame, so its
// figures are what the usual approach costs on the same frames.
//
// Peer is not safe for concurrent use; Handle runs on the caller's
// goroutine (inline, as in a read-loop callback). It allocates per frame.
type Peer struct {
	books   map[string]*PeerBook
	tickers map[string]map[string]string
	klines  map[string][]PeerCandle
	trades  map[string][]PeerTrade
	msgs    int
	window  int
	tape    int
}

// PeerLevel is one price level as the peer keeps it.
type PeerLevel struct{ Price, Size float64 }

// PeerBook is one (symbol, depth) book of the peer.
type PeerBook struct {
	Symbol     string
	Depth      int
	U, Seq, TS int64
	Stale      bool
	Bids, Asks map[float64]float64
	// TopBids and TopAsks are the sorted sides (best first) after the
	// last message: what a strategy reads.
	TopBids, TopAsks []PeerLevel
}

// PeerCandle is one kline as the peer keeps it.
type PeerCandle struct {
	Start, End                               int64
	Open, High, Low, Close, Volume, Turnover float64
	Confirm                                  bool
}

// PeerTrade is one trade as the peer keeps it.
type PeerTrade struct {
	Time        int64
	Symbol, ID  string
	Buy         bool
	Price, Size float64
}

// NewPeer returns an empty peer keeping window candles per kline topic and
// tape trades per symbol, like ringfeed's defaults.
func NewPeer(window, tape int) *Peer {
	if window < 1 || tape < 1 {
		panic(fmt.Sprintf("bench: NewPeer(%d, %d): window and tape must be positive", window, tape))
	}
	return &Peer{
		books:   map[string]*PeerBook{},
		tickers: map[string]map[string]string{},
		klines:  map[string][]PeerCandle{},
		trades:  map[string][]PeerTrade{},
		window:  window,
		tape:    tape,
	}
}

// ErrPeerFrame is returned (wrapped) for a frame the peer cannot decode.
var ErrPeerFrame = errors.New("bench: peer: bad frame")

type peerMessage struct {
	Topic   string          `json:"topic"`
	Type    string          `json:"type"`
	TS      int64           `json:"ts"`
	CTS     int64           `json:"cts"`
	Data    json.RawMessage `json:"data"`
	Op      string          `json:"op"`
	Success bool            `json:"success"`
	RetMsg  string          `json:"ret_msg"`
}

// peerBookData and the peer*Data types below are Bybit's data objects,
// declared here rather than taken from ringfeed's packages (or from the
// encoding/json baselines of parse's benchmarks) on purpose: the peer is
// the conventional stack the suite measures against and shares none of
// ringfeed's code.
type peerBookData struct {
	Symbol string      `json:"s"`
	Bids   [][2]string `json:"b"`
	Asks   [][2]string `json:"a"`
	U      int64       `json:"u"`
	Seq    int64       `json:"seq"`
}

type peerKlineData struct {
	Start     int64  `json:"start"`
	End       int64  `json:"end"`
	Interval  string `json:"interval"`
	Open      string `json:"open"`
	Close     string `json:"close"`
	High      string `json:"high"`
	Low       string `json:"low"`
	Volume    string `json:"volume"`
	Turnover  string `json:"turnover"`
	Confirm   bool   `json:"confirm"`
	Timestamp int64  `json:"timestamp"`
}

type peerTradeData struct {
	Time   int64  `json:"T"`
	Symbol string `json:"s"`
	Side   string `json:"S"`
	Size   string `json:"v"`
	Price  string `json:"p"`
	Dir    string `json:"L"`
	ID     string `json:"i"`
	Block  bool   `json:"BT"`
}

// Messages is the number of data messages applied so far.
func (p *Peer) Messages() int { return p.msgs }

// Book returns the peer's book for (symbol, depth), or nil. The book stays
// the peer's: read it only between Handle calls.
func (p *Peer) Book(symbol string, depth int) *PeerBook {
	return p.books["orderbook."+strconv.Itoa(depth)+"."+symbol]
}

// Handle decodes one frame and applies it. Acks and pongs are decoded and
// ignored. A frame that does not decode returns an error wrapping
// ErrPeerFrame and is not counted; a book message that fails midway may
// have been applied in part, as in most such clients.
func (p *Peer) Handle(frame []byte) error {
	var m peerMessage
	if err := json.Unmarshal(frame, &m); err != nil {
		return fmt.Errorf("%w: %v", ErrPeerFrame, err)
	}
	if m.Topic == "" {
		return nil // ack or pong
	}
	parts := strings.Split(m.Topic, ".")
	var err error
	switch parts[0] {
	case "orderbook":
		err = p.book(&m, parts)
	case "tickers":
		err = p.ticker(&m)
	case "kline":
		err = p.kline(&m)
	case "publicTrade":
		err = p.trade(&m)
	default:
		return fmt.Errorf("%w: unknown topic %q", ErrPeerFrame, m.Topic)
	}
	if err != nil {
		return fmt.Errorf("%w: %s: %v", ErrPeerFrame, m.Topic, err)
	}
	p.msgs++
	return nil
}

func (p *Peer) book(m *peerMessage, parts []string) error {
	if len(parts) != 3 {
		return errors.New("topic is not orderbook.DEPTH.SYMBOL")
	}
	depth, err := strconv.Atoi(parts[1])
	if err != nil {
		return err
	}
	var d peerBookData
	if err := json.Unmarshal(m.Data, &d); err != nil {
		return err
	}
	b := p.books[m.Topic]
	if b == nil {
		b = &PeerBook{Symbol: parts[2], Depth: depth, Stale: true,
			Bids: map[float64]float64{}, Asks: map[float64]float64{}}
		p.books[m.Topic] = b
	}
	if m.Type == "snapshot" || d.U == 1 {
		b.Bids, b.Asks = map[float64]float64{}, map[float64]float64{}
		b.Stale = false
	} else if b.Stale || d.U != b.U+1 {
		b.Stale = true // wait for the next snapshot
		return nil
	}
	if err := applyLevels(b.Bids, d.Bids); err != nil {
		return err
	}
	if err := applyLevels(b.Asks, d.Asks); err != nil {
		return err
	}
	b.U, b.Seq, b.TS = d.U, d.Seq, m.TS
	b.TopBids = sortSide(b.Bids, depth, true)
	b.TopAsks = sortSide(b.Asks, depth, false)
	return nil
}

func applyLevels(side map[float64]float64, levels [][2]string) error {
	for _, l := range levels {
		px, err := strconv.ParseFloat(l[0], 64)
		if err != nil {
			return err
		}
		sz, err := strconv.ParseFloat(l[1], 64)
		if err != nil {
			return err
		}
		if sz == 0 {
			delete(side, px)
		} else {
			side[px] = sz
		}
	}
	return nil
}

// sortSide sorts a side's prices best first, drops the levels past depth
// and returns the sorted levels: the per-message re-sort ringfeed's B-tree
// avoids.
func sortSide(side map[float64]float64, depth int, desc bool) []PeerLevel {
	keys := make([]float64, 0, len(side))
	for k := range side {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if desc {
			return keys[i] > keys[j]
		}
		return keys[i] < keys[j]
	})
	for _, k := range keys[min(depth, len(keys)):] {
		delete(side, k)
	}
	keys = keys[:min(depth, len(keys))]
	out := make([]PeerLevel, len(keys))
	for i, k := range keys {
		out[i] = PeerLevel{k, side[k]}
	}
	return out
}

func (p *Peer) ticker(m *peerMessage) error {
	var d map[string]string
	if err := json.Unmarshal(m.Data, &d); err != nil {
		return err
	}
	sym := d["symbol"]
	t := p.tickers[sym]
	if t == nil || m.Type == "snapshot" {
		t = map[string]string{}
		p.tickers[sym] = t
	}
	for k, v := range d {
		t[k] = v
	}
	return nil
}

func (p *Peer) kline(m *peerMessage) error {
	var ds []peerKlineData
	if err := json.Unmarshal(m.Data, &ds); err != nil {
		return err
	}
	w := p.klines[m.Topic]
	for _, d := range ds {
		c := PeerCandle{Start: d.Start, End: d.End, Confirm: d.Confirm}
		for _, f := range []struct {
			s string
			v *float64
		}{{d.Open, &c.Open}, {d.High, &c.High}, {d.Low, &c.Low}, {d.Close, &c.Close}, {d.Volume, &c.Volume}, {d.Turnover, &c.Turnover}} {
			v, err := strconv.ParseFloat(f.s, 64)
			if err != nil {
				return err
			}
			*f.v = v
		}
		switch n := len(w); {
		case n > 0 && w[n-1].Start == c.Start:
			w[n-1] = c
		case n > 0 && w[n-1].Start > c.Start:
			// An older candle: find it, as a dedupe would.
			i := sort.Search(n, func(i int) bool { return w[i].Start >= c.Start })
			if i < n && w[i].Start == c.Start {
				w[i] = c
			}
		default:
			w = append(w, c)
			if len(w) > p.window {
				w = w[len(w)-p.window:]
			}
		}
	}
	p.klines[m.Topic] = w
	return nil
}

func (p *Peer) trade(m *peerMessage) error {
	var ds []peerTradeData
	if err := json.Unmarshal(m.Data, &ds); err != nil {
		return err
	}
	for _, d := range ds {
		px, err := strconv.ParseFloat(d.Price, 64)
		if err != nil {
			return err
		}
		sz, err := strconv.ParseFloat(d.Size, 64)
		if err != nil {
			return err
		}
		t := p.trades[d.Symbol]
		t = append(t, PeerTrade{Time: d.Time, Symbol: d.Symbol, ID: d.ID, Buy: d.Side == "Buy", Price: px, Size: sz})
		if len(t) > p.tape {
			t = t[len(t)-p.tape:]
		}
		p.trades[d.Symbol] = t
	}
	return nil
}
