package bybitsim

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"
)

type restEnvelope struct {
	RetCode    int             `json:"retCode"`
	RetMsg     string          `json:"retMsg"`
	Result     json.RawMessage `json:"result"`
	RetExtInfo json.RawMessage `json:"retExtInfo"`
	Time       int64           `json:"time"`
}

func restGet(t *testing.T, s *Server, path string, q url.Values) (restEnvelope, []byte) {
	t.Helper()
	c := &http.Client{Timeout: waitLong}
	resp, err := c.Get(s.RESTURL() + path + "?" + q.Encode())
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s?%s: status %d, %v", path, q.Encode(), resp.StatusCode, err)
	}
	var e restEnvelope
	err = json.Unmarshal(body, &e)
	if err != nil || e.Time == 0 || e.RetExtInfo == nil {
		t.Fatalf("GET %s: envelope %s: %v", path, body, err)
	}
	return e, body
}

func TestRESTTime(t *testing.T) {
	s := startServer(t, Config{Seed: 1})
	e, body := restGet(t, s, "/v5/market/time", nil)
	var r struct{ TimeSecond, TimeNano string }
	_ = json.Unmarshal(e.Result, &r)
	sec, err1 := strconv.ParseInt(r.TimeSecond, 10, 64)
	ns, err2 := strconv.ParseInt(r.TimeNano, 10, 64)
	if e.RetCode != 0 || e.RetMsg != "OK" || err1 != nil || err2 != nil || ns/1e9 != sec || ns/1e6 > e.Time {
		t.Fatalf("got %s", body)
	}
}

