package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"time"

	"github.com/ringfeed/ringfeed"
)

// allOptions are the `--symbols all` settings.
type allOptions struct {
	quote   string
	refresh time.Duration
}

func addSymbolsAllFlags(fs *flag.FlagSet, o *options) {
	fs.StringVar(&o.all.quote, "quote", "", "--symbols all: keep instruments quoted in these coins, e.g. USDT or USDT,USDC (default: any)")
	fs.DurationVar(&o.all.refresh, "symbols-refresh", 10*time.Minute, "--symbols all: re-read instruments-info this often; a changed list (new listings, delistings) restarts the engine in-process with it (0: never)")
}

func (o *options) symbolsAll() bool { return len(o.cfg.Symbols) == 1 && o.cfg.Symbols[0] == "all" }

func (o *options) filter() ringfeed.SymbolFilter {
	return ringfeed.SymbolFilter{Quote: splitList(o.all.quote)}
}

// listAll resolves `--symbols all` to the instruments that trade now,
// narrowed by --shard (the engine narrows again; that is idempotent).
func listAll(ctx context.Context, o *options) ([]string, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	list, err := ringfeed.ListSymbols(ctx, o.cfg.RESTURL, o.cfg.CAFile, o.cfg.Category, o.filter())
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, flagErr("symbols", "'all' with --quote %q selects no trading instrument of %s", o.all.quote, o.cfg.Category)
	}
	return o.cfg.Shard.Filter(list), nil
}

// runEngines runs the engine; with `--symbols all` and a refresh period it
// re-reads the listing meanwhile and, when it changed, stops the engine and
// runs a new one with the new list (every book resyncs; consumers of the
// NATS fan-out see stale notices, then snapshots).
func runEngines(ctx context.Context, o *options, log *slog.Logger, stdout, stderr io.Writer) int {
	if !o.symbolsAll() {
		return runEngine(ctx, o, log, stdout, stderr)
	}
	list, err := listAll(ctx, o)
	if err != nil {
		fmt.Fprintln(stderr, "ringfeed: --symbols all:", err)
		if ringfeed.IsConfigError(err) || isUsage(err) {
			return 2
		}
		return 1
	}
	for {
		o.cfg.Symbols = list
		log.Info("--symbols all", "symbols", len(list), "quote", o.all.quote, "shard", o.cfg.Shard.String())
		if o.all.refresh <= 0 {
			return runEngine(ctx, o, log, stdout, stderr)
		}
		ectx, cancel := context.WithCancel(ctx)
		changed := make(chan []string, 1)
		go watchListing(ectx, o, list, log, changed, cancel)
		code := runEngine(ectx, o, log, stdout, stderr)
		cancel()
		select {
		case next := <-changed:
			if ctx.Err() == nil {
				list = next
				continue
			}
		default:
		}
		return code
	}
}

// watchListing re-reads the listing every refresh period until ctx ends;
// on a change it sends the new list and cancels the running engine.
func watchListing(ctx context.Context, o *options, cur []string, log *slog.Logger, changed chan<- []string, stop context.CancelFunc) {
	t := time.NewTicker(o.all.refresh)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		next, err := listAll(ctx, o)
		if err != nil {
			log.Warn("--symbols all: instruments-info refresh failed; keeping the current list", "err", err)
			continue
		}
		if slices.Equal(next, cur) {
			continue
		}
		var added, gone []string
		for _, s := range next {
			if !slices.Contains(cur, s) {
				added = append(added, s)
			}
		}
		for _, s := range cur {
			if !slices.Contains(next, s) {
				gone = append(gone, s)
			}
		}
		log.Info("--symbols all: listing changed; restarting the engine with the new list", "added", added, "removed", gone)
		changed <- next
		stop()
		return
	}
}
