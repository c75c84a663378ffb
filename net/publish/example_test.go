package publish_test

import (
	"fmt"

	"github.com/ringfeed/ringfeed/net/publish"
)

// Consumers build subjects from the category, the stream and the symbol.
func ExampleBookSubject() {
	fmt.Println(publish.BookSubject("linear", "BTCUSDT", 50))
	fmt.Println(publish.SnapshotSubject("linear", "BTCUSDT", 50))
	fmt.Println(publish.TradeSubject("linear", "BTCUSDT"))
	fmt.Println(publish.KlineSubject("linear", "BTCUSDT", "1"))
	fmt.Println(publish.TickerSubject("spot", "ETHUSDT"))
	// Output:
	// ringfeed.linear.book.50.BTCUSDT
	// ringfeed.linear.booksnap.50.BTCUSDT
	// ringfeed.linear.trade.BTCUSDT
	// ringfeed.linear.kline.1.BTCUSDT
	// ringfeed.spot.ticker.ETHUSDT
}

func ExampleParseURLs() {
	u, err := publish.ParseURLs("127.0.0.1:4222, nats://10.0.0.2:4222")
	fmt.Println(u, err)
	_, err = publish.ParseURLs("http://127.0.0.1:4222")
	fmt.Println(err)
	// Output:
	// nats://127.0.0.1:4222,nats://10.0.0.2:4222 <nil>
	// publish: bad NATS URL "http://127.0.0.1:4222": scheme "http" (want nats, tls, ws or wss)
}
