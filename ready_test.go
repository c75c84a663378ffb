package ringfeed

import (
	"errors"
	"net"
	"testing"
	"time"
)

// A Run that fails at start closes Ready, so a library user waiting on it
// does not hang, and the error names the Config field, not a flag.
func TestReadyClosedWhenRunFailsAtStart(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	e, err := New(Config{Category: Linear, Symbols: []string{"BTCUSDT"}, Topics: []string{"orderbook.50"},
		WSURL: "ws://127.0.0.1:1", RESTURL: "http://127.0.0.1:1", Admin: ln.Addr().String(), Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- e.Run(t.Context()) }()
	select {
	case <-e.Ready():
	case <-time.After(30 * time.Second):
		t.Fatal("Ready not closed 30 s after Run failed")
	}
	err = <-done
	var ce *ConfigError
	if !errors.As(err, &ce) || ce.Field != "Admin" {
		t.Errorf("Run: got %v; want a ConfigError for Admin", err)
	}
}
