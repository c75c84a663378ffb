package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/ringfeed/ringfeed"
	"github.com/ringfeed/ringfeed/net/client"
	"github.com/ringfeed/ringfeed/net/publish"
)

// pubOptions are the NATS fan-out flags.
type pubOptions struct {
	publish  string // URL list, or "embedded"
	port     int
	store    string
	embedded bool
}

func addPublishFlags(fs *flag.FlagSet, o *options) {
	c := &o.cfg.Publish
	fs.StringVar(&o.pub.publish, "publish", "", "publish every update to NATS: nats://host:port[,...], or 'embedded' for an in-process nats-server with JetStream on 127.0.0.1")
	fs.StringVar(&c.Creds, "nats-creds", "", "NATS credentials `file` (user JWT and nkey seed)")
	fs.StringVar(&c.CA, "nats-ca", "", "PEM `file` of certificate authorities for tls:// NATS servers")
	fs.IntVar(&o.pub.port, "nats-port", 4222, "--publish embedded: client port on 127.0.0.1 (0: any free port)")
	fs.StringVar(&o.pub.store, "nats-store", filepath.Join(os.TempDir(), "ringfeed-jetstream"), "--publish embedded: JetStream store `dir`")
	fs.DurationVar(&c.SnapshotEvery, "snapshot-every", 0, "refresh each live book's snapshot in JetStream this often besides after every resync (0: 10s)")
	fs.Func("shard", "take shard `i/n` of the symbol list (by a consistent hash of the symbol; n processes share one list)", func(v string) error {
		sh, err := ringfeed.ParseShard(v)
		if err != nil {
			return err
		}
		o.cfg.Shard = sh
		return nil
	})
	fs.IntVar(&c.RingSize, "publish-ring", 0, "slots of each processor's ring to the publisher, a power of two (0: 8192, about 10 MiB)")
}

func (o *options) finishPublish() error {
	switch p := o.pub.publish; p {
	case "":
	case "embedded":
		o.pub.embedded = true
		if o.pub.port < 0 || o.pub.port > 65535 {
			return flagErr("nats-port", "%d is not a port", o.pub.port)
		}
		if o.pub.store == "" {
			return flagErr("nats-store", "required with --publish embedded")
		}
	default:
		u, err := publish.ParseURLs(p)
		if err != nil {
			return flagErr("publish", "%v", err)
		}
		o.cfg.Publish.URL = u
	}
	return nil
}

// startEmbeddedNATS runs the in-process server for --publish embedded and
// points the publisher at it.
func startEmbeddedNATS(o *options, log *slog.Logger) (*server.Server, error) {
	if !o.pub.embedded {
		return nil, nil
	}
	if err := os.MkdirAll(o.pub.store, 0o755); err != nil {
		return nil, flagErr("nats-store", "%v", err)
	}
	ns, err := publish.Embedded{Port: o.pub.port, StoreDir: o.pub.store}.Start()
	if err != nil {
		return nil, flagErr("nats-port", "%v", err)
	}
	o.cfg.Publish.URL = ns.ClientURL()
	log.Info("embedded NATS started; watch with: ringfeed tail --nats "+ns.ClientURL()+" 'ringfeed.>'", "url", ns.ClientURL(), "store", o.pub.store)
	return ns, nil
}

