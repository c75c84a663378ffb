package main

import (
	"fmt"
	"io"
	"math"
	"regexp"
	"slices"
	"strings"
	"time"
)

// check is one line of the result table. An informational line (info)
// never fails.
type check struct {
	name, value, bound string
	info, fail         bool
}

// behaviour is one row of the failure-behaviour table.
type behaviour struct {
	kind, does, metric string
	planned, injected  int
	isolated           int
	outcome            string
}

// Result is what a soak run measured.
type Result struct {
	Header  string
	Checks  []check
	Rows    []behaviour
	Notes   []string
	Dir     string // logs, kept when the run failed
	Elapsed time.Duration
}

func (res *Result) add(c check) { res.Checks = append(res.Checks, c) }

// Failed reports whether any line failed.
func (res *Result) Failed() bool {
	for _, c := range res.Checks {
		if c.fail {
			return true
		}
	}
	return false
}

// Print writes the tables in a fixed-width form.
func (res *Result) Print(w io.Writer) {
	fmt.Fprintln(w, res.Header)
	fmt.Fprintln(w)
	fmt.Fprintf(w, "%-34s %-62s %-40s %s\n", "CHECK", "MEASURED", "BOUND", "")
	for _, c := range res.Checks {
		st := "ok"
		switch {
		case c.fail:
			st = "FAIL"
		case c.info:
			st = "info"
		}
		fmt.Fprintf(w, "%-34s %-62s %-40s %s\n", c.name, c.value, c.bound, st)
	}
	if len(res.Rows) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintf(w, "%-15s %-9s %s\n", "FAULT", "INJ/ISO", "MEASURED OUTCOME (per isolated fault unless stated)")
		for _, b := range res.Rows {
			fmt.Fprintf(w, "%-15s %-9s %s\n", b.kind, fmt.Sprintf("%d/%d", b.injected, b.isolated), b.outcome)
		}
	}
	for _, n := range res.Notes {
		fmt.Fprintln(w, "note:", n)
	}
	if res.Dir != "" {
		fmt.Fprintln(w, "logs:", res.Dir)
	}
}

// Markdown writes the result for RESULTS.md: the command, the table as
// printed, and the failure-behaviour table.
func (res *Result) Markdown(w io.Writer, command string) {
	fmt.Fprintf(w, "Command: `%s`\n\n```\n", command)
	res.Print(w)
	fmt.Fprint(w, "```\n\n")
	res.BehaviourMarkdown(w)
}

// BehaviourMarkdown writes the failure-behaviour table as Markdown.
func (res *Result) BehaviourMarkdown(w io.Writer) {
	fmt.Fprintln(w, "| fault | what ringfeed does | metric that shows it | soak outcome (injected / isolated: measured) |")
	fmt.Fprintln(w, "|---|---|---|---|")
	for _, b := range res.Rows {
		fmt.Fprintf(w, "| %s | %s | %s | %d / %d: %s |\n", b.kind, b.does, b.metric, b.injected, b.isolated, b.outcome)
	}
}

