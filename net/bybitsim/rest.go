package bybitsim

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// REST: the five v5 market endpoints a feed handler uses, in Bybit's
// envelope {"retCode","retMsg","result","retExtInfo","time"}. Errors are
// HTTP 200 with retCode 10001 and a message, as Bybit answers bad
// parameters. Cold path: encoding/json with ordered structs.

type envelope struct {
	RetCode    int      `json:"retCode"`
	RetMsg     string   `json:"retMsg"`
	Result     any      `json:"result"`
	RetExtInfo struct{} `json:"retExtInfo"`
	Time       int64    `json:"time"`
}

const retParamsError = 10001

func (s *Server) writeREST(w http.ResponseWriter, result any) {
	s.writeEnvelope(w, envelope{RetMsg: "OK", Result: result, Time: s.simNow()})
}

func (s *Server) restError(w http.ResponseWriter, msg string) {
	s.writeEnvelope(w, envelope{RetCode: retParamsError, RetMsg: msg, Result: struct{}{}, Time: s.simNow()})
}

func (s *Server) writeEnvelope(w http.ResponseWriter, e envelope) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(e)
}

func (s *Server) restTime(w http.ResponseWriter, _ *http.Request) {
	ns := s.t0ms*1e6 + int64(float64(time.Since(s.t0))*s.cfg.TimeScale)
	s.writeREST(w, struct {
		TimeSecond string `json:"timeSecond"`
		TimeNano   string `json:"timeNano"`
	}{strconv.FormatInt(ns/1e9, 10), strconv.FormatInt(ns, 10)})
}

// queryInt reads an optional integer parameter within [lo, hi].
func queryInt(r *http.Request, name string, def, lo, hi int) (int, bool) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, true
	}
	n, err := strconv.Atoi(v)
	return n, err == nil && n >= lo && n <= hi
}

// queryCategory reads the category parameter; on a bad one it answers
// the request with Bybit's params error and returns false.
func (s *Server) queryCategory(w http.ResponseWriter, q url.Values) (category, bool) {
	cat, ok := parseCategory(q.Get("category"))
	if !ok {
		s.restError(w, "params error: category invalid")
	}
	return cat, ok
}

// queryLimit reads the limit parameter within [1, hi] (def when absent);
// on a bad value it answers the request with Bybit's params error and
// returns false. The orderbook, kline and recent-trade handlers share it.
func (s *Server) queryLimit(w http.ResponseWriter, r *http.Request, def, hi int) (int, bool) {
	limit, ok := queryInt(r, "limit", def, 1, hi)
	if !ok {
		s.restError(w, "params error: limit invalid")
	}
	return limit, ok
}

// lockMarket locks s.mu and returns the market sym of cat, which the
// caller reads and then unlocks s.mu. When there is no such market it
// leaves s.mu unlocked, answers with Bybit's params error and returns nil.
func (s *Server) lockMarket(w http.ResponseWriter, cat category, sym string) *market {
	s.mu.Lock()
	m := s.markets[cat][sym]
	if m == nil {
		s.mu.Unlock()
		s.restError(w, "params error: symbol invalid")
	}
	return m
}

type priceFilter struct {
	MinPrice string `json:"minPrice,omitempty"`
	MaxPrice string `json:"maxPrice,omitempty"`
	TickSize string `json:"tickSize"`
}

type derivInfo struct {
	Symbol          string      `json:"symbol"`
	ContractType    string      `json:"contractType"`
	Status          string      `json:"status"`
	BaseCoin        string      `json:"baseCoin"`
	QuoteCoin       string      `json:"quoteCoin"`
	SettleCoin      string      `json:"settleCoin"`
	LaunchTime      string      `json:"launchTime"`
	DeliveryTime    string      `json:"deliveryTime"`
	PriceScale      string      `json:"priceScale"`
	PriceFilter     priceFilter `json:"priceFilter"`
	LotSizeFilter   any         `json:"lotSizeFilter"`
	FundingInterval int         `json:"fundingInterval"`
}

