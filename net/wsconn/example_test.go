package wsconn_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/coder/websocket"

	"github.com/ringfeed/ringfeed/net/wsconn"
)

// exampleServer stands in for Bybit on 127.0.0.1: it pushes the given
// messages, echoes whatever the client sends, and closes with 1000 once the
// client has sent echoes messages.
func exampleServer(push []string, echoes int) (url string, stop func()) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
		defer cancel()
		for _, p := range push {
			if err := c.Write(ctx, websocket.MessageText, []byte(p)); err != nil {
				return
			}
		}
		for range echoes {
			typ, p, err := c.Read(ctx)
			if err != nil {
				return
			}
			if err := c.Write(ctx, typ, p); err != nil {
				return
			}
		}
		c.Close(websocket.StatusNormalClosure, "bye")
	}))
	return "ws" + strings.TrimPrefix(srv.URL, "http"), srv.Close
}

func ExampleDial() {
	url, stop := exampleServer([]string{`{"topic":"tickers.BTCUSDT","type":"snapshot"}`}, 0)
	defer stop()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := wsconn.Dial(ctx, url+"/v5/public/linear", wsconn.Options{
		IdleTimeout: 40 * time.Second, // twice the heartbeat interval
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close(wsconn.CloseNormal, "")

	m, err := c.ReadMessage()
	fmt.Printf("%s %v\n", m.Payload, err)
	// Output: {"topic":"tickers.BTCUSDT","type":"snapshot"} <nil>
}

// A wss:// connection to a server whose certificate is signed by a private
// CA: the CA is added to the system roots; verification stays on.
func ExampleDial_privateCA() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := wsconn.Dial(ctx, "wss://stream.internal.example:8443/v5/public/spot", wsconn.Options{
		RootCAFile:       "/etc/ringfeed/ca.pem",
		DialTimeout:      3 * time.Second,
		HandshakeTimeout: 5 * time.Second,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	c.Close(wsconn.CloseNormal, "")
}

func ExampleConn_ReadMessage() {
	url, stop := exampleServer([]string{"one", "two", "three"}, 0)
	defer stop()
	c, err := wsconn.Dial(context.Background(), url, wsconn.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	// The engine's reader loop: Payload is valid until the next call, so it
	// is parsed (here: printed) before reading on.
	for {
		m, err := c.ReadMessage()
		if ce, ok := errors.AsType[*wsconn.CloseError](err); ok {
			fmt.Println("server closed:", ce.Code, ce.Reason)
			return
		}
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("%s\n", m.Payload)
	}
	// Output:
	// one
	// two
	// three
	// server closed: 1000 bye
}

func ExampleConn_WriteText() {
	url, stop := exampleServer(nil, 1)
	defer stop()
	c, err := wsconn.Dial(context.Background(), url, wsconn.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close(wsconn.CloseNormal, "")

	// Any goroutine may write, while another reads.
	if err := c.WriteText([]byte(`{"op":"subscribe","args":["orderbook.50.BTCUSDT"]}`)); err != nil {
		fmt.Println(err)
		return
	}
	m, err := c.ReadMessage()
	fmt.Printf("echo: %s %v\n", m.Payload, err)
	// Output: echo: {"op":"subscribe","args":["orderbook.50.BTCUSDT"]} <nil>
}

func ExampleConn_Close() {
	url, stop := exampleServer(nil, 1) // the server waits for a message
	defer stop()
	c, err := wsconn.Dial(context.Background(), url, wsconn.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	done := make(chan error)
	go func() {
		_, err := c.ReadMessage() // blocks: nothing arrives
		done <- err
	}()
	fmt.Println(c.Close(wsconn.CloseGoingAway, "shutting down"))
	fmt.Println(<-done)
	fmt.Println(c.Close(wsconn.CloseGoingAway, "again"))
	// Output:
	// <nil>
	// wsconn: connection closed
	// <nil>
}

func ExampleConn_Stats() {
	url, stop := exampleServer([]string{"a", "bb", "ccc"}, 0)
	defer stop()
	c, err := wsconn.Dial(context.Background(), url, wsconn.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for range 3 {
		if _, err := c.ReadMessage(); err != nil {
			fmt.Println(err)
			return
		}
	}
	c.Close(wsconn.CloseNormal, "")
	st := c.Stats()
	fmt.Println("messages:", st.Messages, "text bytes:", st.TextBytes, "closes sent:", st.ClosesSent)
	// Output: messages: 3 text bytes: 6 closes sent: 1
}

func ExampleNanotime() {
	url, stop := exampleServer([]string{`{"topic":"publicTrade.BTCUSDT"}`}, 0)
	defer stop()
	c, err := wsconn.Dial(context.Background(), url, wsconn.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close(wsconn.CloseNormal, "")
	m, err := c.ReadMessage()
	if err != nil {
		fmt.Println(err)
		return
	}
	// ... parse, enqueue, apply ...
	handling := time.Duration(wsconn.Nanotime() - m.RecvNs)
	fmt.Println("handling latency measured:", handling >= 0)
	// Output: handling latency measured: true
}
