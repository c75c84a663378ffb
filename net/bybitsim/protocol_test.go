package bybitsim

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// sharedData reads a real captured frame from the shared test data, or
// skips the test when the folder is not there.
func sharedData(t *testing.T, name string) []byte {
	t.Helper()
	p := filepath.Join("..", "..", "..", "shared", "testdata", "bybit", name)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Skipf("shared test data not available: %v", err)
	}
	return bytes.TrimSpace(b)
}

var connIDValue = regexp.MustCompile(`"conn_id":"[^"]*"`)

func normConnID(b []byte) string {
	return connIDValue.ReplaceAllString(string(b), `"conn_id":"X"`)
}

// keyPaths lists the object keys of a JSON document in order, as paths
// ("data.b", "data[].T"); arrays contribute their first object's keys once.
func keyPaths(t *testing.T, raw []byte) []string {
	t.Helper()
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	var out []string
	seen := map[string]bool{}
	var walk func(prefix string) error
	walk = func(prefix string) error {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		switch tok {
		case json.Delim('{'):
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return err
				}
				p := prefix + kt.(string)
				if !seen[p] {
					seen[p] = true
					out = append(out, p)
				}
				if err := walk(p + "."); err != nil {
					return err
				}
			}
			_, err = dec.Token()
			return err
		case json.Delim('['):
			for dec.More() {
				if err := walk(strings.TrimSuffix(prefix, ".") + "[]."); err != nil {
					return err
				}
			}
			_, err = dec.Token()
			return err
		}
		return nil
	}
	err := walk("")
	if err != nil {
		t.Fatalf("keyPaths %q: %v", raw, err)
	}
	_ = v
	return out
}

// sameOrder checks that ours has every key of real in the same order and
// no key beyond real's except the allowed extras.
func sameOrder(t *testing.T, ours, real []string, extra ...string) {
	t.Helper()
	var filtered []string
	for _, k := range ours {
		if slices.Contains(real, k) {
			filtered = append(filtered, k)
		} else if !slices.Contains(extra, k) {
			t.Fatalf("key %q not in the real frame (ours %v, real %v)", k, ours, real)
		}
	}
	if !slices.Equal(filtered, real) {
		t.Fatalf("key order:\nours %v\nreal %v", filtered, real)
	}
}

