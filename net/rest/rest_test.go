package rest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/coder/websocket"

	"github.com/ringfeed/ringfeed/net/bybitsim"
)

func startSim(t *testing.T, cfg bybitsim.Config) *bybitsim.Server {
	t.Helper()
	srv, err := bybitsim.Start(cfg)
	if err != nil {
		t.Fatalf("bybitsim.Start: %v", err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

func newClient(t *testing.T, cfg Config) *Client {
	t.Helper()
	if cfg.Limiter == nil {
		cfg.Limiter = NewLimiter(1000, time.Second) // keep tests off the shared budget
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

func TestTime(t *testing.T) {
	srv := startSim(t, bybitsim.Config{})
	c := newClient(t, Config{URL: srv.RESTURL()})
	st, err := c.Time(ctx(t))
	if err != nil {
		t.Fatalf("Time: %v", err)
	}
	// One host, one clock: the estimate errs by at most RTT/2 plus the
	// simulator's rounding.
	if st.Offset < -time.Second || st.Offset > time.Second || st.RTT <= 0 {
		t.Errorf("got offset %v rtt %v; want within ±1s and rtt > 0", st.Offset, st.RTT)
	}
}

// TestInstrumentsPaging: 1,500 linear symbols take two pages at limit
// 1000; every symbol comes back once, with its filters.
func TestInstrumentsPaging(t *testing.T) {
	ins := append(bybitsim.DefaultInstruments(), bybitsim.SyntheticInstruments("linear", 1500)...)
	srv := startSim(t, bybitsim.Config{Instruments: ins})
	c := newClient(t, Config{URL: srv.RESTURL()})
	list, err := c.Instruments(ctx(t), "linear", "")
	if err != nil {
		t.Fatalf("Instruments: %v", err)
	}
	if got, want := len(list), 1503; got != want {
		t.Fatalf("got %d instruments; want %d", got, want)
	}
	if got := c.Stats().Requests; got != 2 {
		t.Errorf("requests: got %d; want 2 (two pages)", got)
	}
	seen := map[string]bool{}
	for _, in := range list {
		if seen[in.Symbol] {
			t.Fatalf("%s listed twice", in.Symbol)
		}
		seen[in.Symbol] = true
	}
	one, err := c.Instruments(ctx(t), "linear", "XRPUSDT")
	if err != nil || len(one) != 1 {
		t.Fatalf("Instruments(XRPUSDT): got %v, %v; want one", one, err)
	}
	if in := one[0]; in.PriceFilter.TickSize != "0.0001" || in.SizeStep() != "1" || in.PriceScale != "4" {
		t.Errorf("XRPUSDT: got tick %q step %q scale %q; want 0.0001 1 4", in.PriceFilter.TickSize, in.SizeStep(), in.PriceScale)
	}
	spot, err := c.Instruments(ctx(t), "spot", "BTCUSDT")
	if err != nil || len(spot) != 1 || spot[0].SizeStep() != "0.000001" {
		t.Errorf("spot BTCUSDT: got %+v, %v; want basePrecision 0.000001 as the size step", spot, err)
	}
}

// TestRetCodeNotRetried: an unknown symbol is Bybit's "params error",
// which no retry cures: one request, an *APIError.
func TestRetCodeNotRetried(t *testing.T) {
	srv := startSim(t, bybitsim.Config{})
	c := newClient(t, Config{URL: srv.RESTURL(), Tries: 5, Backoff: time.Millisecond})
	_, err := c.Instruments(ctx(t), "linear", "NOSUCHUSDT")
	var ae *APIError
	if !errors.As(err, &ae) || ae.RetCode != 10001 || !errors.Is(err, ErrRetCode) {
		t.Fatalf("got %v; want an APIError with retCode 10001", err)
	}
	if st := c.Stats(); st.Requests != 1 || st.Retries != 0 || st.Failures != 1 {
		t.Errorf("got %+v; want 1 request, 0 retries, 1 failure", st)
	}
}

// faultyProxy stands in front of the simulator and answers the first n
// requests with status, then forwards to the simulator.
func faultyProxy(t *testing.T, target string, n int64, status int) (string, *atomic.Int64) {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	var seen atomic.Int64
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if seen.Add(1) <= n {
			w.WriteHeader(status)
			fmt.Fprint(w, "access too frequent")
			return
		}
		rp.ServeHTTP(w, r)
	})}
	go hs.Serve(ln)
	t.Cleanup(func() { hs.Close() })
	return "http://" + ln.Addr().String(), &seen
}

func TestRetryServerError(t *testing.T) {
	srv := startSim(t, bybitsim.Config{})
	for _, status := range []int{http.StatusServiceUnavailable, http.StatusTooManyRequests} {
		u, seen := faultyProxy(t, srv.RESTURL(), 2, status)
		c := newClient(t, Config{URL: u, Tries: 3, Backoff: time.Millisecond})
		ob, err := c.Orderbook(ctx(t), "linear", "BTCUSDT", 5)
		if err != nil {
			t.Fatalf("HTTP %d twice, then ok: got %v; want success at the third try", status, err)
		}
		if len(ob.Bids) != 5 || len(ob.Asks) != 5 || seen.Load() != 3 {
			t.Errorf("HTTP %d: got %d bids %d asks after %d requests; want 5, 5, 3", status, len(ob.Bids), len(ob.Asks), seen.Load())
		}
		if st := c.Stats(); st.Retries != 2 || st.Failures != 0 {
			t.Errorf("HTTP %d: got %+v; want 2 retries, no failure", status, st)
		}
	}
}

// TestForbiddenPauses: HTTP 403 is a ban; the client neither retries nor
// asks again during BanPause.
func TestForbiddenPauses(t *testing.T) {
	srv := startSim(t, bybitsim.Config{})
	u, seen := faultyProxy(t, srv.RESTURL(), 1, http.StatusForbidden)
	c := newClient(t, Config{URL: u, Tries: 3, Backoff: time.Millisecond, BanPause: time.Hour})
	for range 3 {
		if _, err := c.RecentTrades(ctx(t), "linear", "BTCUSDT", 10); !errors.Is(err, ErrForbidden) {
			t.Fatalf("got %v; want ErrForbidden", err)
		}
	}
	if n := seen.Load(); n != 1 {
		t.Errorf("requests reaching the server: got %d; want 1", n)
	}
}

func TestOrderbookMatchesStream(t *testing.T) {
	srv := startSim(t, bybitsim.Config{})
	c := newClient(t, Config{URL: srv.RESTURL()})
	srv.Pause()
	ob, err := c.Orderbook(ctx(t), "linear", "BTCUSDT", 50)
	if err != nil {
		t.Fatal(err)
	}
	want, err := srv.Book("linear", "BTCUSDT", 1000)
	if err != nil {
		t.Fatal(err)
	}
	if ob.U != want.U || len(ob.Bids) != 50 || ob.Bids[0] != want.Bids[0] || ob.Asks[49] != want.Asks[49] {
		t.Errorf("got u %d bids[0] %v asks[49] %v; want u %d %v %v", ob.U, ob.Bids[0], ob.Asks[49], want.U, want.Bids[0], want.Asks[49])
	}
}

// subscribe opens a WebSocket to the simulator and subscribes topics, so
// their markets start moving; the connection closes with the test.
func subscribe(t *testing.T, srv *bybitsim.Server, category string, topics ...string) {
	t.Helper()
	conn, _, err := websocket.Dial(ctx(t), srv.URL(category), nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	conn.SetReadLimit(-1)
	t.Cleanup(func() { conn.CloseNow() })
	req := `{"op":"subscribe","args":[`
	for i, tp := range topics {
		if i > 0 {
			req += ","
		}
		req += `"` + tp + `"`
	}
	if err := conn.Write(ctx(t), websocket.MessageText, []byte(req+`]}`)); err != nil {
		t.Fatalf("subscribe: %v", err)
	}
	// Drain so the simulator never blocks on this client.
	go func() {
		for {
			if _, _, err := conn.Read(context.Background()); err != nil {
				return
			}
		}
	}()
}

// waitFor polls cond every 10 ms for up to 20 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

// TestRecentTrades: the REST answer is the stream's trades, newest first,
// the same ids, times, prices and sizes; spot answers at most 60.
func TestRecentTrades(t *testing.T) {
	srv := startSim(t, bybitsim.Config{})
	c := newClient(t, Config{URL: srv.RESTURL()})
	for _, tc := range []struct {
		cat, sym string
		limit    int
		want     int
	}{
		{"linear", "BTCUSDT", 0, 1000},
		{"linear", "BTCUSDT", 7, 7},
		{"spot", "ETHUSDT", 0, 60},
	} {
		srv.Pause()
		subscribe(t, srv, tc.cat, "publicTrade."+tc.sym)
		// Step the paused generator until the stream has sent 1024
		// trades (the accessor's log).
		waitFor(t, "1024 trades on "+tc.sym, func() bool {
			srv.Step(20)
			trs, _ := srv.Trades(tc.cat, tc.sym)
			return len(trs) >= 1024
		})
		sent, err := srv.Trades(tc.cat, tc.sym)
		if err != nil {
			t.Fatal(err)
		}
		got, err := c.RecentTrades(ctx(t), tc.cat, tc.sym, tc.limit)
		if err != nil {
			t.Fatalf("%s %s: %v", tc.cat, tc.sym, err)
		}
		if len(got) != tc.want {
			t.Fatalf("%s %s limit %d: got %d trades; want %d", tc.cat, tc.sym, tc.limit, len(got), tc.want)
		}
		// Newest first and, trade for trade, what the stream sent.
		for i, g := range got {
			w := sent[len(sent)-1-i]
			if g.ExecID != w.ID || int64(g.Time) != w.T || g.Price != w.Price || g.Size != w.Size || g.Side != w.Side || int64(g.Seq) != w.Seq {
				t.Fatalf("%s %s trade %d: got %+v; want %+v", tc.cat, tc.sym, i, g, w)
			}
		}
	}
}

func TestKlines(t *testing.T) {
	srv := startSim(t, bybitsim.Config{TimeScale: 60})
	c := newClient(t, Config{URL: srv.RESTURL()})
	rows, err := c.Klines(ctx(t), KlineQuery{Category: "linear", Symbol: "ETHUSDT", Interval: "1", Limit: 20})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 20 {
		t.Fatalf("got %d rows; want 20", len(rows))
	}
	for i := 1; i < len(rows); i++ {
		if rows[i].Start != rows[i-1].Start-60_000 {
			t.Fatalf("row %d starts %d after %d; want newest first, one minute apart", i, rows[i].Start, rows[i-1].Start)
		}
	}
	some, err := c.Klines(ctx(t), KlineQuery{Category: "linear", Symbol: "ETHUSDT", Interval: "1", Start: rows[5].Start, End: rows[2].Start})
	if err != nil || len(some) != 4 || some[0].Start != rows[2].Start || some[3] != rows[5] {
		t.Errorf("start/end: got %v, %v; want rows 2..5", some, err)
	}
}

func TestNewRejects(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(bad, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	f := func(cfg Config) {
		t.Helper()
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v): got nil error", cfg)
		}
	}
	f(Config{URL: "ftp://x"})
	f(Config{URL: "http://x", Tries: -1})
	f(Config{URL: "http://x", Timeout: -1})
	f(Config{URL: "http://x", RootCAFile: bad})
	f(Config{URL: "http://x", RootCAFile: filepath.Join(t.TempDir(), "missing.pem")})
}

// TestLimiterWindow drives the limiter's policy with explicit times: n
// requests in any window, the next one waits until the oldest leaves it.
func TestLimiterWindow(t *testing.T) {
	const s = int64(time.Second)
	l := NewLimiter(3, 5*time.Second)
	f := func(now int64, want time.Duration) {
		t.Helper()
		if got := l.reserve(now); got != want {
			t.Errorf("reserve(%v): got wait %v; want %v", time.Duration(now), got, want)
		}
	}
	f(0, 0)
	f(1*s, 0)
	f(2*s, 0)
	f(2*s, 3*time.Second) // full: the request at 0 leaves the window at 5 s
	f(4*s, time.Second)
	f(5*s, 0) // replaces the one at 0
	f(5*s, time.Second)
	f(6*s, 0)
	f(7*s, 0)
	f(7*s, 3*time.Second) // the window holds 5, 6, 7
}

func TestDelayFullJitter(t *testing.T) {
	c := newClient(t, Config{URL: "http://127.0.0.1:1", Backoff: 100 * time.Millisecond, BackoffCap: time.Second})
	for n := 1; n < 40; n++ {
		ceil := min(time.Second, 100*time.Millisecond<<min(n-1, 20))
		for range 50 {
			if d := c.Delay(n); d < 0 || d > ceil {
				t.Fatalf("Delay(%d) = %v; want within [0, %v]", n, d, ceil)
			}
		}
	}
}

func TestMetrics(t *testing.T) {
	srv := startSim(t, bybitsim.Config{})
	u, _ := faultyProxy(t, srv.RESTURL(), 1, http.StatusBadGateway)
	set := metrics.NewSet()
	c := newClient(t, Config{URL: u, Tries: 2, Backoff: time.Millisecond, Metrics: set, Labels: `category="linear"`})
	if _, err := c.Orderbook(ctx(t), "linear", "BTCUSDT", 1); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Orderbook(ctx(t), "linear", "NOPE", 1); err == nil {
		t.Fatal("unknown symbol: got nil error")
	}
	var b strings.Builder
	set.WritePrometheus(&b)
	for _, want := range []string{
		`ringfeed_rest_requests_total{category="linear"} 3`,
		`ringfeed_rest_retries_total{category="linear"} 1`,
		`ringfeed_rest_failures_total{category="linear"} 1`,
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("metrics lack %q in:\n%s", want, b.String())
		}
	}
}
