package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ringfeed/ringfeed/net/bybitsim"
)

// --symbols all takes the simulator's trading linear instruments.
func TestSymbolsAll(t *testing.T) {
	code, out, stderr := runCLI(t, nil, "--sim", "--symbols", "all", "--quote", "USDT", "--duration", "3s", "--status", "0",
		"--topics", "orderbook.50", "--log-level", "warn", "--admin", "off")
	if code != 0 {
		t.Fatalf("exit %d; stderr %s", code, stderr)
	}
	if !strings.Contains(out, "stale_books=0/3") { // BTCUSDT, ETHUSDT, XRPUSDT
		t.Errorf("want the simulator's 3 linear USDT books, all live:\n%s", out)
	}
	code, _, stderr = runCLI(t, nil, "--sim", "--symbols", "all", "--quote", "EUR", "--duration", "3s", "--status", "0", "--log-level", "warn", "--admin", "off")
	if code != 2 || !strings.Contains(stderr, "--symbols") {
		t.Errorf("no instrument selected: exit %d, stderr %q; want 2 naming --symbols", code, stderr)
	}
}

// A new listing appears in instruments-info while the engine runs: the
// refresh picks it up and the engine runs on with it.
func TestSymbolsAllRefreshAddsListing(t *testing.T) {
	sim, err := bybitsim.Start(bybitsim.Config{Seed: 3, TimeScale: 60})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	target, _ := url.Parse(sim.RESTURL())
	proxy := httputil.NewSingleHostReverseProxy(target)
	var listings atomic.Int32
	// The first listing hides XRPUSDT; later ones show it.
	rest := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, "/instruments-info") || listings.Add(1) > 1 {
			proxy.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		proxy.ServeHTTP(rec, r)
		var body map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		res := body["result"].(map[string]any)
		var keep []any
		for _, in := range res["list"].([]any) {
			if in.(map[string]any)["symbol"] != "XRPUSDT" {
				keep = append(keep, in)
			}
		}
		res["list"] = keep
		b, _ := json.Marshal(body)
		_, _ = io.Copy(w, bytes.NewReader(b))
	}))
	defer rest.Close()
	code, out, stderr := runCLI(t, nil, "--symbols", "all", "--symbols-refresh", "300ms", "--duration", "5s", "--status", "0",
		"--ws-url", sim.URL("linear"), "--rest-url", rest.URL, "--topics", "orderbook.50", "--admin", "off", "--kline-history=false")
	if code != 0 {
		t.Fatalf("exit %d; stderr %s", code, stderr)
	}
	if !strings.Contains(stderr, "listing changed") || !strings.Contains(stderr, "XRPUSDT") {
		t.Errorf("no listing change logged:\n%s", stderr)
	}
	books := regexp.MustCompile(`stale_books=\d+/(\d+)`).FindAllStringSubmatch(out, -1)
	if len(books) < 2 || books[0][1] != "2" || books[len(books)-1][1] != "3" {
		t.Errorf("want a 2-book run, then a 3-book run; summaries:\n%s", out)
	}
}