// TestFrameShapes compares the key order of generated frames with real
// captured frames, category by category.
func TestFrameShapes(t *testing.T) {
	cases := []struct {
		file, cat, topic, typ string
		topOnly               bool
		extra                 []string
	}{
		{file: "linear-orderbook50-BTCUSDT-delta-20250926.json", cat: "linear", topic: "orderbook.50.BTCUSDT", typ: "delta"},
		{file: "linear-orderbook1-BTCUSDT-snapshot-20250925.json", cat: "linear", topic: "orderbook.1.BTCUSDT", typ: "snapshot"},
		{file: "linear-orderbook500-XRPUSDT-snapshot-20241201.json", cat: "linear", topic: "orderbook.200.XRPUSDT", typ: "snapshot"},
		{file: "spot-orderbook50-BTCUSDT-snapshot-20241108.json", cat: "spot", topic: "orderbook.50.BTCUSDT", typ: "snapshot"},
		{file: "spot-orderbook50-BTCUSDT-delta-20241108.json", cat: "spot", topic: "orderbook.50.BTCUSDT", typ: "delta"},
		{file: "option-orderbook25-SOL-28APR23-30-C-snapshot-20230404.json", cat: "option", topic: "orderbook.25.BTC-27DEC30-80000-C", typ: "snapshot", extra: []string{"data.seq", "cts"}},
		{file: "option-orderbook25-SOL-28APR23-30-C-delta-20230404.json", cat: "option", topic: "orderbook.25.BTC-27DEC30-80000-C", typ: "delta", extra: []string{"data.seq", "cts"}},
		{file: "linear-tickers-BTCUSDT-snapshot-20240515.json", cat: "linear", topic: "tickers.BTCUSDT", typ: "snapshot", extra: []string{"data.fundingIntervalHour", "data.fundingCap"}},
		{file: "linear-tickers-BTCUSDT-delta-20240515.json", cat: "linear", topic: "tickers.BTCUSDT", typ: "delta", topOnly: true},
		{file: "inverse-tickers-BTCUSD-snapshot-20240515.json", cat: "inverse", topic: "tickers.BTCUSD", typ: "snapshot"},
		{file: "inverse-tickers-BTCUSD-delta-20240515.json", cat: "inverse", topic: "tickers.BTCUSD", typ: "delta", topOnly: true},
		{file: "spot-tickers-BTCUSDT-20260902.json", cat: "spot", topic: "tickers.BTCUSDT", typ: "snapshot"},
		{file: "option-tickers-BTC-28JUN24-60000-P-20240515.json", cat: "option", topic: "tickers.BTC-27DEC30-60000-P", typ: "snapshot"},
		{file: "linear-publicTrade-BTCUSDT-20250925.json", cat: "linear", topic: "publicTrade.BTCUSDT", typ: "snapshot"},
		{file: "inverse-publicTrade-BTCUSD-20230405.json", cat: "inverse", topic: "publicTrade.BTCUSD", typ: "snapshot", extra: []string{"data[].RPI", "data[].seq"}},
		{file: "spot-publicTrade-BTCUSDT-20260902.json", cat: "spot", topic: "publicTrade.BTCUSDT", typ: "snapshot"},
		{file: "option-publicTrade-BTC-20230405.json", cat: "option", topic: "publicTrade.BTC", typ: "snapshot", extra: []string{"data[].mP", "data[].iP", "data[].mIv", "data[].iv"}},
		{file: "linear-kline5-BTCUSDT-docs-example.json", cat: "linear", topic: "kline.5.BTCUSDT", typ: "snapshot"},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			real := sharedData(t, c.file)
			s := pausedServer(t, Config{Seed: 5, Rate: Rate{Mode: RateMax}})
			cl := dial(t, s.URL(c.cat))
			cl.send(subscribeMsg(c.topic))
			cl.nextAck()
			var ours []byte
			for i := 0; ours == nil && i < 200; i++ {
				n := s.Step(1)
				if i == 0 && c.typ == "snapshot" && !strings.HasPrefix(c.topic, "publicTrade") {
					n++ // the subscribe snapshot is queued too
				}
				for range n {
					p := cl.next()
					if f := decode(t, p); f.Type == c.typ && ours == nil {
						ours = p
					}
				}
			}
			if ours == nil {
				t.Fatalf("no %s frame on %s in 200 steps", c.typ, c.topic)
			}
			op, rp := keyPaths(t, ours), keyPaths(t, real)
			if c.topOnly {
				op, rp = topLevel(op), topLevel(rp)
			}
			sameOrder(t, op, rp, c.extra...)
		})
	}
}

func topLevel(ps []string) []string {
	var out []string
	for _, p := range ps {
		if !strings.ContainsAny(p, ".[") {
			out = append(out, p)
		}
	}
	return out
}

// TestNumberFormats: linear/inverse print the instrument's full scale,
// spot trims trailing zeros, klines trim, deletes are "0".
func TestNumberFormats(t *testing.T) {
	full2 := regexp.MustCompile(`^\d+\.\d\d$`)
	trimmed := regexp.MustCompile(`^\d+(\.\d*[1-9])?$`)
	check := func(cat, topic string, price *regexp.Regexp) {
		t.Helper()
		s := pausedServer(t, Config{Seed: 9, Rate: Rate{Mode: RateMax}})
		cl := dial(t, s.URL(cat))
		cl.send(subscribeMsg(topic))
		cl.nextAck()
		f := cl.nextData()
		d := decodeBook(t, f)
		for _, l := range append(d.B, d.A...) {
			if !price.MatchString(l[0]) {
				t.Fatalf("%s %s: price %q does not match %s", cat, topic, l[0], price)
			}
		}
		zero := 0
		for i := 0; i < 200 && zero == 0; i++ {
			for range s.Step(1) {
				d := decodeBook(t, decode(t, cl.next()))
				for _, l := range append(d.B, d.A...) {
					if l[1] == "0" {
						zero++
					} else if strings.Trim(l[1], "0.") == "" {
						t.Fatalf("%s: zero size printed %q", topic, l[1])
					}
				}
			}
		}
		if zero == 0 {
			t.Fatalf("%s: no delete in 200 steps", topic)
		}
	}
	check("linear", "orderbook.50.BTCUSDT", regexp.MustCompile(`^\d+\.\d0$`)) // tick 0.10
	check("inverse", "orderbook.50.BTCUSD", full2)
	check("spot", "orderbook.50.BTCUSDT", trimmed)
	check("option", "orderbook.25.BTC-27DEC30-80000-C", regexp.MustCompile(`^\d+[05]$`)) // tick 5
}

