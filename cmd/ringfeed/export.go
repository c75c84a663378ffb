package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/valyala/fastjson"

	"github.com/ringfeed/ringfeed/capture"
)

// CSV layouts of tardis.dev's downloadable datasets
// (https://docs.tardis.dev/downloadable-csv-files): timestamps in
// microseconds since the epoch, "timestamp" the exchange's, and
// "local_timestamp" the receive time. hftbacktest and other backtesters
// read these.
const (
	csvBookHeader   = "exchange,symbol,timestamp,local_timestamp,is_snapshot,side,price,amount\n"
	csvTradesHeader = "exchange,symbol,timestamp,local_timestamp,id,side,price,amount\n"
)

// runExport is `ringfeed export`.
func runExport(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("ringfeed export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	format := fs.String("format", "ndjson", "ndjson (raw frames with receive times) or csv")
	data := fs.String("data", "incremental_book_L2", "csv: incremental_book_L2 or trades (tardis.dev's layouts)")
	depth := fs.Int("depth", 0, "csv incremental_book_L2: the book depth to export (default: the first orderbook depth in the input)")
	category := fs.String("category", "linear", "Bybit category of the capture, for the csv exchange column")
	out := fs.String("o", "-", "output `file` ('-' for standard output)")
	fs.Usage = func() {
		fmt.Fprint(stderr, `usage: ringfeed export [flags] FILE...

Writes the frames of captures (plain or .zst) or NDJSON files, in order,
as NDJSON lines {"recv_ns":N,"data":<frame>} (ringfeed replay reads them
back), or as CSV in tardis.dev's incremental_book_L2 or trades layout.

flags:
`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "ringfeed export: usage: ringfeed export [flags] FILE... (see -h)")
		return 2
	}
	var x exporter
	switch *format {
	case "ndjson":
		x.row = x.ndjson
	case "csv":
		switch *data {
		case "incremental_book_L2":
			x.row, x.header = x.bookRows, csvBookHeader
		case "trades":
			x.row, x.header = x.tradeRows, csvTradesHeader
		default:
			fmt.Fprintf(stderr, "ringfeed export: --data: unknown %q (want incremental_book_L2 or trades)\n", *data)
			return 2
		}
	default:
		fmt.Fprintf(stderr, "ringfeed export: --format: unknown %q (want ndjson or csv)\n", *format)
		return 2
	}
	switch *category {
	case "linear", "inverse":
		x.exchange = "bybit"
	case "spot":
		x.exchange = "bybit-spot"
	case "option":
		x.exchange = "bybit-options"
	default:
		fmt.Fprintf(stderr, "ringfeed export: --category: unknown %q\n", *category)
		return 2
	}
	if *depth < 0 {
		fmt.Fprintln(stderr, "ringfeed export: --depth: must not be negative")
		return 2
	}
	x.depth = strconv.Itoa(*depth)
	if *depth == 0 {
		x.depth = ""
	}
	w := stdout
	var f *os.File
	if *out != "-" {
		var err error
		if f, err = os.Create(*out); err != nil {
			fmt.Fprintln(stderr, "ringfeed export: -o:", err)
			return 2
		}
		w = f
	}
	x.w = bufio.NewWriterSize(w, 1<<20)
	err := x.run(fs.Args(), stderr)
	if e := x.w.Flush(); err == nil {
		err = e
	}
	if f != nil {
		if e := f.Close(); err == nil {
			err = e
		}
	}
	if err != nil {
		fmt.Fprintln(stderr, "ringfeed export:", err)
		return 1
	}
	return 0
}

type exporter struct {
	w        *bufio.Writer
	row      func(capture.Frame)
	header   string
	exchange string
	depth    string // the orderbook depth exported ("" until the first seen)
	fj       fastjson.Parser
	b        []byte
	otherBk  int // book frames of other depths, not exported
}

func (x *exporter) run(paths []string, stderr io.Writer) error {
	x.w.WriteString(x.header)
	for _, p := range paths {
		r, err := capture.Open(p)
		if err != nil {
			return err
		}
		for {
			f, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				r.Close()
				return fmt.Errorf("%s: %w", p, err)
			}
			x.row(f)
		}
		if t := r.Truncated(); t != nil {
			fmt.Fprintf(stderr, "ringfeed export: warning: %s: %v (every complete frame before it was exported)\n", p, t)
		}
		r.Close()
	}
	if x.otherBk > 0 {
		fmt.Fprintf(stderr, "ringfeed export: %d book frames of depths other than %s left out (--depth)\n", x.otherBk, x.depth)
	}
	return nil
}