// What ringfeed does about each fault and where it shows, from the design
// and the code (net/session, net/wsconn, processor.go); the soak measures
// whether it holds.
var behaviours = map[string][2]string{
	"drop-msgs":       {"TCP reset (1006): the reader returns, the one retry loop reconnects (full-jitter backoff, shared limiter) and resubscribes; the connection's books are stale until their snapshots", "`ringfeed_connection_up`, `ringfeed_reconnect_attempts_total`, `ringfeed_resubscribes_total{reason=\"reconnect\"}`"},
	"drop-after":      {"as drop-msgs", "as drop-msgs"},
	"stall":           {"the socket stays up (the pong timeout, 10 s, and idle timeout, 30 s, are longer) and the simulator re-snapshots books and tickers after it; but a ping ringfeed sends into the stall is never answered, so ringfeed reconnects a pong timeout after sending it", "`ringfeed_pong_rtt_seconds`; `ringfeed_connects_total` when a ping was lost"},
	"garbage":         {"parse error counted, frame skipped; connection and other symbols carry on", "`ringfeed_parse_errors_total{reason=\"syntax\"}`"},
	"binary":          {"binary frame counted and skipped", "`ringfeed_frames_total{opcode=\"binary\"}`"},
	"oversize":        {"above --max-message: close 1009 and reconnect; below: parsed and rejected as an unknown topic", "`ringfeed_oversize_total`, `ringfeed_parse_errors_total{reason=\"unknown_topic\"}`"},
	"skip-delta":      {"u gap: that book goes stale (gap) and its topic alone is resubscribed for a fresh snapshot", "`ringfeed_books_stale_total{reason=\"gap\"}`, `ringfeed_resubscribes_total{reason=\"resync\"}`"},
	"restart":         {"u == 1 is a snapshot: the book resets in place and stays live; counted, and the instrument re-read from REST", "`ringfeed_book_anomalies_total{reason=\"restart\"}`, `ringfeed_instrument_reloads_total` (no stale transition)"},
	"cross":           {"crossed book goes stale (crossed); topic resubscribed", "`ringfeed_books_stale_total{reason=\"crossed\"}`"},
	"fragment":        {"continuation frames reassembled, a ping between fragments answered", "`ringfeed_frames_total{opcode=\"continuation\"}`"},
	"server-ping":     {"RFC 6455 pings answered by the reader", "`ringfeed_frames_total{opcode=\"ping\"}`"},
	"silence":         {"a topic silent past its threshold (orderbook.1 10 s, books 30 s, tickers 60 s, klines 150 s) is resubscribed alone; shorter silences need nothing", "`ringfeed_resubscribes_total{reason=\"silence\"}`"},
	"duplicate-delta": {"a duplicate delta (u not above the last) is dropped and counted; the book stays live, no resync", "`ringfeed_book_anomalies_total{reason=\"duplicate\"}` (no stale transition)"},
	"split-trades":    {"the repeated trade is recognised by id and dropped from the tape", "`ringfeed_trades_duplicate_total`"},
	"refuse":          {"handshake refused (429/403): counted, retried on the backoff schedule", "`ringfeed_connects_total{result=\"refused\"}`"},
	"delay-handshake": {"a slow handshake within --handshake-timeout just connects later (the soak drops a connection to provoke one)", "`ringfeed_connects_total{result=\"ok\"}` (later)"},
	"reject-topic":    {"failed subscription logged once, counted, retried alone on backoff", "`ringfeed_subscribe_failures_total`"},
	"slow-reader":     {"smaller server send buffer: a reader that keeps up is unaffected", "none"},
	"mute":            {"as silence, and a resubscribe gets no snapshot while it lasts: past the threshold the stream is stale (/v1 and /healthz) until data returns", "`ringfeed_resubscribes_total{reason=\"silence\"}`, `ringfeed_books_stale_total{reason=\"silent\"}`"},
	hookStallKind:     {"processor sleeps in a book hook: the reader keeps reading and answering pings, the ring fills, events are dropped after --ring-full-wait and the books marked stale (dropped), then resynced", "`ringfeed_hooks_over_budget_total`, `ringfeed_ring_drops_total`, `ringfeed_books_stale_total{reason=\"dropped\"}`"},
}

// effectKeys are the counters whose change a fault window reports.
var effectKeys = []string{
	"connects", "failed_connects", "stale:gap", "stale:crossed", "stale:dropped", "stale:resync",
	"stale:out_of_order", "stale:seq_backwards", "stale:incomplete", "stale:bad_number", "stale:delta_before_snapshot",
	"resub:reconnect", "resub:resync", "resub:silence", "parse_errors", "binary_frames",
	"oversize", "protocol_errors", "trade_dups", "ring_drops", "sub_failures",
}

// Fragmenting and server pings persist on a connection until it ends, so
// their counters (continuation and ping frames) move in every later
// window: they are reported for the whole run instead. So is
// hooks_over_budget: the chaos hook runs on every book message and
// sometimes overruns its 50 µs budget when preempted.

var summaryRe = regexp.MustCompile(`handling latency p50=(\S+) p99=(\S+) p99\.9=(\S+) max=(\S+) \(n=(\d+)\)`)