type derivLot struct {
	MinOrderQty      string `json:"minOrderQty"`
	MaxOrderQty      string `json:"maxOrderQty"`
	QtyStep          string `json:"qtyStep"`
	MaxMktOrderQty   string `json:"maxMktOrderQty"`
	MinNotionalValue string `json:"minNotionalValue"`
}

type optionInfo struct {
	Symbol          string      `json:"symbol"`
	OptionsType     string      `json:"optionsType"`
	Status          string      `json:"status"`
	BaseCoin        string      `json:"baseCoin"`
	QuoteCoin       string      `json:"quoteCoin"`
	SettleCoin      string      `json:"settleCoin"`
	LaunchTime      string      `json:"launchTime"`
	DeliveryTime    string      `json:"deliveryTime"`
	DeliveryFeeRate string      `json:"deliveryFeeRate"`
	PriceFilter     priceFilter `json:"priceFilter"`
	LotSizeFilter   any         `json:"lotSizeFilter"`
}

type optionLot struct {
	MaxOrderQty string `json:"maxOrderQty"`
	MinOrderQty string `json:"minOrderQty"`
	QtyStep     string `json:"qtyStep"`
}

type spotInfo struct {
	Symbol        string      `json:"symbol"`
	BaseCoin      string      `json:"baseCoin"`
	QuoteCoin     string      `json:"quoteCoin"`
	Status        string      `json:"status"`
	LotSizeFilter spotLot     `json:"lotSizeFilter"`
	PriceFilter   priceFilter `json:"priceFilter"`
}

type spotLot struct {
	BasePrecision     string `json:"basePrecision"`
	QuotePrecision    string `json:"quotePrecision"`
	MinOrderAmt       string `json:"minOrderAmt"`
	MaxLimitOrderQty  string `json:"maxLimitOrderQty"`
	MaxMarketOrderQty string `json:"maxMarketOrderQty"`
}

func (s *Server) instrumentInfo(m *market) any {
	in := &m.inst
	px := func(v int64) string { return string(appendFixed(nil, v, m.pscale, false)) }
	qty := func(v int64) string { return string(appendFixed(nil, v, m.qscale, false)) }
	launch := strconv.FormatInt(s.t0ms-400*24*3600*1000, 10)
	switch m.cat {
	case catSpot:
		return spotInfo{
			Symbol: m.sym, BaseCoin: m.base, QuoteCoin: m.quote, Status: "Trading",
			LotSizeFilter: spotLot{
				BasePrecision: in.QtyStep, QuotePrecision: "0.00000001", MinOrderAmt: "5",
				MaxLimitOrderQty: qty(m.size * 1000), MaxMarketOrderQty: qty(m.size * 500),
			},
			PriceFilter: priceFilter{TickSize: in.TickSize},
		}
	case catOption:
		kind := "Call"
		if strings.HasSuffix(m.sym, "-P") {
			kind = "Put"
		}
		return optionInfo{
			Symbol: m.sym, OptionsType: kind, Status: "Trading", BaseCoin: m.base, QuoteCoin: m.quote,
			SettleCoin: m.quote, LaunchTime: launch, DeliveryTime: "1924934400000", DeliveryFeeRate: "0.00015",
			PriceFilter:   priceFilter{MinPrice: in.TickSize, MaxPrice: px(m.center * 20), TickSize: in.TickSize},
			LotSizeFilter: optionLot{MaxOrderQty: qty(m.size * 1000), MinOrderQty: in.QtyStep, QtyStep: in.QtyStep},
		}
	}
	ct, settle := "LinearPerpetual", m.quote
	if m.cat == catInverse {
		ct, settle = "InversePerpetual", m.base
	}
	return derivInfo{
		Symbol: m.sym, ContractType: ct, Status: "Trading", BaseCoin: m.base, QuoteCoin: m.quote,
		SettleCoin: settle, LaunchTime: launch, DeliveryTime: "0", PriceScale: strconv.Itoa(m.pscale),
		PriceFilter: priceFilter{MinPrice: in.TickSize, MaxPrice: px(m.center * 20), TickSize: in.TickSize},
		LotSizeFilter: derivLot{
			MinOrderQty: in.QtyStep, MaxOrderQty: qty(m.size * 1000), QtyStep: in.QtyStep,
			MaxMktOrderQty: qty(m.size * 500), MinNotionalValue: "5",
		},
		FundingInterval: 480,
	}
}