// runTail is `ringfeed tail`: print what ringfeed publishes.
func runTail(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("ringfeed tail", flag.ContinueOnError)
	fs.SetOutput(stderr)
	url := fs.String("nats", "nats://127.0.0.1:4222", "NATS server URL(s)")
	creds := fs.String("nats-creds", "", "NATS credentials `file`")
	ca := fs.String("nats-ca", "", "PEM `file` of certificate authorities for tls://")
	category := fs.String("category", "linear", "category of --book")
	sym := fs.String("book", "", "keep a replica of this `symbol`'s book and print it (the /v1/book JSON)")
	depth := fs.Int("depth", 0, "--book: stream depth (0: the deepest published)")
	levels := fs.Int("levels", 0, "--book: levels per side printed (0: all)")
	once := fs.Bool("once", false, "--book: print the replica once it is live, then exit")
	asJSON := fs.Bool("json", false, "print message bodies only (no subject)")
	count := fs.Int("count", 0, "exit after this many messages (0: until interrupted)")
	timeout := fs.Duration("timeout", 15*time.Second, "--once: give up when the book is not live within this")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: ringfeed tail [flags] SUBJECT      (e.g. 'ringfeed.linear.trade.BTCUSDT', 'ringfeed.>')")
		fmt.Fprintln(stderr, "       ringfeed tail [flags] --book SYMBOL [--once --json]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	u, err := publish.ParseURLs(*url)
	if err != nil {
		fmt.Fprintln(stderr, "ringfeed tail: --nats:", err)
		return 2
	}
	if (*sym == "") == (fs.NArg() == 0) || fs.NArg() > 1 {
		fs.Usage()
		return 2
	}
	opts := []nats.Option{nats.Name("ringfeed tail"), nats.MaxReconnects(-1)}
	if *creds != "" {
		opts = append(opts, nats.UserCredentials(*creds))
	}
	if *ca != "" {
		opts = append(opts, nats.RootCAs(*ca))
	}
	nc, err := nats.Connect(u, opts...)
	if err != nil {
		fmt.Fprintln(stderr, "ringfeed tail:", err)
		return 1
	}
	defer nc.Close()
	if *sym == "" {
		return tailSubject(ctx, nc, fs.Arg(0), *asJSON, *count, stdout, stderr)
	}
	c, err := client.New(nc, *category)
	if err != nil {
		fmt.Fprintln(stderr, "ringfeed tail: --category:", err)
		return 2
	}
	return tailBook(ctx, c, *sym, *depth, *levels, *once, *count, *timeout, stdout, stderr)
}

func tailSubject(ctx context.Context, nc *nats.Conn, subject string, bodyOnly bool, count int, stdout, stderr io.Writer) int {
	msgs := make(chan *nats.Msg, 4096)
	sub, err := nc.ChanSubscribe(subject, msgs)
	if err != nil {
		fmt.Fprintln(stderr, "ringfeed tail:", err)
		return 2
	}
	defer sub.Unsubscribe()
	for n := 0; count == 0 || n < count; n++ {
		select {
		case <-ctx.Done():
			return 0
		case m := <-msgs:
			if bodyOnly {
				fmt.Fprintf(stdout, "%s\n", m.Data)
			} else {
				fmt.Fprintf(stdout, "%s %s\n", m.Subject, m.Data)
			}
		}
	}
	return 0
}

func tailBook(ctx context.Context, c *client.Client, sym string, depth, levels int, once bool, count int, timeout time.Duration, stdout, stderr io.Writer) int {
	if once {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	if depth == 0 {
		// The snapshot may not be there yet (the engine just started).
		for {
			ds, err := c.Depths(ctx, sym)
			if err == nil {
				depth = ds[0]
				break
			}
			select {
			case <-ctx.Done():
				fmt.Fprintf(stderr, "ringfeed tail: no book of %s published: %v\n", sym, err)
				return 1
			case <-time.After(200 * time.Millisecond):
			}
		}
	}
	b, err := c.SubscribeBook(sym, depth, nil)
	if err != nil {
		fmt.Fprintln(stderr, "ringfeed tail:", err)
		return 1
	}
	defer b.Close()
	enc := json.NewEncoder(stdout)
	for n := 0; count == 0 || n < count; {
		select {
		case <-ctx.Done():
			if once {
				fmt.Fprintf(stderr, "ringfeed tail: %s book not live within %v\n", sym, timeout)
				return 1
			}
			return 0
		case <-b.Updated():
		}
		if !b.Live() {
			continue
		}
		_ = enc.Encode(b.View(levels))
		n++
		if once {
			return 0
		}
	}
	return 0
}

// publishSummary adds the NATS fan-out's counters to the run's summary,
// one line per category's publisher.
func publishSummary(w io.Writer, e *ringfeed.Engine) {
	for _, c := range e.Categories() {
		ce := e.Category(c)
		if ce == nil || ce.Publisher() == nil {
			continue
		}
		p := ce.Publisher()
		s := p.Stats()
		fmt.Fprintf(w, "summary: nats category=%s published=%d dropped=%d reconnects=%d trades_replayed=%d connected=%v\n",
			c, s.Published, s.Dropped, s.Reconnects, s.Replayed, p.Connected())
	}
}