// result builds the tables from what the run measured; cmp is nil when
// the run broke before the final comparison.
func (r *runner) result(cmp *comparison, summary string) *Result {
	cfg := r.cfg
	res := &Result{Elapsed: time.Since(r.start)}
	stall := "off"
	if cfg.HookStall > 0 {
		stall = cfg.HookStall.String() + "/" + cfg.HookEvery.String()
	}
	res.Header = fmt.Sprintf("ringfeed soak: seed=%d duration=%v fault-rate=%.2f/s category=%s symbols=%s topics=%s hook-stall=%s ring=%d max-message=%d (wall %v)",
		cfg.Seed, cfg.Duration, cfg.FaultRate, cfg.Category, strings.Join(r.syms, ","), strings.Join(cfg.Topics, ","),
		stall, cfg.RingSize, cfg.MaxMessage, res.Elapsed.Round(time.Second))
	r.isolate()
	if r.endC == nil {
		// The run broke off: figures up to the last scrape.
		r.endC, r.endAt, r.endSim = r.lastC, time.Now(), r.sim.Stats()
	}
	if r.startC == nil {
		r.startC = r.lastC
	}

	if cmp != nil {
		v := fmt.Sprintf("%d/%d books, %d levels", cmp.booksEqual, cmp.books, cmp.levels)
		res.add(check{name: "books equal to simulator", value: v, bound: "every level of every book", fail: cmp.booksEqual != cmp.books || cmp.books == 0})
		conv := fmt.Sprintf("in %v", cmp.convergedIn.Round(time.Millisecond))
		if !cmp.converged {
			conv = "no: " + cmp.waitingFor
		}
		res.add(check{name: "converged (simulator paused)", value: conv, bound: "every u equal, /healthz 200 within " + convergeTimeout.String(), fail: !cmp.converged})
		res.add(check{name: "klines: newest candle equal", value: fmt.Sprintf("%d/%d windows", cmp.klinesEqual, cmp.klines), bound: "stream's newest, or REST's if ahead", fail: cmp.klinesEqual != cmp.klines})
		res.add(check{name: "klines: older candles equal", value: fmt.Sprintf("%d/%d (%d equal to REST, the rest to the stream)", cmp.closedEqual, cmp.closed, cmp.fromREST),
			bound: "each equal to the stream's or REST's", fail: cmp.closedEqual != cmp.closed})
		res.add(check{name: "tickers equal", value: fmt.Sprintf("%d/%d tickers, %d fields", cmp.tickersEqual, cmp.tickers, cmp.tickerFields), bound: "every field by value", fail: cmp.tickersEqual != cmp.tickers})
		for _, d := range slices.Concat(cmp.bookDiffs, cmp.klineDiffs, cmp.closedDiffs, cmp.tickerDiffs) {
			res.Notes = append(res.Notes, "differs: "+d)
		}
		if len(cmp.unparsed) > 0 {
			res.Notes = append(res.Notes, "ticker fields the simulator sends that ringfeed does not keep (not compared): "+strings.Join(cmp.unparsed, ","))
		}
	}
	r.lossChecks(res)
	r.connChecks(res)
	r.staleChecks(res)
	r.faultChecks(res)
	r.resourceChecks(res, summary)
	res.Rows = r.behaviourRows()
	levels, msgs := r.rf.logCounts()
	res.add(check{name: "log lines", value: fmt.Sprintf("INFO %d, WARN %d, ERROR %d", levels["INFO"], levels["WARN"], levels["ERROR"]), info: true})
	for _, k := range sortedCounts(msgs, 6) {
		res.Notes = append(res.Notes, fmt.Sprintf("log: %d × %s", msgs[k], k))
	}
	return res
}

// isolate marks fault windows that no other window overlaps.
func (r *runner) isolate() {
	now := time.Now()
	for _, f := range r.faults {
		if f.skipped != "" {
			continue
		}
		f.isolated = true
		for _, g := range r.faults {
			if g == f || g.skipped != "" {
				continue
			}
			if g.at.Before(f.windowEnd(now)) && f.at.Before(g.windowEnd(now)) {
				f.isolated = false
				break
			}
		}
	}
}