// TestAckShapes compares acks byte for byte with captured ones (conn_id
// normalised) and checks each category's conn_id format.
func TestAckShapes(t *testing.T) {
	cases := []struct {
		file, cat, req string
		connID         *regexp.Regexp
	}{
		{"spot-subscribe-ack-20260902.json", "spot", `{"op":"subscribe","args":["orderbook.1.BTCUSDT"]}`, regexp.MustCompile(`^[0-9a-v]{20}-[0-9a-z]{5}$`)},
		{"spot-subscribe-ack-reqid-202304.json", "spot", `{"op":"subscribe","req_id":"4000001","args":["orderbook.1.BTCUSDT"]}`, nil},
		{"linear-subscribe-ack-202304.json", "linear", `{"op":"subscribe","req_id":"4000001","args":["orderbook.1.BTCUSDT"]}`, regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)},
		{"inverse-subscribe-ack-202304.json", "inverse", `{"op":"subscribe","req_id":"4000001","args":["orderbook.1.BTCUSD"]}`, nil},
		{"spot-subscribe-error-args-size.json", "spot", `{"op":"subscribe","req_id":"2000001","args":["a","b","c","d","e","f","g","h","i","j","k"]}`, nil},
		{"pong-reqid-202304.json", "linear", `{"op":"ping","req_id":"78630463144691"}`, nil},
		{"unsubscribe-ack-ccxt.json", "linear", `{"op":"unsubscribe","req_id":"3","args":["orderbook.1.BTCUSDT"]}`, nil},
	}
	s := pausedServer(t, Config{Seed: 1})
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			want := sharedData(t, c.file)
			cl := dial(t, s.URL(c.cat))
			cl.send(c.req)
			got, f := cl.nextAck()
			if normConnID(got) != normConnID(want) {
				t.Fatalf("got %s; want %s", got, want)
			}
			if c.connID != nil && !c.connID.MatchString(f.ConnID) {
				t.Fatalf("conn_id %q does not match %s", f.ConnID, c.connID)
			}
		})
	}
	t.Run("option-subscribe-ack-202304.json", func(t *testing.T) {
		want := sharedData(t, "option-subscribe-ack-202304.json")
		cl := dial(t, s.URL("option"))
		cl.send(subscribeMsg("orderbook.25.BTC-27DEC30-80000-C", "orderbook.100.BTC-27DEC30-60000-P"))
		got, f := cl.nextAck()
		sameOrder(t, keyPaths(t, got), keyPaths(t, want), "req_id")
		if !regexp.MustCompile(`^[0-9a-f]{16}-[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{16}-[0-9a-f]{8}$`).MatchString(f.ConnID) {
			t.Fatalf("option conn_id %q", f.ConnID)
		}
		if !strings.Contains(string(got), `"failTopics":[],"successTopics":["orderbook.25.BTC-27DEC30-80000-C","orderbook.100.BTC-27DEC30-60000-P"]`) {
			t.Fatalf("got %s", got)
		}
	})
}