// restInstruments serves /v5/market/instruments-info. Derivatives and
// options page with limit (default 500) and an opaque cursor; spot, as on
// Bybit, returns everything at once.
func (s *Server) restInstruments(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	cat, ok := s.queryCategory(w, q)
	if !ok {
		return
	}
	limit, ok := s.queryLimit(w, r, 500, 1000)
	if !ok {
		return
	}
	off := 0
	if c := q.Get("cursor"); c != "" {
		b, err := base64.RawURLEncoding.DecodeString(c)
		v, ok := strings.CutPrefix(string(b), "offset=")
		n, err2 := strconv.Atoi(v)
		if err != nil || !ok || err2 != nil || n < 0 {
			s.restError(w, "params error: cursor invalid")
			return
		}
		off = n
	}
	list := s.marketList[cat] // fixed after Start
	if sym := q.Get("symbol"); sym != "" {
		m := s.markets[cat][sym]
		if m == nil {
			s.restError(w, "params error: symbol invalid")
			return
		}
		list = []*market{m}
	}
	if cat == catSpot {
		off, limit = 0, len(list)
	}
	out := []any{}
	next := ""
	for i := off; i < len(list) && i < off+limit; i++ {
		out = append(out, s.instrumentInfo(list[i]))
	}
	if off+limit < len(list) {
		next = base64.RawURLEncoding.EncodeToString([]byte("offset=" + strconv.Itoa(off+limit)))
	}
	if cat == catSpot {
		s.writeREST(w, struct {
			Category string `json:"category"`
			List     []any  `json:"list"`
		}{cat.String(), out})
		return
	}
	s.writeREST(w, struct {
		Category       string `json:"category"`
		List           []any  `json:"list"`
		NextPageCursor string `json:"nextPageCursor"`
	}{cat.String(), out, next})
}

// restOrderbook serves /v5/market/orderbook from the orderbook.1000 stream
// (orderbook.100 for options): its u and levels exactly, so a REST
// snapshot lines up with that stream's deltas.
func (s *Server) restOrderbook(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	cat, ok := s.queryCategory(w, q)
	if !ok {
		return
	}
	def, hi, depth := 25, 1000, 1000
	switch cat {
	case catSpot:
		def = 1
	case catOption:
		def, hi, depth = 1, 25, 100
	}
	limit, ok := s.queryLimit(w, r, def, hi)
	if !ok {
		return
	}
	sym := q.Get("symbol")
	m := s.lockMarket(w, cat, sym)
	if m == nil {
		return
	}
	st, _ := s.lookup(cat, "orderbook."+strconv.Itoa(depth)+"."+sym)
	if len(st.subs) == 0 {
		s.refreshBook(st, s.simNow())
	}
	bs := bookState(m, st.sentB[:min(limit, len(st.sentB))], st.sentA[:min(limit, len(st.sentA))], st.u, st.seq, st.ts, st.cts)
	s.mu.Unlock()
	// Bybit's answer shape, declared here rather than taken from
	// net/rest.Orderbook on purpose: the simulator stands for Bybit, so
	// it must not share the types of the client it tests.
	s.writeREST(w, struct {
		S   string      `json:"s"`
		B   [][2]string `json:"b"`
		A   [][2]string `json:"a"`
		TS  int64       `json:"ts"`
		U   int64       `json:"u"`
		Seq int64       `json:"seq"`
		CTS int64       `json:"cts"`
	}{sym, bs.Bids, bs.Asks, bs.TS, bs.U, bs.Seq, bs.CTS})
}