func (r *runner) lossChecks(res *Result) {
	var clean, dirty segment
	clean.lostBy, dirty.lostBy = map[string]float64{}, map[string]float64{}
	var cleanN, dirtyN, badSegs int
	var cleanT, allT time.Duration
	for _, s := range r.segs {
		acc, n := &dirty, &dirtyN
		if s.clean {
			acc, n = &clean, &cleanN
			cleanT += s.to.Sub(s.from)
			if s.lost != 0 || s.ringLost != 0 {
				badSegs++
			}
			for _, v := range s.lostBy {
				if v != 0 {
					badSegs++
					break
				}
			}
		}
		allT += s.to.Sub(s.from)
		*n++
		acc.sent += s.sent
		acc.lost += s.lost
		acc.ringLost += s.ringLost
		for k, v := range s.lostBy {
			acc.lostBy[k] += v
		}
	}
	byKind := func(s segment) string {
		var p []string
		for _, k := range msgKinds {
			p = append(p, fmt.Sprintf("%s %.0f", k[1], s.lostBy[k[1]]))
		}
		return strings.Join(p, ", ")
	}
	res.add(check{name: "messages lost outside fault windows", value: fmt.Sprintf("%.0f of %.0f sent (%d clean segments, %v)", clean.lost, clean.sent, cleanN, cleanT.Round(time.Second)),
		bound: "= 0 in every clean segment", fail: badSegs > 0 || cleanN == 0})
	res.add(check{name: "messages lost in fault windows", value: fmt.Sprintf("%.0f of %.0f sent (%s; ring drops %.0f)", dirty.lost, dirty.sent, byKind(dirty), dirty.ringLost), info: true})
	cover := 0.0
	if allT > 0 {
		cover = 100 * cleanT.Seconds() / allT.Seconds()
	}
	res.add(check{name: "checkpoints", value: fmt.Sprintf("%d taken, %d did not drain; clean segments %.0f%% of time", len(r.cps), r.cpFailed, cover), info: true})
	res.Notes = append(res.Notes, "lost = messages the simulator queued − messages ringfeed applied (messages_applied_total), counted exactly at checkpoints taken with the simulator paused and ringfeed drained; a segment between two checkpoints is clean when no fault was injected in it and no fault window (hook stalls included) was open in it")
}

func (r *runner) connChecks(res *Result) {
	up := 0.0
	if r.wallTime > 0 {
		up = 100 * r.upTime.Seconds() / r.wallTime.Seconds()
	}
	// The floor: every outage as long as the backoff schedule lets it be.
	var allowed time.Duration
	for _, o := range r.outages {
		allowed += o.bound
	}
	floor := 0.0
	if r.wallTime > 0 {
		floor = max(0, 100*(1-allowed.Seconds()/r.wallTime.Seconds()))
	}
	res.add(check{name: "uptime (connected / wall)", value: fmt.Sprintf("%.2f%% over %d connections", up, len(r.conns)),
		bound: fmt.Sprintf(">= %.2f%% (outages at their schedule bound)", floor), fail: up < floor || r.wallTime == 0})
	var maxAtt, sumAtt, overLimit, overBound int
	var worst float64
	var worstS string
	for _, o := range r.outages {
		maxAtt = max(maxAtt, o.attempts)
		sumAtt += o.attempts
		if o.attempts > o.limit {
			overLimit++
		}
		if o.dur() > o.bound {
			overBound++
		}
		if q := o.dur().Seconds() / o.bound.Seconds(); q > worst {
			worst = q
			worstS = fmt.Sprintf("%v of %v allowed (%d attempts from exponent %d)", o.dur().Round(time.Millisecond), o.bound.Round(time.Millisecond), o.attempts, o.exp)
		}
	}
	mean := 0.0
	if len(r.outages) > 0 {
		mean = float64(sumAtt) / float64(len(r.outages))
	}
	var durs []time.Duration
	for _, o := range r.outages {
		durs = append(durs, o.dur())
	}
	res.add(check{name: "outages (reconnects)", value: fmt.Sprintf("%d; length p50 %v max %v", len(r.outages), pct(durs, 50), pct(durs, 100)), info: true})
	res.add(check{name: "attempts per outage (no storm)", value: fmt.Sprintf("mean %.2f, max %d; %d over the limit", mean, maxAtt, overLimit),
		bound: fmt.Sprintf("<= %d + 1 per %v of outage (limiter)", limiterBurst, limiterEvery), fail: overLimit > 0})
	if worstS == "" {
		worstS = "no outage"
	}
	res.add(check{name: "outage length vs backoff schedule", value: "worst " + worstS, bound: "Σ min(30s, 0.5s·2^n) + 3s per attempt", fail: overBound > 0})
	failed := r.endC["failed_connects"]
	refused := float64(r.endSim.HandshakesRefused)
	res.add(check{name: "failed connects explained", value: fmt.Sprintf("%.0f failed, %.0f handshakes refused by the simulator", failed, refused),
		bound: "failed = refused (no other failure)", fail: failed != refused})
	res.add(check{name: "disconnects without a fault", value: fmt.Sprintf("%d", len(r.lostConns)), bound: "= 0", fail: len(r.lostConns) > 0})
}

