package client_test

import (
	"fmt"
	"os"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/ringfeed/ringfeed/net/client"
	"github.com/ringfeed/ringfeed/net/publish"
)

// A replica of BTCUSDT's 50-level book: here the engine's snapshot and one
// delta are published by hand on a local nats-server.
func ExampleClient_SubscribeBook() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	ns, err := publish.Embedded{StoreDir: dir}.Start()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer ns.Shutdown()
	nc, _ := nats.Connect(ns.ClientURL())
	defer nc.Close()

	c, _ := client.New(nc, "linear")
	b, _ := c.SubscribeBook("BTCUSDT", 50, nil)
	defer b.Close()

	subj := publish.BookSubject("linear", "BTCUSDT", 50)
	_ = nc.Publish(subj, []byte(`{"type":"snapshot","symbol":"BTCUSDT","depth":50,"n":1,"u":100,"seq":7,"ts":1,"ps":8,"ss":8,"bids":[["65000.1","1"]],"asks":[["65000.2","2"]]}`))
	_ = nc.Publish(subj, []byte(`{"type":"delta","symbol":"BTCUSDT","depth":50,"n":2,"u":101,"seq":8,"ts":2,"bids":[["65000.1","0.5"]],"asks":[]}`))
	for deadline := time.Now().Add(10 * time.Second); b.N() < 2 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	v := b.View(5)
	fmt.Println(v.U, v.Stale, v.Bids, v.Asks)
	// Output: 101 false [[65000.1 0.5]] [[65000.2 2]]
}