// restKline serves /v5/market/kline: [start, open, high, low, close,
// volume, turnover] rows, newest first, filtered by start/end (candle start
// times, ms). Candles before the symbol's first use are synthetic (a
// seeded walk ending at its price then); the newest row is the open candle.
func (s *Server) restKline(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	cat, ok := s.queryCategory(w, q)
	if !ok {
		return
	}
	if cat == catOption { // Bybit has no option klines
		s.restError(w, "params error: category invalid")
		return
	}
	iv, ok := parseInterval(q.Get("interval"))
	if !ok {
		s.restError(w, "params error: interval invalid")
		return
	}
	limit, ok := s.queryLimit(w, r, 200, 1000)
	if !ok {
		return
	}
	var start, end int64 = 0, 1<<63 - 1
	for _, p := range []struct {
		name string
		dst  *int64
	}{{"start", &start}, {"end", &end}} {
		if v := q.Get(p.name); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 {
				s.restError(w, "params error: "+p.name+" invalid")
				return
			}
			*p.dst = n
		}
	}
	sym := q.Get("symbol")
	m := s.lockMarket(w, cat, sym)
	if m == nil {
		return
	}
	now := s.simNow()
	ks := m.kseries(iv, now, s.cfg.Seed)
	if m.refs == 0 {
		ks.roll(now - maxJitter) // an idle market's candles still close on time
	}
	rows := [][7]string{}
	f := func(v int64, sc int) string { return string(appendFixed(nil, v, sc, true)) }
	add := func(c *candle) bool {
		if c.start < start || c.start > end {
			return len(rows) < limit
		}
		rows = append(rows, [7]string{
			strconv.FormatInt(c.start, 10), f(c.open, m.pscale), f(c.high, m.pscale), f(c.low, m.pscale),
			f(c.close, m.pscale), f(c.vol, m.qscale), f(c.turn, m.turnScale),
		})
		return len(rows) < limit
	}
	if add(&ks.cur) {
		for i := len(ks.hist) - 1; i >= 0 && add(&ks.hist[i]); i-- {
		}
	}
	s.mu.Unlock()
	s.writeREST(w, struct {
		Category string      `json:"category"`
		Symbol   string      `json:"symbol"`
		List     [][7]string `json:"list"`
	}{cat.String(), sym, rows})
}

// restTrade is one row of /v5/market/recent-trade.
type restTrade struct {
	ExecID       string `json:"execId"`
	Symbol       string `json:"symbol"`
	Price        string `json:"price"`
	Size         string `json:"size"`
	Side         string `json:"side"`
	Time         string `json:"time"`
	IsBlockTrade bool   `json:"isBlockTrade"`
	IsRPITrade   bool   `json:"isRPITrade"`
	Seq          string `json:"seq"`
}

// restRecentTrade serves /v5/market/recent-trade from the market's trade
// log, newest first: the same ids, times, prices and sizes the publicTrade
// stream sends, so a client can refill what it lost and dedupe by execId.
// limit is 1–60 (default 60) on spot and 1–1000 (default 500) elsewhere,
// as on Bybit; only trades the generator has made are reachable (none for
// a market nobody has subscribed to yet).
func (s *Server) restRecentTrade(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	cat, ok := s.queryCategory(w, q)
	if !ok {
		return
	}
	def, hi := 500, 1000
	if cat == catSpot {
		def, hi = 60, 60
	}
	limit, ok := s.queryLimit(w, r, def, hi)
	if !ok {
		return
	}
	sym := q.Get("symbol")
	m := s.lockMarket(w, cat, sym)
	if m == nil {
		return
	}
	n := min(uint64(limit), m.tradeHead, tradeLogSize)
	rows := make([]restTrade, 0, n)
	var id []byte
	for k := range n {
		t := &m.trades[(m.tradeHead-1-k)%tradeLogSize]
		id = appendTradeID(id[:0], cat, t)
		side := "Sell"
		if t.buy {
			side = "Buy"
		}
		rows = append(rows, restTrade{
			ExecID: string(id), Symbol: sym,
			Price: string(appendFixed(nil, t.px, m.pscale, m.ptrim)),
			Size:  string(appendFixed(nil, t.qty, m.qscale, m.qtrim)),
			Side:  side, Time: strconv.FormatInt(t.t, 10), Seq: strconv.FormatInt(t.seq, 10),
		})
	}
	s.mu.Unlock()
	s.writeREST(w, struct {
		Category string      `json:"category"`
		List     []restTrade `json:"list"`
	}{cat.String(), rows})
}