func (r *runner) staleChecks(res *Result) {
	d := func(k string) float64 { return r.endC[k] - r.startC[k] }
	injected := r.injectedByKind()
	perConn := 0
	if len(r.conns) > 0 {
		perConn = (len(r.books) + len(r.conns) - 1) / len(r.conns)
	}
	type rule struct {
		reason string
		bound  float64
		why    string
	}
	rules := []rule{
		{"gap", float64(injected["skip-delta"]), "skip-delta"},
		{"crossed", float64(injected["cross"]), "cross"},
		{"resync", float64(len(r.outages) * perConn), "outages × books per connection"},
		{"dropped", d("ring_drops"), "messages dropped on a full ring"},
	}
	var parts []string
	bad := false
	for _, ru := range rules {
		v := d("stale:" + ru.reason)
		parts = append(parts, fmt.Sprintf("%s %.0f<=%.0f", ru.reason, v, ru.bound))
		if v > ru.bound {
			bad = true
			res.Notes = append(res.Notes, fmt.Sprintf("stale{%s} %.0f exceeds %.0f (%s)", ru.reason, v, ru.bound, ru.why))
		}
	}
	other := 0.0
	for _, reason := range staleReasons {
		if !slices.ContainsFunc(rules, func(ru rule) bool { return ru.reason == reason }) {
			if v := d("stale:" + reason); v > 0 {
				other += v
				res.Notes = append(res.Notes, fmt.Sprintf("stale{%s} +%.0f with no fault that explains it", reason, v))
			}
		}
	}
	parts = append(parts, fmt.Sprintf("other %.0f", other))
	res.add(check{name: "stale books explained by faults", value: strings.Join(parts, ", "), bound: "each <= its cause; other = 0", fail: bad || other > 0})
	res.add(check{name: "resyncs by reason", value: fmt.Sprintf("resubscribes: reconnect %.0f, resync %.0f, silence %.0f; requested %.0f, recovered %.0f",
		d("resub:reconnect"), d("resub:resync"), d("resub:silence"), d("resyncs_req"), d("recovered")), info: true})

	garbage := float64(injected["garbage"])
	small, big := 0.0, 0.0
	for _, f := range r.faults {
		if f.kind == "oversize" && f.skipped == "" {
			if f.kills {
				big++
			} else {
				small++
			}
		}
	}
	parse, binary, over := d("parse_errors"), d("binary_frames"), d("oversize")
	res.add(check{name: "bad frames counted and skipped", value: fmt.Sprintf("parse errors %.0f<=%.0f garbage+%.0f small oversize; binary %.0f<=%.0f; oversize %.0f<=%.0f",
		parse, garbage, small, binary, float64(injected["binary"]), over, big),
		bound: "each <= injected; no protocol error", fail: parse > garbage+small || binary > float64(injected["binary"]) || over > big || d("protocol_errors") > 0})
	res.add(check{name: "trade duplicates dropped", value: fmt.Sprintf("%.0f<=%d split-trades", d("trade_dups"), injected["split-trades"]),
		bound: "<= split-trades injected", fail: d("trade_dups") > float64(injected["split-trades"])})
}

func (r *runner) injectedByKind() map[string]int {
	out := map[string]int{}
	for _, f := range r.faults {
		if f.skipped == "" {
			out[f.kind]++
		}
	}
	return out
}

