package rest_test

import (
	"context"
	"fmt"
	"time"

	"github.com/ringfeed/ringfeed/net/bybitsim"
	"github.com/ringfeed/ringfeed/net/rest"
)

// One client serves every REST caller; here it lists the simulator's
// linear instruments with the scales a feed handler needs.
func ExampleClient_Instruments() {
	srv, err := bybitsim.Start(bybitsim.Config{})
	if err != nil {
		panic(err)
	}
	defer srv.Close()
	c, err := rest.New(rest.Config{URL: srv.RESTURL(), Timeout: 5 * time.Second})
	if err != nil {
		panic(err)
	}
	list, err := c.Instruments(context.Background(), "linear", "")
	if err != nil {
		panic(err)
	}
	for _, in := range list {
		fmt.Println(in.Symbol, in.PriceFilter.TickSize, in.SizeStep())
	}
	// Output:
	// BTCUSDT 0.10 0.001
	// ETHUSDT 0.01 0.01
	// XRPUSDT 0.0001 1
}

// RecentTrades returns what the publicTrade stream sent, newest first; a
// market nobody subscribed to has made no trades yet.
func ExampleClient_RecentTrades() {
	srv, err := bybitsim.Start(bybitsim.Config{})
	if err != nil {
		panic(err)
	}
	defer srv.Close()
	c, err := rest.New(rest.Config{URL: srv.RESTURL()})
	if err != nil {
		panic(err)
	}
	trs, err := c.RecentTrades(context.Background(), "spot", "BTCUSDT", 0)
	fmt.Println(len(trs), err, rest.MaxTrades("spot"), rest.MaxTrades("linear"))
	// Output: 0 <nil> 60 1000
}
