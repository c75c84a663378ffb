package client

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/ringfeed/ringfeed/net/publish"
)

// SubscribeTrades calls fn for every live trade of symbol ("*" for all)
// on the subscription goroutine. A trade published again after a NATS
// reconnect arrives twice: compare N.
func (c *Client) SubscribeTrades(symbol string, fn func(publish.TradeMsg)) (*nats.Subscription, error) {
	return c.nc.Subscribe(publish.TradeSubject(c.category, symbol), func(m *nats.Msg) {
		var t publish.TradeMsg
		if json.Unmarshal(m.Data, &t) == nil {
			fn(t)
		}
	})
}

// SubscribeKlines calls fn with the current state of every updated candle
// of symbol's interval stream.
func (c *Client) SubscribeKlines(symbol, interval string, fn func(publish.KlineMsg)) (*nats.Subscription, error) {
	return c.nc.Subscribe(publish.KlineSubject(c.category, symbol, interval), func(m *nats.Msg) {
		var k publish.KlineMsg
		if json.Unmarshal(m.Data, &k) == nil {
			fn(k)
		}
	})
}

// SubscribeTicker calls fn with symbol's whole merged ticker after every
// update.
func (c *Client) SubscribeTicker(symbol string, fn func(publish.TickerMsg)) (*nats.Subscription, error) {
	return c.nc.Subscribe(publish.TickerSubject(c.category, symbol), func(m *nats.Msg) {
		var t publish.TickerMsg
		if json.Unmarshal(m.Data, &t) == nil {
			fn(t)
		}
	})
}

// LastTicker returns symbol's newest ticker from JetStream.
func (c *Client) LastTicker(ctx context.Context, symbol string) (publish.TickerMsg, error) {
	var t publish.TickerMsg
	err := c.last(ctx, publish.TickerSubject(c.category, symbol), &t)
	return t, err
}

// LastKline returns the newest candle update of symbol's interval stream.
func (c *Client) LastKline(ctx context.Context, symbol, interval string) (publish.KlineMsg, error) {
	var k publish.KlineMsg
	err := c.last(ctx, publish.KlineSubject(c.category, symbol, interval), &k)
	return k, err
}

func (c *Client) last(ctx context.Context, subject string, v any) error {
	s, err := c.js.Stream(ctx, publish.LastStream)
	if err != nil {
		return err
	}
	raw, err := s.GetLastMsgForSubject(ctx, subject)
	if err != nil {
		return err
	}
	return json.Unmarshal(raw.Data, v)
}

// ReadTrades calls fn, in stream order, for every trade of symbol ("*"
// for all) the trade stream holds with a receive time at or after since
// (zero: all), and returns once it has seen the last one stored when it
// started. A trade stored twice (sent again after a reconnect beyond the
// stream's duplicate window) is passed twice: compare N.
func (c *Client) ReadTrades(ctx context.Context, symbol string, since time.Time, fn func(publish.TradeMsg)) error {
	cfg := jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{publish.TradeSubject(c.category, symbol)},
		DeliverPolicy:  jetstream.DeliverAllPolicy,
	}
	if !since.IsZero() {
		cfg.DeliverPolicy = jetstream.DeliverByStartTimePolicy
		cfg.OptStartTime = &since
	}
	cons, err := c.js.OrderedConsumer(ctx, publish.TradeStream, cfg)
	if err != nil {
		return err
	}
	info, err := cons.Info(ctx)
	if err != nil {
		return err
	}
	left := info.NumPending
	for left > 0 {
		batch, err := cons.Fetch(int(min(left, 1000)), jetstream.FetchMaxWait(2*time.Second))
		if err != nil {
			return err
		}
		got := 0
		for m := range batch.Messages() {
			got++
			md, err := m.Metadata()
			if err != nil {
				return err
			}
			var t publish.TradeMsg
			if json.Unmarshal(m.Data(), &t) == nil {
				fn(t)
			}
			left = md.NumPending
		}
		if err := batch.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) {
			return err
		}
		if got == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
	}
	return nil
}