func TestRESTInstrumentsPagination(t *testing.T) {
	ins := append(SyntheticInstruments("linear", 7), SyntheticInstruments("spot", 4)...)
	ins = append(ins, Instrument{Category: "option", Symbol: "BTC-27DEC30-80000-C", Price: "3500", TickSize: "5", QtyStep: "0.01"})
	s := startServer(t, Config{Seed: 1, Instruments: ins})
	var seen []string
	cursor := ""
	for page := 0; ; page++ {
		if page > 5 {
			t.Fatalf("pagination does not end")
		}
		q := url.Values{"category": {"linear"}, "limit": {"3"}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		e, body := restGet(t, s, "/v5/market/instruments-info", q)
		var r struct {
			Category       string
			List           []map[string]any
			NextPageCursor *string
		}
		_ = json.Unmarshal(e.Result, &r)
		if e.RetCode != 0 || r.Category != "linear" || r.NextPageCursor == nil {
			t.Fatalf("page %d: %s", page, body)
		}
		for _, it := range r.List {
			seen = append(seen, it["symbol"].(string))
			pf := it["priceFilter"].(map[string]any)
			lf := it["lotSizeFilter"].(map[string]any)
			if pf["tickSize"] != "0.01" || lf["qtyStep"] != "0.01" || it["priceScale"] != "2" {
				t.Fatalf("instrument %v", it)
			}
		}
		if cursor = *r.NextPageCursor; cursor == "" {
			break
		}
	}
	if len(seen) != 7 || seen[0] != "S0001USDT" || seen[6] != "S0007USDT" {
		t.Fatalf("paged through %v; want the 7 linear symbols in order", seen)
	}
	e, body := restGet(t, s, "/v5/market/instruments-info", url.Values{"category": {"spot"}, "limit": {"2"}})
	var sp struct{ List []map[string]any }
	_ = json.Unmarshal(e.Result, &sp)
	if len(sp.List) != 4 || sp.List[0]["lotSizeFilter"].(map[string]any)["basePrecision"] != "0.01" {
		t.Fatalf("spot (not paginated): %s", body)
	}
	e, _ = restGet(t, s, "/v5/market/instruments-info", url.Values{"category": {"option"}})
	var op struct{ List []map[string]any }
	_ = json.Unmarshal(e.Result, &op)
	if len(op.List) != 1 || op.List[0]["optionsType"] != "Call" || op.List[0]["baseCoin"] != "BTC" {
		t.Fatalf("option instruments: %s", e.Result)
	}
	for _, q := range []url.Values{
		{"category": {"linear"}, "cursor": {"garbage"}},
		{"category": {"futures"}},
		{"category": {"linear"}, "symbol": {"NOPE"}},
		{"category": {"linear"}, "limit": {"0"}},
	} {
		if e, body := restGet(t, s, "/v5/market/instruments-info", q); e.RetCode == 0 || e.RetMsg == "" {
			t.Fatalf("%v: %s; want an error", q, body)
		}
	}
}

// TestRESTOrderbook: the REST book is the orderbook.1000 stream's state:
// same u, same levels, truncated to limit.
func TestRESTOrderbook(t *testing.T) {
	s := pausedServer(t, Config{Seed: 2, Rate: Rate{Mode: RateMax}})
	cl := dial(t, s.URL("linear"))
	cl.send(subscribeMsg("orderbook.1000.BTCUSDT"))
	cl.nextAck()
	s.Step(10)
	type ob struct {
		S     string
		B, A  [][2]string
		TS, U int64
		Seq   int64
		CTS   int64
	}
	get := func(q url.Values) (restEnvelope, ob) {
		t.Helper()
		e, _ := restGet(t, s, "/v5/market/orderbook", q)
		var r ob
		_ = json.Unmarshal(e.Result, &r)
		return e, r
	}
	want, err := s.Book("linear", "BTCUSDT", 1000)
	if err != nil {
		t.Fatalf("Book: %v", err)
	}
	e, r := get(url.Values{"category": {"linear"}, "symbol": {"BTCUSDT"}, "limit": {"200"}})
	if e.RetCode != 0 || r.S != "BTCUSDT" || r.U != want.U || r.Seq != want.Seq || r.CTS > r.TS ||
		!sameLevels(r.B, want.Bids[:200]) || !sameLevels(r.A, want.Asks[:200]) {
		t.Fatalf("REST u=%d %d/%d levels; Book u=%d", r.U, len(r.B), len(r.A), want.U)
	}
	_, r = get(url.Values{"category": {"linear"}, "symbol": {"BTCUSDT"}})
	if len(r.B) != 25 || len(r.A) != 25 {
		t.Fatalf("default limit gave %d/%d levels; want 25", len(r.B), len(r.A))
	}
	// An idle symbol: the REST call itself brings the 1000 stream up to date.
	_, r = get(url.Values{"category": {"spot"}, "symbol": {"ETHUSDT"}, "limit": {"1000"}})
	if len(r.B) != 1000 || r.U == 0 {
		t.Fatalf("idle spot book: %d bids, u=%d", len(r.B), r.U)
	}
	if w, _ := s.Book("spot", "ETHUSDT", 1000); w.U != r.U {
		t.Fatalf("REST u=%d; stream u=%d", r.U, w.U)
	}
	for _, q := range []url.Values{
		{"category": {"linear"}, "symbol": {"NOPE"}},
		{"category": {"option"}, "symbol": {"BTC-27DEC30-80000-C"}, "limit": {"26"}},
		{"category": {"linear"}, "symbol": {"BTCUSDT"}, "limit": {"1001"}},
	} {
		if e, _ := get(q); e.RetCode == 0 || e.RetMsg == "" {
			t.Fatalf("%v: retCode 0; want an error", q)
		}
	}
}

// TestRESTKline: rows newest first, aligned, the newest one the open
// candle; unknown symbols and option are errors.
func TestRESTKline(t *testing.T) {
	s := startServer(t, Config{Seed: 3})
	q := url.Values{"category": {"linear"}, "symbol": {"BTCUSDT"}, "interval": {"5"}, "limit": {"50"}}
	e, body := restGet(t, s, "/v5/market/kline", q)
	var r struct {
		Category, Symbol string
		List             [][7]string
	}
	_ = json.Unmarshal(e.Result, &r)
	if e.RetCode != 0 || r.Category != "linear" || r.Symbol != "BTCUSDT" || len(r.List) != 50 {
		t.Fatalf("got %s", body)
	}
	now := time.Now().UnixMilli()
	for i, row := range r.List {
		st, _ := strconv.ParseInt(row[0], 10, 64)
		if st%(5*60000) != 0 {
			t.Fatalf("row %d start %d not aligned to 5 minutes", i, st)
		}
		if i == 0 && (st > now || now-st > 2*5*60000) {
			t.Fatalf("newest row starts %d; now is %d", st, now)
		}
		if i > 0 {
			prev, _ := strconv.ParseInt(r.List[i-1][0], 10, 64)
			if prev-st != 5*60000 {
				t.Fatalf("rows %d,%d: starts %d then %d; want newest first, contiguous", i-1, i, prev, st)
			}
		}
		if cmpDecimal(row[2], row[3]) < 0 {
			t.Fatalf("row %v: high below low", row)
		}
	}
	first, _ := strconv.ParseInt(r.List[0][0], 10, 64)
	q.Set("end", strconv.FormatInt(first-5*60000, 10))
	q.Set("limit", "3")
	e, _ = restGet(t, s, "/v5/market/kline", q)
	var r2 struct{ List [][7]string }
	_ = json.Unmarshal(e.Result, &r2)
	if len(r2.List) != 3 || r2.List[0] != r.List[1] {
		t.Fatalf("end filter: got %v; want rows from %v", r2.List, r.List[1])
	}
	for _, bad := range []url.Values{
		{"category": {"linear"}, "symbol": {"NOPE"}, "interval": {"1"}},
		{"category": {"option"}, "symbol": {"BTC-27DEC30-80000-C"}, "interval": {"1"}},
		{"category": {"linear"}, "symbol": {"BTCUSDT"}, "interval": {"2"}},
	} {
		if e, _ := restGet(t, s, "/v5/market/kline", bad); e.RetCode == 0 || e.RetMsg == "" {
			t.Fatalf("%v: retCode 0; want an error", bad)
		}
	}
}