func (r *runner) faultChecks(res *Result) {
	planned := map[string]int{}
	for _, p := range r.plan {
		planned[p.kind.String()]++
	}
	injected := r.injectedByKind()
	var missing []string
	n, skipped, timedOut := 0, 0, 0
	for _, f := range r.faults {
		switch {
		case f.kind == hookStallKind:
		case f.skipped != "":
			skipped++
		default:
			n++
		}
		if f.timedOut {
			timedOut++
		}
	}
	for _, k := range faultKinds() {
		if injected[k.String()] == 0 && planned[k.String()] >= 2 {
			missing = append(missing, k.String())
		}
	}
	v := fmt.Sprintf("%d of %d planned (%d skipped)", n, len(r.plan), skipped)
	why := map[string]int{}
	for _, f := range r.faults {
		if f.skipped != "" {
			why[f.kind+": "+f.skipped]++
		}
	}
	for _, k := range sortedCounts(why, 5) {
		res.Notes = append(res.Notes, fmt.Sprintf("skipped: %d × %s", why[k], k))
	}
	if len(missing) > 0 {
		v += "; never injected: " + strings.Join(missing, ",")
	}
	res.add(check{name: "faults injected", value: v, bound: "every kind planned twice injected", fail: len(missing) > 0})
	res.add(check{name: "fault windows closed", value: fmt.Sprintf("%d timed out", timedOut), bound: "= 0 (recovered within " + maxWindow.String() + ")", fail: timedOut > 0})
	if r.cfg.HookStall > 0 {
		want := 0
		if r.cfg.Duration > r.cfg.HookEvery+10*time.Second {
			want = 1
		}
		res.add(check{name: "processor hook stalls", value: fmt.Sprintf("%d detected; hooks over budget %.0f", r.hookStalls, r.endC["hooks_over"]-r.startC["hooks_over"]),
			bound: fmt.Sprintf(">= %d (one per %v)", want, r.cfg.HookEvery), fail: r.hookStalls < want})
	}
}

func (r *runner) resourceChecks(res *Result, summary string) {
	if m := summaryRe.FindStringSubmatch(summary); m != nil {
		res.add(check{name: "handling latency (whole run)", value: fmt.Sprintf("p50 %s p99 %s p99.9 %s max %s (n=%s)", m[1], m[2], m[3], m[4], m[5]),
			bound: "reported, never gated", info: true})
	} else {
		res.add(check{name: "handling latency (whole run)", value: "no exit summary from ringfeed", info: true})
	}
	if n := len(r.quietLat); n > 0 {
		var p50, p99, p999 []time.Duration
		for _, s := range r.quietLat {
			p50 = append(p50, time.Duration(s.q[0]*1e9))
			p99 = append(p99, time.Duration(s.q[1]*1e9))
			p999 = append(p999, time.Duration(s.q[2]*1e9))
		}
		res.add(check{name: "handling latency (quiet windows)", value: fmt.Sprintf("median of %d 1-s windows: p50 %v p99 %v p99.9 %v; worst p99.9 %v",
			n, pctRaw(p50, 50), pctRaw(p99, 50), pctRaw(p999, 50), pctRaw(p999, 100)), bound: "reported, never gated", info: true})
	}
	if r.startC == nil || r.endC == nil {
		return
	}
	const mib = 1 << 20
	rs, re := r.startC["rss"], r.endC["rss"]
	res.add(check{name: "RSS start → end", value: fmt.Sprintf("%.1f MiB → %.1f MiB", rs/mib, re/mib), bound: "end <= 1.5 × start + 32 MiB", fail: re > 1.5*rs+32*mib})
	gs, ge := r.startC["goroutines"], r.endC["goroutines"]
	res.add(check{name: "goroutines start → end", value: fmt.Sprintf("%.0f → %.0f", gs, ge), bound: "end <= start + 5", fail: ge > gs+5})
	gc := r.endC["gc_cycles"] - r.startC["gc_cycles"]
	span := r.endAt.Sub(r.startAt)
	res.add(check{name: "GC cycles", value: fmt.Sprintf("%.0f in %v (%.1f/min)", gc, span.Round(time.Second), gc/math.Max(span.Minutes(), 1e-9)), info: true})
	res.Notes = append(res.Notes,
		"bounds: RSS may grow by the GC's heap target swings and the read buffers a 1 MiB frame grows (one per connection), not with run length; goroutines are per connection (reader, control) plus the engine's, so after recovery the count returns to the start's, +5 for admin HTTP connections and a probe or kline fill in flight")
}