// TestSubscribeErrors: Bybit's error texts; spot/linear/inverse reject a
// request as a whole, option per topic.
func TestSubscribeErrors(t *testing.T) {
	s := pausedServer(t, Config{Seed: 2})
	cases := []struct {
		cat     string
		args    []string
		retMsg  string
		okAfter []string // topics subscribed afterwards (option partial success)
	}{
		{"linear", []string{"orderbook.500.BTCUSDT"}, "error:handler not found,topic:orderbook.500.BTCUSDT", nil},
		{"linear", []string{"orderbook.050.BTCUSDT"}, "error:handler not found,topic:orderbook.050.BTCUSDT", nil},
		{"linear", []string{"kline.7.BTCUSDT"}, "error:handler not found,topic:kline.7.BTCUSDT", nil},
		{"linear", []string{"liquidation.BTCUSDT"}, "error:handler not found,topic:liquidation.BTCUSDT", nil},
		{"linear", []string{"orderbook.50.NOPE"}, "Invalid symbol :[orderbook.50.NOPE]", nil},
		{"spot", []string{"tickers.BTCUSD"}, "Invalid symbol :[tickers.BTCUSD]", nil},
		{"inverse", []string{"orderbook.25.BTCUSD"}, "error:handler not found,topic:orderbook.25.BTCUSD", nil},
		{"linear", []string{"orderbook.50.BTCUSDT", "tickers.NOPE"}, "Invalid symbol :[tickers.NOPE]", nil},
		{"linear", []string{"tickers.BTCUSDT", "tickers.BTCUSDT"}, "error:already subscribed,topic:tickers.BTCUSDT", nil},
		{"option", []string{"kline.1.BTC-27DEC30-80000-C", "tickers.BTC-27DEC30-80000-C", "publicTrade.DOGE"}, "", []string{"tickers.BTC-27DEC30-80000-C"}},
	}
	for _, c := range cases {
		t.Run(c.cat+"/"+strings.Join(c.args, "+"), func(t *testing.T) {
			cl := dial(t, s.URL(c.cat))
			cl.send(subscribeMsg(c.args...))
			p, f := cl.nextAck()
			if f.Success == nil || *f.Success {
				t.Fatalf("got %s; want success false", p)
			}
			if c.cat == "option" {
				var d struct{ FailTopics, SuccessTopics []string }
				_ = json.Unmarshal(f.Data, &d)
				if len(d.FailTopics) != len(c.args)-len(c.okAfter) || !slices.Equal(d.SuccessTopics, c.okAfter) {
					t.Fatalf("got %s; want success %v, the rest failed", p, c.okAfter)
				}
			} else if f.RetMsg == nil || *f.RetMsg != c.retMsg {
				t.Fatalf("got %s; want ret_msg %q", p, c.retMsg)
			}
			var topics []string
			for _, ci := range s.Conns() {
				if ci.ID == f.ConnID {
					topics = ci.Topics
				}
			}
			if !slices.Equal(topics, c.okAfter) {
				t.Fatalf("subscribed after the request: %v; want %v", topics, c.okAfter)
			}
		})
	}
	t.Run("already subscribed", func(t *testing.T) {
		cl := dial(t, s.URL("inverse"))
		cl.send(subscribeMsg("tickers.BTCUSD"))
		cl.nextAck()
		cl.send(subscribeMsg("tickers.BTCUSD"))
		_, f := cl.nextAck()
		if *f.RetMsg != "error:already subscribed,topic:tickers.BTCUSD" || *f.Success {
			t.Fatalf("got %+v", f)
		}
	})
	t.Run("unknown op and not JSON", func(t *testing.T) {
		cl := dial(t, s.URL("linear"))
		cl.send(`{"op":"auth","req_id":"9"}`)
		_, f := cl.nextAck()
		if *f.Success || *f.RetMsg != "error:invalid op" || f.Op != "auth" || *f.ReqID != "9" {
			t.Fatalf("got %+v", f)
		}
		cl.send(`not json`)
		_, f = cl.nextAck()
		if *f.Success {
			t.Fatalf("got %+v; want success false", f)
		}
	})
}

// TestSpotArgsLimit: more than 10 args on spot is rejected as a whole
// (nothing subscribed, the socket then silent); 10 are fine. Other
// categories have no such limit.
func TestSpotArgsLimit(t *testing.T) {
	s := pausedServer(t, Config{Seed: 3})
	topics := func(n int) []string {
		var ts []string
		for _, d := range []string{"1", "50", "200", "1000"} {
			ts = append(ts, "orderbook."+d+".BTCUSDT", "orderbook."+d+".ETHUSDT")
		}
		ts = append(ts, "tickers.BTCUSDT", "tickers.ETHUSDT", "publicTrade.BTCUSDT", "publicTrade.ETHUSDT")
		return ts[:n]
	}
	cl := dial(t, s.URL("spot"))
	cl.send(subscribeMsg(topics(11)...))
	p, _ := cl.nextAck()
	if !bytes.Contains(p, []byte(`"success":false,"ret_msg":"args size \u003e10"`)) {
		t.Fatalf("got %s", p)
	}
	if n := s.Step(5); n != 0 {
		t.Fatalf("%d data messages after a rejected request; want none", n)
	}
	if !cl.quiet(50 * time.Millisecond) {
		t.Fatalf("data arrived after a rejected request")
	}
	cl.send(subscribeMsg(topics(10)...))
	_, f := cl.nextAck()
	if !*f.Success || *f.RetMsg != "subscribe" {
		t.Fatalf("10 args: got %+v", f)
	}
	lin := dial(t, s.URL("linear"))
	var many []string
	for _, sym := range []string{"BTCUSDT", "ETHUSDT", "XRPUSDT"} {
		for _, tp := range []string{"orderbook.1.", "orderbook.50.", "orderbook.200.", "orderbook.1000.", "tickers.", "publicTrade."} {
			many = append(many, tp+sym)
		}
	}
	lin.send(subscribeMsg(many...))
	_, f = lin.nextAck()
	if !*f.Success {
		t.Fatalf("linear with %d args: got %+v", len(many), f)
	}
}

