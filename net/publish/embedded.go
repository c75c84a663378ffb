package publish

import (
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Embedded configures an in-process nats-server with JetStream, for
// `ringfeed --publish embedded`, make demo and tests.
type Embedded struct {
	// Host defaults to 127.0.0.1.
	Host string
	// Port: 0 picks a free one (the test default); the CLI uses 4222.
	Port int
	// StoreDir holds JetStream's files; required.
	StoreDir string
	// Timeout bounds the wait for the server to accept clients; 0: 10 s.
	Timeout time.Duration
}

// Start runs the server and returns once it accepts clients. Stop it with
// Shutdown (and WaitForShutdown); its address is ClientURL.
func (c Embedded) Start() (*server.Server, error) {
	if c.StoreDir == "" {
		return nil, errors.New("publish: embedded NATS needs a JetStream store directory")
	}
	host := c.Host
	if host == "" {
		host = "127.0.0.1"
	}
	port := c.Port
	if port == 0 {
		port = server.RANDOM_PORT
	}
	s, err := server.NewServer(&server.Options{
		ServerName: "ringfeed-embedded",
		Host:       host,
		Port:       port,
		JetStream:  true,
		StoreDir:   c.StoreDir,
		NoSigs:     true,
		NoLog:      true,
	})
	if err != nil {
		return nil, fmt.Errorf("publish: embedded NATS: %w", err)
	}
	go s.Start()
	to := c.Timeout
	if to == 0 {
		to = 10 * time.Second
	}
	if !s.ReadyForConnections(to) {
		s.Shutdown()
		return nil, fmt.Errorf("publish: embedded NATS on %s:%d not ready within %v", host, c.Port, to)
	}
	return s, nil
}