// behaviourRows measures each fault kind's outcome from its isolated
// windows (no other window overlapping): the mean change of every effect
// counter per fault, the time back to healthy, and the messages lost in
// checkpoint segments that held only faults of that kind.
func (r *runner) behaviourRows() []behaviour {
	kinds := []string{}
	for _, k := range faultKinds() {
		kinds = append(kinds, k.String())
	}
	kinds = append(kinds, hookStallKind)
	planned := map[string]int{}
	for _, p := range r.plan {
		planned[p.kind.String()]++
	}
	var rows []behaviour
	for _, k := range kinds {
		b := behaviour{kind: k, does: behaviours[k][0], metric: behaviours[k][1], planned: planned[k]}
		sum := map[string]float64{}
		var rec []time.Duration
		bad := 0
		for _, f := range r.faults {
			if f.kind != k || f.skipped != "" {
				continue
			}
			b.injected++
			if !f.isolated || f.before == nil || f.after == nil {
				continue
			}
			b.isolated++
			for _, key := range effectKeys {
				sum[key] += f.after[key] - f.before[key]
			}
			if f.bad > 0 && !f.goodAgain.IsZero() {
				bad++
				rec = append(rec, f.goodAgain.Sub(f.at))
			}
		}
		var parts []string
		if b.isolated > 0 {
			for _, key := range effectKeys {
				if v := sum[key] / float64(b.isolated); v != 0 {
					name := key
					if key == "connects" {
						name = "reconnects"
					}
					parts = append(parts, fmt.Sprintf("%s %s", name, trimFloat(v)))
				}
			}
			if len(parts) == 0 {
				parts = append(parts, "no counter moved")
			}
			if bad == 0 {
				parts = append(parts, "/healthz 200 at every poll")
			} else {
				parts = append(parts, fmt.Sprintf("unhealthy after %d of %d, healthy again %v after injection (max %v)", bad, b.isolated, pct(rec, 50), pct(rec, 100)))
			}
		}
		if lost, segs := r.lostOnlyBy(k); segs > 0 {
			parts = append(parts, fmt.Sprintf("lost %.0f msgs in %d segment(s) with only this fault", lost, segs))
		}
		d := func(key string) float64 { return r.endC[key] - r.startC[key] }
		if outs := r.outagesAfter(k); len(outs) > 0 {
			var ds []time.Duration
			att := 0
			for _, o := range outs {
				ds = append(ds, o.dur())
				att = max(att, o.attempts)
			}
			parts = append(parts, fmt.Sprintf("whole run: %d outage(s) followed, down p50 %v max %v, at most %d attempt(s)", len(outs), pct(ds, 50), pct(ds, 100), att))
		}
		switch k {
		case "silence":
			long := 0
			for _, f := range r.faults {
				if f.kind == k && f.skipped == "" && f.nominal > 10*time.Second && strings.Contains(f.spec, "orderbook.1.") {
					long++
				}
			}
			parts = append(parts, fmt.Sprintf("whole run: %d silence(s) outlasted orderbook.1's 10 s threshold; ringfeed resubscribed %.0f time(s) for silence", long, d("resub:silence")))
		case "fragment":
			parts = append(parts, fmt.Sprintf("whole run: %.0f continuation frames reassembled", d("cont_frames")))
		case "server-ping":
			parts = append(parts, fmt.Sprintf("whole run: ringfeed received %.0f pings (%d periodic, the rest between fragments) and the simulator got %d pongs back",
				d("ping_frames"), r.endSim.ServerPingsSent-r.startSim.ServerPingsSent, r.endSim.PongsReceived-r.startSim.PongsReceived))
		case "stall":
			swallowed, ended := 0, 0
			for _, f := range r.faults {
				if f.kind == k && f.mayKill {
					swallowed++
					if !r.simConns[f.conn] {
						ended++
					}
				}
			}
			parts = append(parts, fmt.Sprintf("whole run: %d stalls swallowed a ping, %d of those connections ended (pong timeout)", swallowed, ended))
		case hookStallKind:
			var rec []time.Duration
			inside := 0
			for _, f := range r.faults {
				if f.kind != k || f.closed.IsZero() {
					continue
				}
				rec = append(rec, f.closed.Sub(f.at))
				for _, o := range r.outages {
					if !o.start.Before(f.at) && o.start.Before(f.at.Add(r.cfg.HookStall)) && !r.explained(o) {
						inside++
					}
				}
			}
			parts = append(parts, fmt.Sprintf("whole run: %.0f messages dropped on a full ring, stale{dropped} %.0f, resync requests %.0f; books live again p50 %v after the stall began (max %v); outages during a stall not caused by a connection fault %d",
				d("ring_drops"), d("stale:dropped"), d("resyncs_req"), pct(rec, 50), pct(rec, 100), inside))
		case "refuse":
			parts = append(parts, fmt.Sprintf("whole run: %d handshakes refused, ringfeed counted %.0f", r.endSim.HandshakesRefused-r.startSim.HandshakesRefused, r.endC["refused"]-r.startC["refused"]))
		case "delay-handshake":
			parts = append(parts, fmt.Sprintf("whole run: %d handshakes delayed", r.endSim.HandshakesDelayed-r.startSim.HandshakesDelayed))
		case "reject-topic":
			parts = append(parts, fmt.Sprintf("whole run: %d topic subscriptions rejected, ringfeed counted %.0f failed requests", r.endSim.SubscribesFailed-r.startSim.SubscribesFailed, r.endC["sub_failures"]-r.startC["sub_failures"]))
		}
		if b.injected == 0 {
			parts = []string{"not injected in this run"}
		}
		b.outcome = strings.Join(parts, "; ")
		rows = append(rows, b)
	}
	return rows
}