// TestUnsubscribe stops a stream for the connection.
func TestUnsubscribe(t *testing.T) {
	s := pausedServer(t, Config{Seed: 4, Rate: Rate{Mode: RateMax}})
	cl := dial(t, s.URL("spot"))
	cl.send(subscribeMsg("orderbook.50.BTCUSDT"))
	cl.nextAck()
	cl.nextData()
	cl.send(`{"op":"unsubscribe","args":["orderbook.50.BTCUSDT"]}`)
	p, _ := cl.nextAck()
	if normConnID(p) != `{"success":true,"ret_msg":"unsubscribe","conn_id":"X","op":"unsubscribe"}` {
		t.Fatalf("got %s", p)
	}
	if n := s.Step(10); n != 0 {
		t.Fatalf("%d messages after unsubscribe; want 0", n)
	}
}

// TestPong checks the pong shape of each category, app-level and RFC 6455.
func TestPong(t *testing.T) {
	s := pausedServer(t, Config{Seed: 5})
	cases := []struct{ cat, req, want string }{
		{"spot", `{"op":"ping"}`, `{"success":true,"ret_msg":"pong","conn_id":"X","op":"ping"}`},
		{"spot", `{"op":"ping","req_id":"p1"}`, `{"success":true,"ret_msg":"pong","conn_id":"X","req_id":"p1","op":"ping"}`},
		{"linear", `{"op":"ping"}`, `{"success":true,"ret_msg":"pong","conn_id":"X","req_id":"","op":"ping"}`},
		{"inverse", `{"op":"ping","req_id":"hb-42"}`, `{"success":true,"ret_msg":"pong","conn_id":"X","req_id":"hb-42","op":"ping"}`},
	}
	for _, c := range cases {
		cl := dial(t, s.URL(c.cat))
		cl.send(c.req)
		if got := normConnID(cl.next()); got != c.want {
			t.Fatalf("%s %s: got %s; want %s", c.cat, c.req, got, c.want)
		}
	}
	cl := dial(t, s.URL("option"))
	cl.send(`{"op":"ping","req_id":"x"}`)
	got := string(cl.next())
	if !regexp.MustCompile(`^\{"op":"pong","args":\["\d{13}"\]\}$`).MatchString(got) {
		t.Fatalf("option pong %s", got)
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitLong)
	defer cancel()
	err := cl.c.Ping(ctx)
	if err != nil {
		t.Fatalf("control ping: %v", err)
	}
	st := s.Stats()
	if st.PingsAnswered != 5 || st.ControlPingsAnswered != 1 {
		t.Fatalf("stats: %d app pings, %d control pings answered; want 5 and 1", st.PingsAnswered, st.ControlPingsAnswered)
	}
}

// TestSnapshotBeforeAck: with the option set, the first snapshot precedes
// the ack, as Bybit sometimes does.
func TestSnapshotBeforeAck(t *testing.T) {
	for _, before := range []bool{false, true} {
		s := pausedServer(t, Config{Seed: 6, SnapshotBeforeAck: before})
		cl := dial(t, s.URL("linear"))
		cl.send(subscribeMsg("orderbook.50.BTCUSDT"))
		first := decode(t, cl.next())
		if (first.Topic != "") != before {
			t.Fatalf("SnapshotBeforeAck=%v: first message %+v", before, first)
		}
	}
}
