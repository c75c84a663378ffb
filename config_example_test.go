package ringfeed_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/ringfeed/ringfeed"
)

// A ConfigError names the Config field at fault; a front end maps it to
// its own names (the CLI to flags).
func ExampleConfig_Validate() {
	cfg := ringfeed.Config{Category: ringfeed.Linear, Symbols: []string{"BTCUSDT"}, Topics: []string{"orderbook.50"}}
	cfg.Session.PingInterval = time.Nanosecond
	err := cfg.Validate()
	var ce *ringfeed.ConfigError
	if errors.As(err, &ce) {
		fmt.Println(ce.Field)
	}
	fmt.Println(err)

	cfg.Session.PingInterval = 0 // the default, net/session's
	fmt.Println(cfg.Validate(), cfg.Admin)
	// Output:
	// Session.PingInterval
	// ringfeed: Config.Session.PingInterval: 1ns is out of range [100ms, 10m0s]
	// <nil> off
}

func ExampleRange() {
	r, _ := ringfeed.Range("RingSize")
	fmt.Println(r)
	// Output: [64, 1048576]
}