// outagesAfter returns the outages that a fault of kind k aimed at their
// connection explains (the nearest such fault before each outage).
func (r *runner) outagesAfter(k string) []outage {
	var out []outage
	for _, o := range r.outages {
		var best *faultRec
		for _, f := range r.faults {
			if (f.kills || f.mayKill) && f.rfConn == o.conn && !f.at.After(o.start) && o.start.Sub(f.at) <= maxWindow {
				if best == nil || f.at.After(best.at) {
					best = f
				}
			}
		}
		if best != nil && best.kind == k {
			out = append(out, o)
		}
	}
	return out
}

// explained reports whether a connection fault aimed at o's connection
// (one that kills it, or a stall that swallowed a ping) came before o
// within a fault window's bound.
func (r *runner) explained(o outage) bool {
	for _, f := range r.faults {
		if (f.kills || f.mayKill) && f.rfConn == o.conn && !f.at.After(o.start) && o.start.Sub(f.at) <= maxWindow {
			return true
		}
	}
	return false
}

// lostOnlyBy sums the messages lost in segments whose faults are all of
// kind k.
func (r *runner) lostOnlyBy(k string) (float64, int) {
	var lost float64
	n := 0
	for _, s := range r.segs {
		if len(s.faults) == 0 {
			continue
		}
		only := true
		for _, id := range s.faults {
			if r.faults[id].kind != k {
				only = false
				break
			}
		}
		if only {
			lost += s.lost
			n++
		}
	}
	return lost, n
}

func trimFloat(v float64) string {
	if v == math.Trunc(v) {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

// pct returns the p-th percentile (nearest rank) of ds, 0 when empty.
func pct(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := (p*len(s) + 99) / 100
	i = min(max(i, 1), len(s))
	return s[i-1].Round(time.Millisecond)
}

// pctRaw is pct without rounding (latencies are microseconds).
func pctRaw(ds []time.Duration, p int) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	i := min(max((p*len(s)+99)/100, 1), len(s))
	return s[i-1]
}

// sortedCounts returns up to n keys of m, largest count first.
func sortedCounts(m map[string]int, n int) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.SortFunc(ks, func(a, b string) int {
		if m[a] != m[b] {
			return m[b] - m[a]
		}
		return strings.Compare(a, b)
	})
	return ks[:min(n, len(ks))]
}