func (x *exporter) ndjson(f capture.Frame) {
	b := x.b[:0]
	if f.RecvUnixNs != 0 {
		b = append(b, `{"recv_ns":`...)
		b = strconv.AppendInt(b, f.RecvUnixNs, 10)
		b = append(b, `,"data":`...)
		b = append(b, f.Data...)
		b = append(b, "}\n"...)
	} else {
		b = append(append(b, f.Data...), '\n')
	}
	x.b = b
	x.w.Write(b)
}

// localMicros is the receive time in µs, or the exchange's when the input
// had none (tardis.dev's fallback the other way round).
func localMicros(f capture.Frame, exchMs int64) int64 {
	if f.RecvUnixNs != 0 {
		return f.RecvUnixNs / 1000
	}
	return exchMs * 1000
}

func (x *exporter) bookRows(f capture.Frame) {
	v, err := x.fj.ParseBytes(f.Data)
	if err != nil {
		return
	}
	topic := v.GetStringBytes("topic")
	const pre = "orderbook."
	if len(topic) <= len(pre) || string(topic[:len(pre)]) != pre {
		return
	}
	rest := topic[len(pre):]
	i := 0
	for i < len(rest) && rest[i] != '.' {
		i++
	}
	if x.depth == "" {
		x.depth = string(rest[:i])
	}
	if string(rest[:i]) != x.depth {
		x.otherBk++
		return
	}
	d := v.Get("data")
	if d == nil {
		return
	}
	ts := v.GetInt64("ts")
	snap := "false"
	if string(v.GetStringBytes("type")) == "snapshot" {
		snap = "true"
	}
	sym := d.GetStringBytes("s")
	for _, side := range [2]struct{ key, name string }{{"b", "bid"}, {"a", "ask"}} {
		for _, l := range d.GetArray(side.key) {
			lv := l.GetArray()
			if len(lv) < 2 {
				continue
			}
			b := x.b[:0]
			b = append(b, x.exchange...)
			b = append(b, ',')
			b = append(b, sym...)
			b = append(b, ',')
			b = strconv.AppendInt(b, ts*1000, 10)
			b = append(b, ',')
			b = strconv.AppendInt(b, localMicros(f, ts), 10)
			b = append(b, ',')
			b = append(b, snap...)
			b = append(b, ',')
			b = append(b, side.name...)
			b = append(b, ',')
			b = append(b, lv[0].GetStringBytes()...)
			b = append(b, ',')
			b = append(b, lv[1].GetStringBytes()...)
			b = append(b, '\n')
			x.b = b
			x.w.Write(b)
		}
	}
}

func (x *exporter) tradeRows(f capture.Frame) {
	v, err := x.fj.ParseBytes(f.Data)
	if err != nil {
		return
	}
	topic := v.GetStringBytes("topic")
	const pre = "publicTrade."
	if len(topic) <= len(pre) || string(topic[:len(pre)]) != pre {
		return
	}
	for _, t := range v.GetArray("data") {
		side := "unknown"
		switch string(t.GetStringBytes("S")) {
		case "Buy":
			side = "buy"
		case "Sell":
			side = "sell"
		}
		ms := t.GetInt64("T")
		b := x.b[:0]
		b = append(b, x.exchange...)
		b = append(b, ',')
		b = append(b, t.GetStringBytes("s")...)
		b = append(b, ',')
		b = strconv.AppendInt(b, ms*1000, 10)
		b = append(b, ',')
		b = strconv.AppendInt(b, localMicros(f, ms), 10)
		b = append(b, ',')
		b = append(b, t.GetStringBytes("i")...)
		b = append(b, ',')
		b = append(b, side...)
		b = append(b, ',')
		b = append(b, t.GetStringBytes("p")...)
		b = append(b, ',')
		b = append(b, t.GetStringBytes("v")...)
		b = append(b, '\n')
		x.b = b
		x.w.Write(b)
	}
}
