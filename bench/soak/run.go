package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ringfeed/ringfeed/net/bybitsim"
	"github.com/ringfeed/ringfeed/net/rest"
)

// Phase bounds.
const (
	startTimeout    = 30 * time.Second       // ringfeed healthy after start
	cooldownTimeout = 2 * maxWindow          // every window closed after the last fault
	convergeTimeout = 30 * time.Second       // books at the simulator's u, paused
	checkpointEvery = 2 * time.Second        // at least this often when nothing happens
	minSegment      = 300 * time.Millisecond // shortest clean segment worth a checkpoint
	maxPollErrors   = 50                     // consecutive failed scrapes before giving up
	// quietAfter is how long after the last fault window latency windows
	// count as quiet: ringfeed reports one-second windows, and a
	// processor hands its histogram over up to a report period late, so
	// the window a scrape shows can be two seconds old.
	quietAfter = 4 * time.Second
	// reportWindow is ringfeed's latency report window (report.go).
	reportWindow = time.Second
)

// runner is one soak run's state. It is used by one goroutine.
type runner struct {
	cfg   Config
	dir   string
	debug *os.File // soak.log in dir
	sim   *bybitsim.Server
	rf    *child
	start time.Time

	syms   []string
	books  []bookKey
	klines []klineKey
	ticker bool

	plan   []planned
	faults []*faultRec

	// Poll state.
	lastT      time.Time
	last       samples
	lastC      map[string]float64
	healthy    bool
	pollErrs   int
	polls      int
	conns      []*connTrack
	outages    []outage
	simConns   map[string]bool
	killed     map[string]bool
	lostConns  []string // simulator connections that ended without a kill fault
	measuring  bool
	upTime     time.Duration // Σ over connections of connected time
	wallTime   time.Duration // Σ over connections of measured time
	hookStalls int
	hookSeen   float64       // hook_seconds_total when last looked at
	history    []timed       // recent polls' counters, to look behind a hook stall
	lastDirty  time.Time     // last poll with a fault window open
	quietLat   []quietSample // p50, p99, p99.9 of quiet one-second windows

	// Checkpoints.
	cps       []checkpoint
	segs      []segment
	dirty     bool
	segFaults []int
	lastCPTry time.Time
	cpFailed  int

	startC, endC map[string]float64
	startAt      time.Time
	endAt        time.Time
	startSim     bybitsim.Stats
	endSim       bybitsim.Stats
}

// timed is one poll's counters.
type timed struct {
	t time.Time
	c map[string]float64
}

// historyLen is how many polls countersAt can look back: more than a hook
// stall's length at the fastest poll.
const historyLen = 200

type bookKey struct {
	sym   string
	depth int
}

type klineKey struct{ sym, iv string }

// Run runs one soak and returns its result. An error means the run could
// not be carried out (build, start, ringfeed died); the result, when not
// nil, holds what was measured until then.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	dir, temp := cfg.Dir, cfg.Dir == ""
	var err error
	if temp {
		dir, err = os.MkdirTemp("", "ringfeed-soak-")
	} else {
		err = os.MkdirAll(dir, 0o755)
	}
	if err != nil {
		return nil, err
	}
	r := &runner{cfg: cfg, dir: dir, simConns: map[string]bool{}, killed: map[string]bool{}}
	res, err := r.run(ctx)
	if res != nil {
		res.Dir = dir
	}
	if temp && err == nil && res != nil && !res.Failed() {
		_ = os.RemoveAll(dir) // logs are kept only when something failed
		res.Dir = ""
	}
	return res, err
}

// logf writes a progress line, also to the run's soak.log.
func (r *runner) logf(format string, args ...any) {
	line := r.debugf(format, args...)
	fmt.Fprint(r.cfg.Progress, line)
}

