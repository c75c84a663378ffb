package ringfeed

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ringfeed/ringfeed/net/bybitsim"
)

// TestAdminMethodsAndErrors checks that a wrong method answers 405 with an
// Allow header and that every error is JSON, the ones net/http answers by
// itself (431, 400) included.
func TestAdminMethodsAndErrors(t *testing.T) {
	h := startHarness(t, bybitsim.Config{Seed: 1}, Config{Topics: []string{"orderbook.50"}, Symbols: []string{"BTCUSDT"}})
	base := "http://" + h.e.AdminAddr()
	for _, c := range []struct{ method, path string }{
		{http.MethodPost, "/v1/book/BTCUSDT"},
		{http.MethodDelete, "/v1/symbols"},
		{http.MethodPut, "/metrics"},
		{http.MethodPost, "/healthz"},
	} {
		req, _ := http.NewRequest(c.method, base+c.path, strings.NewReader("{}"))
		resp, err := h.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var v apiError
		err = json.NewDecoder(resp.Body).Decode(&v)
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed || err != nil || v.Error == "" || resp.Header.Get("Allow") != "GET, HEAD" {
			t.Errorf("%s %s: got %d Allow=%q error=%q (%v); want 405, Allow GET, HEAD and a JSON error",
				c.method, c.path, resp.StatusCode, resp.Header.Get("Allow"), v.Error, err)
		}
	}

	// pprof's own errors are JSON too; its answers pass through.
	for path, code := range map[string]int{"/debug/pprof/nope": http.StatusNotFound, "/debug/pprof/cmdline": http.StatusOK} {
		resp, err := h.client.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var v apiError
		isJSON := json.Unmarshal(body, &v) == nil && v.Error != ""
		if resp.StatusCode != code || isJSON != (code >= 400) {
			t.Errorf("GET %s: %d %q; want %d, JSON error only for an error", path, resp.StatusCode, body, code)
		}
	}

	// Errors net/http answers before any handler runs, over a raw
	// connection: headers beyond the limit, and a malformed request.
	for _, c := range []struct {
		name, req string
		code      int
	}{
		{"431", "GET /v1/symbols HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 2*adminHeaderBytes) + "\r\n\r\n", http.StatusRequestHeaderFieldsTooLarge},
		{"400", "GET /v1/symbols HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n", http.StatusBadRequest},
	} {
		conn, err := net.DialTimeout("tcp", h.e.AdminAddr(), 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := io.WriteString(conn, c.req); err != nil {
			t.Fatalf("%s: write: %v", c.name, err)
		}
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("%s: read: %v", c.name, err)
		}
		body, _ := io.ReadAll(resp.Body)
		conn.Close()
		var v apiError
		if resp.StatusCode != c.code || resp.Header.Get("Content-Type") != "application/json" || json.Unmarshal(body, &v) != nil || v.Error == "" {
			t.Errorf("%s: got %d %q %q; want %d with a JSON error", c.name, resp.StatusCode, resp.Header.Get("Content-Type"), body, c.code)
		}
	}
}

// TestAdminSymbolsAndNames checks /v1/symbols and the JSON names every
// endpoint uses (one scheme; the book's documented shape unchanged).
func TestAdminSymbolsAndNames(t *testing.T) {
	h := startHarness(t, bybitsim.Config{Seed: 4, TimeScale: 60},
		Config{Topics: []string{"orderbook.50", "orderbook.1", "kline.1", "tickers", "publicTrade"}, Symbols: []string{"BTCUSDT", "ETHUSDT"}})
	waitFor(t, 20*time.Second, "a healthy engine with trades", func() bool {
		var tr map[string]any
		return h.get("/healthz", nil) == http.StatusOK && h.get("/v1/trades/BTCUSDT?limit=1", &tr) == http.StatusOK &&
			len(tr["trades"].([]any)) > 0
	})
	var syms SymbolsView
	if code := h.get("/v1/symbols", &syms); code != http.StatusOK || len(syms.Symbols) != 2 {
		t.Fatalf("/v1/symbols: %d %+v; want 2 symbols", code, syms)
	}
	s := syms.Symbols[0]
	if s.Category != Linear || s.Symbol != "BTCUSDT" || !slices.Equal(s.Books, []int{50, 1}) || !slices.Equal(s.Klines, []string{"1"}) ||
		!s.Ticker || !s.Trades || s.PriceScale == 0 {
		t.Errorf("/v1/symbols[0]: got %+v", s)
	}

	keys := func(path string) []string {
		t.Helper()
		var m map[string]json.RawMessage
		if code := h.get(path, &m); code != http.StatusOK {
			t.Fatalf("%s: status %d", path, code)
		}
		var ks []string
		for k := range m {
			ks = append(ks, k)
		}
		slices.Sort(ks)
		return ks
	}
	want := map[string][]string{
		"/v1/book/BTCUSDT?depth=1":     {"asks", "bids", "category", "cts", "depth", "seq", "stale", "symbol", "ts", "u"},
		"/v1/ticker/BTCUSDT":           {"category", "fields", "seq", "stale", "symbol", "ts"},
		"/v1/klines/BTCUSDT/1?limit=1": {"category", "gaps", "interval", "klines", "stale", "symbol"},
		"/v1/trades/BTCUSDT?limit=1":   {"category", "duplicates", "stale", "symbol", "trades"},
	}
	for path, w := range want {
		if got := keys(path); !slices.Equal(got, w) {
			t.Errorf("%s: keys %v; want %v", path, got, w)
		}
	}
	var tr struct {
		Trades []map[string]json.RawMessage `json:"trades"`
	}
	h.get("/v1/trades/BTCUSDT?limit=1", &tr)
	for _, k := range []string{"time", "side", "price", "size", "id", "block_trade"} {
		if _, ok := tr.Trades[0][k]; !ok {
			t.Errorf("trade: no %q in %v", k, tr.Trades[0])
		}
	}
	// The book keeps its documented shape: levels as [["price","size"]].
	var b struct {
		Bids [][2]string `json:"bids"`
	}
	if code := h.get("/v1/book/BTCUSDT?depth=1", &b); code != http.StatusOK || len(b.Bids) != 1 || b.Bids[0][0] == "" {
		t.Errorf("book bids: %d %v; want one [price, size] pair of strings", code, b.Bids)
	}
	// category selects; a wrong one is not found, an unknown one a bad request.
	for path, code := range map[string]int{
		"/v1/book/BTCUSDT?category=linear": http.StatusOK,
		"/v1/book/BTCUSDT?category=spot":   http.StatusNotFound,
		"/v1/book/BTCUSDT?category=future": http.StatusBadRequest,
	} {
		var v map[string]any
		if got := h.get(path, &v); got != code {
			t.Errorf("%s: got %d; want %d (%v)", path, got, code, v)
		}
	}
}
