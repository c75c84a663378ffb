package ringfeed

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// FuzzAdminQuery throws arbitrary paths and query strings at the admin
// handler of an engine that is not running (state reads run inline): it
// must answer every request with a valid status and never panic.
func FuzzAdminQuery(f *testing.F) {
	for _, s := range []string{
		"/v1/book/BTCUSDT?depth=5", "/v1/book/BTCUSDT?depth=-1", "/v1/book/%00", "/v1/book/BTCUSDT?stream=50&depth=99999999999999999999",
		"/v1/klines/BTCUSDT/1?limit=3", "/v1/klines/BTCUSDT/M", "/v1/klines/BTCUSDT/%FF", "/v1/ticker/BTCUSDT",
		"/v1/trades/BTCUSDT?limit=1", "/healthz", "/v1/book/", "/v1//", "/v1/trades/BTCUSDT?limit=1&limit=2",
		"/v1/symbols", "/v1/book/BTCUSDT?category=spot", "/v1/book/BTCUSDT?category=%00&category=linear", "/metrics",
	} {
		f.Add(s)
	}
	e, err := New(Config{Category: Linear, Symbols: []string{"BTCUSDT"}, Topics: []string{"orderbook.50", "kline.1", "tickers", "publicTrade"}, Admin: "off", Logger: quietLogger()})
	if err != nil {
		f.Fatal(err)
	}
	h := e.Handler()
	f.Fuzz(func(t *testing.T, target string) {
		if strings.ContainsAny(target, " \r\n\t") || !strings.HasPrefix(target, "/") || strings.HasPrefix(target, "/debug/") {
			return // not a request line the server would hand to us; pprof is the standard library's
		}
		u, err := url.ParseRequestURI(target)
		if err != nil {
			return
		}
		req := httptest.NewRequest(http.MethodGet, "http://127.0.0.1"+u.RequestURI(), nil)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		switch w.Code {
		case http.StatusOK, http.StatusBadRequest, http.StatusNotFound, http.StatusServiceUnavailable, http.StatusMovedPermanently, http.StatusMethodNotAllowed, http.StatusTemporaryRedirect:
		default:
			t.Fatalf("GET %q: status %d", target, w.Code)
		}
		if strings.HasPrefix(u.Path, "/v1/") && w.Code >= 400 && w.Code != http.StatusMethodNotAllowed && !strings.Contains(w.Body.String(), `"error"`) {
			t.Fatalf("GET %q: %d without a JSON error: %q", target, w.Code, w.Body.String())
		}
	})
}