// debugf writes a line to the run's soak.log only, and returns it.
func (r *runner) debugf(format string, args ...any) string {
	el := time.Duration(0)
	if !r.start.IsZero() {
		el = time.Since(r.start).Round(100 * time.Millisecond)
	}
	line := fmt.Sprintf("soak %7s  %s\n", el, fmt.Sprintf(format, args...))
	if r.debug != nil {
		_, _ = r.debug.WriteString(line)
	}
	return line
}

func (r *runner) run(ctx context.Context) (*Result, error) {
	cfg := r.cfg
	bin := cfg.Ringfeed
	var err error
	if bin == "" {
		r.logf("building ./cmd/ringfeed")
		if bin, err = buildRingfeed(ctx, cfg.Go, r.dir); err != nil {
			return nil, err
		}
	}
	if r.debug, err = os.Create(filepath.Join(r.dir, "soak.log")); err != nil {
		return nil, err
	}
	defer r.debug.Close()
	simLog, err := os.Create(filepath.Join(r.dir, "bybitsim.log"))
	if err != nil {
		return nil, err
	}
	defer simLog.Close()
	var simMu sync.Mutex
	sim, err := bybitsim.Start(bybitsim.Config{Seed: cfg.Seed, Logf: func(format string, args ...any) {
		simMu.Lock()
		defer simMu.Unlock()
		fmt.Fprintf(simLog, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05.000")}, args...)...)
	}})
	if err != nil {
		return nil, err
	}
	defer sim.Close()
	r.sim = sim
	r.syms = cfg.Symbols
	if len(r.syms) == 0 {
		r.syms = sim.Symbols(cfg.Category)
	}
	if err := r.layout(); err != nil {
		return nil, err
	}
	r.start = time.Now()
	r.plan = plan(cfg.Seed, cfg.FaultRate, cfg.warmup(), cfg.Duration)
	r.logf("seed %d: %d faults planned over %v, hook stall %v every %v", cfg.Seed, len(r.plan), cfg.Duration-cfg.warmup(), cfg.HookStall, cfg.HookEvery)

	rf, err := startChild(bin, r.args(), filepath.Join(r.dir, "ringfeed.log"))
	if err != nil {
		return nil, err
	}
	r.rf = rf
	defer rf.stop()
	r.logf("ringfeed admin at %s, logs in %s", rf.admin, r.dir)

	if err := r.phases(ctx); err != nil {
		res := r.result(nil, "")
		res.add(check{name: "run completed", value: err.Error(), bound: "every phase within its bound", fail: true})
		return res, err
	}
	cmp := r.converge(ctx)
	sim.Resume()
	exitErr := rf.stop()
	summary := rf.output()
	res := r.result(cmp, summary)
	if exitErr != nil {
		res.add(check{name: "ringfeed exit", value: exitErr.Error(), bound: "status 0 on SIGTERM", fail: true})
	}
	return res, nil
}

// layout lists the books, kline windows and tickers ringfeed will hold.
func (r *runner) layout() error {
	for _, t := range r.cfg.Topics {
		switch {
		case strings.HasPrefix(t, "orderbook."):
			d, err := strconv.Atoi(strings.TrimPrefix(t, "orderbook."))
			if err != nil {
				return fmt.Errorf("-topics: %q", t)
			}
			for _, s := range r.syms {
				r.books = append(r.books, bookKey{s, d})
			}
		case strings.HasPrefix(t, "kline."):
			for _, s := range r.syms {
				r.klines = append(r.klines, klineKey{s, strings.TrimPrefix(t, "kline.")})
			}
		case t == "tickers":
			r.ticker = true
		}
	}
	return nil
}

// args is ringfeed's command line: one connection per symbol so that
// connection faults hit one symbol's streams and the others carry on.
func (r *runner) args() []string {
	cfg := r.cfg
	a := []string{
		"--category", cfg.Category,
		"--symbols", strings.Join(r.syms, ","),
		"--topics", strings.Join(cfg.Topics, ","),
		"--symbols-per-conn", "1",
		"--ws-url", r.sim.URL(cfg.Category),
		"--rest-url", r.sim.RESTURL(),
		"--admin", "127.0.0.1:0",
		"--status", "0",
		"--log-format", "json",
		"--log-level", "info",
		"--ring-size", strconv.Itoa(cfg.RingSize),
		"--max-message", strconv.Itoa(cfg.MaxMessage),
		// A backstop: the child stops by itself even if the driver dies
		// without killing it.
		"--duration", (cfg.Duration + 10*time.Minute).String(),
	}
	if cfg.HookStall > 0 {
		a = append(a, "--chaos-hook-stall", cfg.HookStall.String()+"/"+cfg.HookEvery.String())
	}
	return a
}

// phases runs start-up, warm-up, the fault phase and the cool-down.
func (r *runner) phases(ctx context.Context) error {
	cfg := r.cfg
	// Start-up: every connection up, every book live.
	if err := r.pollUntil(ctx, startTimeout, "ringfeed healthy at start", func() bool { return r.healthy }); err != nil {
		return err
	}
	r.logf("ringfeed healthy; warm-up until %v", cfg.warmup())
	warmEnd := r.start.Add(cfg.warmup())
	if err := r.pollUntil(ctx, cfg.warmup()+startTimeout, "warm-up", func() bool { return !time.Now().Before(warmEnd) }); err != nil {
		return err
	}
	// Start-of-run figures and the first checkpoint.
	r.startC, r.startAt, r.startSim = r.lastC, time.Now(), r.sim.Stats()
	for i := 0; i < 10 && len(r.cps) == 0; i++ {
		r.tryCheckpoint(true)
	}
	if len(r.cps) == 0 {
		return errors.New("could not take the first checkpoint: ringfeed does not drain with the simulator paused")
	}
	r.measuring = true

	// Faults.
	r.logf("fault phase: %d faults until %v", len(r.plan), cfg.Duration)
	next := 0
	end := r.start.Add(cfg.Duration)
	for time.Now().Before(end) {
		for next < len(r.plan) && time.Since(r.start) >= r.plan[next].at {
			// Close the clean span before the fault with a checkpoint, so
			// that clean segments are the gaps between fault windows.
			if !r.dirty && time.Since(r.cps[len(r.cps)-1].t) >= minSegment {
				r.tryCheckpoint(true)
			}
			r.inject(r.plan[next])
			next++
		}
		if err := r.step(ctx); err != nil {
			return err
		}
	}
	// Cool-down: no more faults; wait for every window to close.
	r.logf("cool-down: waiting for every fault window to close")
	err := r.pollUntil(ctx, cooldownTimeout, "every fault window closed and ringfeed healthy", func() bool {
		return r.openWindows() == 0 && r.healthy
	})
	if err != nil {
		return err
	}
	for i := 0; i < 10; i++ {
		n := len(r.cps)
		r.tryCheckpoint(true)
		if len(r.cps) > n {
			break
		}
	}
	r.measuring = false
	r.endC, r.endAt, r.endSim = r.lastC, time.Now(), r.sim.Stats()
	return nil
}

// step polls once, checkpoints when due, and sleeps until the next poll.
func (r *runner) step(ctx context.Context) error {
	if err := r.poll(); err != nil {
		return err
	}
	r.tryCheckpoint(false)
	return rest.Sleep(ctx, r.cfg.Poll)
}

// pollUntil steps until cond holds, at most d.
func (r *runner) pollUntil(ctx context.Context, d time.Duration, what string, cond func() bool) error {
	deadline := time.Now().Add(d)
	for {
		if err := r.poll(); err != nil {
			return err
		}
		if cond() {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: not within %v", what, d)
		}
		if err := rest.Sleep(ctx, r.cfg.Poll); err != nil {
			return err
		}
	}
}

// poll scrapes ringfeed and the simulator once and updates every tracker.
func (r *runner) poll() error {
	if !r.rf.running() {
		return fmt.Errorf("ringfeed exited: %s (log in %s)", r.rf.exitReason(), r.dir)
	}
	m, err := r.rf.metrics()
	if err != nil {
		r.pollErrs++
		if r.pollErrs > maxPollErrors {
			return fmt.Errorf("%d scrapes in a row failed: %v", r.pollErrs, err)
		}
		return nil
	}
	r.pollErrs = 0
	r.polls++
	now := time.Now()
	healthy := r.rf.healthy()
	conns := r.connsOfCategory()
	c := counters(m)
	if r.conns == nil {
		n := 0
		for n < len(m) {
			if _, ok := m[`ringfeed_connection_up{conn="`+strconv.Itoa(n)+`",category="`+r.cfg.Category+`"}`]; !ok {
				break
			}
			n++
		}
		for range n {
			r.conns = append(r.conns, &connTrack{})
		}
	}
	prev := r.lastT
	if prev.IsZero() {
		prev = now
	}
	if r.measuring {
		dt := now.Sub(prev)
		for _, ct := range r.conns {
			r.wallTime += dt
			if ct.up {
				r.upTime += dt
			}
		}
	}
	for _, o := range trackConns(r.conns, m, prev, now, r.cfg.Poll) {
		r.outages = append(r.outages, o)
		r.logf("outage conn %d: %v, %d attempt(s)", o.conn, o.dur().Round(time.Millisecond), o.attempts)
	}
	r.trackSimConns(conns)
	r.detectHookStall(c, prev)
	allUp := true
	for _, ct := range r.conns {
		allUp = allUp && ct.up
	}
	for _, f := range r.faults {
		if !f.open() {
			continue
		}
		r.dirty = true
		r.lastDirty = now
		if !healthy || !allUp {
			f.bad++
			f.goodAgain = time.Time{}
		} else if f.bad > 0 && f.goodAgain.IsZero() {
			f.goodAgain = now
		}
		if now.Sub(f.at) >= maxWindow {
			f.closed, f.timedOut, f.after = now, true, c
			r.logf("fault %d %s: window timed out after %v", f.id, f.kind, maxWindow)
			continue
		}
		if f.kind == "stall" && f.rfConn >= 0 && !f.mayKill && !now.After(f.at.Add(f.nominal+r.cfg.Poll)) &&
			m.conn("ringfeed_pings_sent_total", f.rfConn) > f.pings {
			// A ping sent into the stall goes unanswered: ringfeed ends
			// the connection PongTimeout later, as it should.
			f.mayKill = true
			r.killed[f.conn] = true
			r.logf("fault %d stall swallowed a ping of ringfeed conn %d", f.id, f.rfConn)
		}
		if now.Before(f.at.Add(f.nominal+settle)) || !healthy || !allUp {
			continue
		}
		if f.kills && r.simConns[f.conn] {
			continue
		}
		if f.mayKill && r.simConns[f.conn] && now.Before(f.at.Add(f.nominal+pongTimeout+2*time.Second)) {
			continue
		}
		f.closed, f.after = now, c
	}
	if r.measuring && now.Sub(r.lastDirty) >= quietAfter {
		r.sampleLatency(m)
	}
	r.last, r.lastC, r.lastT, r.healthy = m, c, now, healthy
	r.history = append(r.history, timed{now, c})
	if n := len(r.history); n > historyLen {
		r.history = append(r.history[:0], r.history[n-historyLen:]...)
	}
	return nil
}

// detectHookStall opens a window for a hook stall when the book hook's
// total time jumped by at least half a stall since the last look. A stall
// is visible only once it is over, so its window starts a stall's length
// before prev (the last scrape before the jump).
func (r *runner) detectHookStall(c map[string]float64, prev time.Time) {
	h := c["hook_seconds"]
	seen := r.hookSeen
	r.hookSeen = h
	if r.cfg.HookStall <= 0 || seen == 0 && r.lastC == nil || h-seen < r.cfg.HookStall.Seconds()/2 {
		return
	}
	r.hookStalls++
	at := prev.Add(-r.cfg.HookStall)
	f := &faultRec{id: len(r.faults), kind: hookStallKind, spec: "hook sleeps " + r.cfg.HookStall.String(), rfConn: -1,
		at: at, before: r.countersAt(at)}
	r.faults = append(r.faults, f)
	r.dirty = true
	r.segFaults = append(r.segFaults, f.id)
	r.unquiet(at.Add(-reportWindow))
	r.logf("fault %d %s detected", f.id, hookStallKind)
}

// countersAt returns the counters of the last poll at or before t, as far
// back as the history goes.
func (r *runner) countersAt(t time.Time) map[string]float64 {
	for i := len(r.history) - 1; i >= 0; i-- {
		if !r.history[i].t.After(t) {
			return r.history[i].c
		}
	}
	if len(r.history) > 0 {
		return r.history[0].c
	}
	return r.lastC
}

// sampleLatency keeps the handling-latency quantiles of ringfeed's last
// one-second report window, once per window, while no fault acts.
func (r *runner) sampleLatency(m samples) {
	q := [3]float64{
		m.sum("ringfeed_handling_latency_window_seconds", "stat", "p50"),
		m.sum("ringfeed_handling_latency_window_seconds", "stat", "p99"),
		m.sum("ringfeed_handling_latency_window_seconds", "stat", "p99.9"),
	}
	if q[0] == 0 || len(r.quietLat) > 0 && r.quietLat[len(r.quietLat)-1].q == q {
		return
	}
	r.quietLat = append(r.quietLat, quietSample{time.Now(), q})
	r.debugf("quiet latency window: p50 %v p99 %v p99.9 %v", time.Duration(q[0]*1e9), time.Duration(q[1]*1e9), time.Duration(q[2]*1e9))
}

// quietSample is one report window's latency quantiles.
type quietSample struct {
	t time.Time
	q [3]float64
}

// unquiet drops latency samples taken since t: a hook stall is found only
// after it ends.
func (r *runner) unquiet(t time.Time) {
	for len(r.quietLat) > 0 && !r.quietLat[len(r.quietLat)-1].t.Before(t) {
		r.quietLat = r.quietLat[:len(r.quietLat)-1]
	}
}

func (r *runner) connsOfCategory() []bybitsim.ConnInfo {
	var out []bybitsim.ConnInfo
	for _, c := range r.sim.Conns() {
		if c.Category == r.cfg.Category {
			out = append(out, c)
		}
	}
	return out
}

// trackSimConns notes simulator connections that ended; one that ended
// without a fault aimed at killing it is an unexplained disconnect.
func (r *runner) trackSimConns(conns []bybitsim.ConnInfo) {
	now := map[string]bool{}
	for _, c := range conns {
		now[c.ID] = true
	}
	for id := range r.simConns {
		if !now[id] && !r.killed[id] {
			r.lostConns = append(r.lostConns, id)
			r.logf("connection %s ended without a fault that kills it", id)
		}
	}
	r.simConns = now
}

// rfConnOf maps a simulator connection to ringfeed's connection index:
// ringfeed runs one symbol per connection, in --symbols order.
func (r *runner) rfConnOf(simConn string) int {
	if simConn == "" {
		return -1
	}
	for _, c := range r.connsOfCategory() {
		if c.ID != simConn {
			continue
		}
		for _, t := range c.Topics {
			for i, s := range r.syms {
				if strings.HasSuffix(t, "."+s) && i < len(r.conns) {
					return i
				}
			}
		}
	}
	return -1
}

func (r *runner) openWindows() int {
	n := 0
	for _, f := range r.faults {
		if f.open() {
			n++
		}
	}
	return n
}

// inject applies one planned fault to the simulator and opens its window.
func (r *runner) inject(p planned) {
	f, kills, why := build(p, r.connsOfCategory(), r.cfg.MaxMessage)
	target := f.Conn // the connection the fault aims at, if any
	rec := &faultRec{id: len(r.faults), kind: p.kind.String(), spec: f.String(), at: time.Now(),
		nominal: nominal(f), before: r.lastC, rfConn: -1}
	r.faults = append(r.faults, rec)
	skip := func(why string) {
		rec.skipped = why
		r.logf("fault %d %s skipped: %s", rec.id, rec.spec, why)
	}
	if why != "" {
		skip(why)
		return
	}
	if f.Kind == bybitsim.FaultDelayHandshake {
		// Provoke the handshake it delays: drop the target connection.
		if _, err := r.sim.Inject(bybitsim.Fault{Kind: bybitsim.FaultDropAfter, Conn: target, D: 10 * time.Millisecond}); err != nil {
			skip(err.Error())
			return
		}
		f.Conn = "" // a handshake fault has no connection
		rec.spec = f.String() + " (after drop-after,conn=" + target + ",d=10ms)"
	}
	n, err := r.sim.Inject(f)
	switch {
	case err != nil:
		skip(err.Error())
		return
	case n == 0:
		skip("no target took it")
		return
	}
	rec.targets = n
	rec.conn, rec.rfConn = target, r.rfConnOf(target)
	if rec.rfConn >= 0 {
		rec.pings = r.last.conn("ringfeed_pings_sent_total", rec.rfConn)
	}
	if kills {
		rec.kills = true
		r.killed[target] = true
	}
	r.dirty = true
	r.lastDirty = time.Now()
	r.segFaults = append(r.segFaults, rec.id)
	r.logf("fault %d %s", rec.id, rec.spec)
}

// tryCheckpoint takes a checkpoint when no fault window is open and one
// is due: a fault segment just ended, checkpointEvery passed, or force.
// With the simulator paused it waits, at most a second, until ringfeed has
// received and applied everything sent (its rings empty, counts steady
// over two scrapes).
func (r *runner) tryCheckpoint(force bool) {
	now := time.Now()
	if r.openWindows() > 0 || !force && !r.dirty && now.Sub(r.lastCPTry) < checkpointEvery {
		return
	}
	if !force && r.dirty && now.Sub(r.lastCPTry) < minSegment {
		return // a checkpoint that failed to drain a moment ago
	}
	r.lastCPTry = now
	r.sim.Pause()
	defer r.sim.Resume()
	var prev *checkpoint
	for range 40 {
		time.Sleep(25 * time.Millisecond)
		m, err := r.rf.metrics()
		if err != nil {
			continue
		}
		c := counters(m)
		cp := checkpoint{t: time.Now(), sent: sentByKind(r.sim.Stats(), r.cfg.Category), recv: map[string]float64{},
			applied: c["applied"], dropped: c["sink_drops"]}
		for _, k := range msgKinds {
			cp.recv[k[1]] = c["recv:"+k[1]]
		}
		// Drained: everything received was applied (a processor stuck
		// in a hook may hold a whole batch while the rings read empty),
		// and nothing moved between two scrapes.
		if c["ring_occupancy"] == 0 && cp.recvTotal() == cp.applied && prev != nil && prev.applied == cp.applied &&
			prev.sentTotal() == cp.sentTotal() && prev.recvTotal() == cp.recvTotal() {
			// A hook stall that ended since the last poll belongs to the
			// segment this checkpoint closes.
			r.detectHookStall(c, r.lastT)
			if len(r.cps) > 0 {
				seg := newSegment(r.cps[len(r.cps)-1], cp, !r.dirty, r.segFaults)
				r.segs = append(r.segs, seg)
				r.debugf("segment %s", seg)
			}
			r.cps = append(r.cps, cp)
			r.dirty, r.segFaults = false, nil
			return
		}
		prev = &cp
	}
	r.cpFailed++
}
