package parse

import (
	"bytes"

	"github.com/valyala/fastjson"
)

// Fixed scales of the ticker and kline fields that are not book prices or
// sizes. They do not depend on the instrument because those fields print
// more decimals than the tick (option markPrice "3502.0715721", spot
// usdIndexPrice "77561.956977", underlyingPrice with 8 decimals).
const (
	// StatPriceScale: ticker prices (last, bid1/ask1, mark, index, 24 h
	// high/low/prev, basis, predicted delivery, underlying, usdIndex,
	// preOpen); up to 9.2e10 at 8 decimals.
	StatPriceScale = 8
	// RateScale: percentages, funding and basis rates, IVs, greeks; up to
	// 9.2e8. Bybit prints at most 8 decimals.
	RateScale = 10
	// ValueScale: turnovers and open-interest values (quote currency, or
	// coin for inverse); up to 9.2e10. Spot turnover24h prints 8 decimals.
	ValueScale = 8
)

// TickerField indexes Ticker.Values. Each field has a fixed scale (see
// Scale): prices StatPriceScale, rates RateScale, values ValueScale, sizes
// the symbol's size scale, times and counts 0.
type TickerField uint8

const (
	TickLastPrice               TickerField = iota // lastPrice
	TickBid1Price                                  // bid1Price; option bidPrice
	TickBid1Size                                   // bid1Size; option bidSize
	TickAsk1Price                                  // ask1Price; option askPrice
	TickAsk1Size                                   // ask1Size; option askSize
	TickMarkPrice                                  // markPrice
	TickIndexPrice                                 // indexPrice
	TickPrevPrice24h                               // prevPrice24h
	TickPrevPrice1h                                // prevPrice1h
	TickHighPrice24h                               // highPrice24h
	TickLowPrice24h                                // lowPrice24h
	TickPrice24hPcnt                               // price24hPcnt (rate: -0.0127 is −1.27 %)
	TickOpenInterest                               // openInterest (size)
	TickOpenInterestValue                          // openInterestValue
	TickTurnover24h                                // turnover24h
	TickVolume24h                                  // volume24h (size)
	TickFundingRate                                // fundingRate
	TickNextFundingTime                            // nextFundingTime, ms (a numeric string)
	TickFundingIntervalHour                        // fundingIntervalHour
	TickFundingCap                                 // fundingCap (rate)
	TickPredictedDeliveryPrice                     // predictedDeliveryPrice
	TickBasis                                      // basis (price, signed)
	TickBasisRate                                  // basisRate
	TickBasisRateYear                              // basisRateYear
	TickDeliveryFeeRate                            // deliveryFeeRate
	TickDeliveryTime                               // deliveryTime, ms (ISO-8601 string on the wire)
	TickPreOpenPrice                               // preOpenPrice
	TickPreQty                                     // preQty (size)
	TickSingleOpenInterest                         // singleOpenInterest (size)
	TickSingleOpenInterestValue                    // singleOpenInterestValue
	TickUSDIndexPrice                              // usdIndexPrice (spot)
	TickBidIv                                      // bidIv (option)
	TickAskIv                                      // askIv
	TickMarkPriceIv                                // markPriceIv
	TickUnderlyingPrice                            // underlyingPrice
	TickTotalVolume                                // totalVolume (size)
	TickTotalTurnover                              // totalTurnover
	TickDelta                                      // delta
	TickGamma                                      // gamma
	TickVega                                       // vega
	TickTheta                                      // theta
	TickChange24h                                  // change24h (rate)
	TickTickDirection                              // tickDirection, a TickDirection code
	NumTickerFields                                // number of fields
)

// Ticker is the ticker part of an Event. Present has bit f set when field
// f was in the message; Empty has bit f set when it was "" (Bybit's "not
// applicable", e.g. fundingRate on dated futures), with Values[f] 0. A
// field that changes to zero is present and not empty. Values of absent
// fields are 0. In a delta, absent means unchanged.
//
// Unknown keys are ignored (Bybit keeps adding fields), as are
// curPreListingPhase (a string enum) and symbol (checked against the topic).
//
// A member whose value cannot be represented at its field's scale (out of
// int64 range, or more decimals than the scale) does not reject the
// message: its bit is set in Unfit instead of Present, its value is 0, and
// the other fields stand.
type Ticker struct {
	Present uint64
	Empty   uint64
	Unfit   uint64
	Values  [NumTickerFields]int64
}

// Has reports whether f was in the message (possibly empty).
func (t *Ticker) Has(f TickerField) bool { return t.Present&(1<<f) != 0 }

// IsEmpty reports whether f was in the message as "".
func (t *Ticker) IsEmpty(f TickerField) bool { return t.Empty&(1<<f) != 0 }

// Get returns f's value and whether it was present and not empty.
func (t *Ticker) Get(f TickerField) (int64, bool) {
	if f >= NumTickerFields {
		return 0, false
	}
	return t.Values[f], (t.Present&^t.Empty)&(1<<f) != 0
}

type tickerKind uint8

const (
	tkPrice tickerKind = iota
	tkRate
	tkValue
	tkSize
	tkInt
	tkTime
	tkEnum
)

var tickerKeys = [NumTickerFields]string{
	"lastPrice", "bid1Price", "bid1Size", "ask1Price", "ask1Size", "markPrice",
	"indexPrice", "prevPrice24h", "prevPrice1h", "highPrice24h", "lowPrice24h",
	"price24hPcnt", "openInterest", "openInterestValue", "turnover24h",
	"volume24h", "fundingRate", "nextFundingTime", "fundingIntervalHour",
	"fundingCap", "predictedDeliveryPrice", "basis", "basisRate",
	"basisRateYear", "deliveryFeeRate", "deliveryTime", "preOpenPrice",
	"preQty", "singleOpenInterest", "singleOpenInterestValue",
	"usdIndexPrice", "bidIv", "askIv", "markPriceIv", "underlyingPrice",
	"totalVolume", "totalTurnover", "delta", "gamma", "vega", "theta",
	"change24h", "tickDirection",
}

var tickerKinds = [NumTickerFields]tickerKind{
	TickLastPrice: tkPrice, TickBid1Price: tkPrice, TickBid1Size: tkSize,
	TickAsk1Price: tkPrice, TickAsk1Size: tkSize, TickMarkPrice: tkPrice,
	TickIndexPrice: tkPrice, TickPrevPrice24h: tkPrice, TickPrevPrice1h: tkPrice,
	TickHighPrice24h: tkPrice, TickLowPrice24h: tkPrice, TickPrice24hPcnt: tkRate,
	TickOpenInterest: tkSize, TickOpenInterestValue: tkValue,
	TickTurnover24h: tkValue, TickVolume24h: tkSize, TickFundingRate: tkRate,
	TickNextFundingTime: tkInt, TickFundingIntervalHour: tkInt,
	TickFundingCap: tkRate, TickPredictedDeliveryPrice: tkPrice,
	TickBasis: tkPrice, TickBasisRate: tkRate, TickBasisRateYear: tkRate,
	TickDeliveryFeeRate: tkRate, TickDeliveryTime: tkTime,
	TickPreOpenPrice: tkPrice, TickPreQty: tkSize, TickSingleOpenInterest: tkSize,
	TickSingleOpenInterestValue: tkValue, TickUSDIndexPrice: tkPrice,
	TickBidIv: tkRate, TickAskIv: tkRate, TickMarkPriceIv: tkRate,
	TickUnderlyingPrice: tkPrice, TickTotalVolume: tkSize,
	TickTotalTurnover: tkValue, TickDelta: tkRate, TickGamma: tkRate,
	TickVega: tkRate, TickTheta: tkRate, TickChange24h: tkRate,
	TickTickDirection: tkEnum,
}

// tickerKey maps a JSON key, including the option aliases, to its field:
// a string switch, which the compiler turns into a search on length and
// content that beats hashing the key for a map (tickerByKey, kept for
// tests and tools, holds the same mapping; TestTickerKey checks both).
func tickerKey(k []byte) (TickerField, bool) {
	switch string(k) {
	case "lastPrice":
		return TickLastPrice, true
	case "bid1Price":
		return TickBid1Price, true
	case "bid1Size":
		return TickBid1Size, true
	case "ask1Price":
		return TickAsk1Price, true
	case "ask1Size":
		return TickAsk1Size, true
	case "markPrice":
		return TickMarkPrice, true
	case "indexPrice":
		return TickIndexPrice, true
	case "prevPrice24h":
		return TickPrevPrice24h, true
	case "prevPrice1h":
		return TickPrevPrice1h, true
	case "highPrice24h":
		return TickHighPrice24h, true
	case "lowPrice24h":
		return TickLowPrice24h, true
	case "price24hPcnt":
		return TickPrice24hPcnt, true
	case "openInterest":
		return TickOpenInterest, true
	case "openInterestValue":
		return TickOpenInterestValue, true
	case "turnover24h":
		return TickTurnover24h, true
	case "volume24h":
		return TickVolume24h, true
	case "fundingRate":
		return TickFundingRate, true
	case "nextFundingTime":
		return TickNextFundingTime, true
	case "fundingIntervalHour":
		return TickFundingIntervalHour, true
	case "fundingCap":
		return TickFundingCap, true
	case "predictedDeliveryPrice":
		return TickPredictedDeliveryPrice, true
	case "basis":
		return TickBasis, true
	case "basisRate":
		return TickBasisRate, true
	case "basisRateYear":
		return TickBasisRateYear, true
	case "deliveryFeeRate":
		return TickDeliveryFeeRate, true
	case "deliveryTime":
		return TickDeliveryTime, true
	case "preOpenPrice":
		return TickPreOpenPrice, true
	case "preQty":
		return TickPreQty, true
	case "singleOpenInterest":
		return TickSingleOpenInterest, true
	case "singleOpenInterestValue":
		return TickSingleOpenInterestValue, true
	case "usdIndexPrice":
		return TickUSDIndexPrice, true
	case "bidIv":
		return TickBidIv, true
	case "askIv":
		return TickAskIv, true
	case "markPriceIv":
		return TickMarkPriceIv, true
	case "underlyingPrice":
		return TickUnderlyingPrice, true
	case "totalVolume":
		return TickTotalVolume, true
	case "totalTurnover":
		return TickTotalTurnover, true
	case "delta":
		return TickDelta, true
	case "gamma":
		return TickGamma, true
	case "vega":
		return TickVega, true
	case "theta":
		return TickTheta, true
	case "change24h":
		return TickChange24h, true
	case "tickDirection":
		return TickTickDirection, true
	case "bidPrice": // option
		return TickBid1Price, true
	case "bidSize": // option
		return TickBid1Size, true
	case "askPrice": // option
		return TickAsk1Price, true
	case "askSize": // option
		return TickAsk1Size, true
	}
	return NumTickerFields, false
}

// tickerByKey maps JSON keys, including the option aliases, to fields.
var tickerByKey = func() map[string]TickerField {
	m := make(map[string]TickerField, NumTickerFields+4)
	for f, k := range tickerKeys {
		m[k] = TickerField(f)
	}
	m["bidPrice"] = TickBid1Price
	m["bidSize"] = TickBid1Size
	m["askPrice"] = TickAsk1Price
	m["askSize"] = TickAsk1Size
	return m
}()

// String returns the field's JSON key (the linear/inverse spelling).
func (f TickerField) String() string {
	if f < NumTickerFields {
		return tickerKeys[f]
	}
	return ""
}

// Scale returns the number of decimals of f's values, given the symbol's
// size scale (used by the size fields), for a symbol whose price scale is
// at most StatPriceScale; see ScaleFor.
func (f TickerField) Scale(sizeScale int) int { return f.ScaleFor(0, sizeScale) }

// ScaleFor returns the number of decimals of f's values for a symbol with
// the given price and size scales: prices get StatPriceScale or the
// symbol's price scale if larger (a coin priced 0.0000123456 needs 10),
// sizes the size scale, the other kinds their fixed scales.
func (f TickerField) ScaleFor(priceScale, sizeScale int) int {
	if f >= NumTickerFields {
		return 0
	}
	switch tickerKinds[f] {
	case tkPrice:
		return max(StatPriceScale, priceScale)
	case tkRate:
		return RateScale
	case tkValue:
		return ValueScale
	case tkSize:
		return sizeScale
	}
	return 0
}

// parseTicker handles tickers.{symbol}. data is an object in real frames;
// an array of objects (as Bybit's docs table claims) is accepted too.
func (p *Parser) parseTicker(o *fastjson.Object, ti *TopicInfo, h *header, sink Sink, r *Result) error {
	// cs is absent on option tickers.
	id, dv, err := p.preamble(o, ti, r, &h.flags, "cs", fCS, &h.seq)
	if err != nil {
		return err
	}
	ps, ss := p.syms.Scales(id)
	p.tick = p.tick[:0]
	isArray := false
	switch dv.Type() {
	case fastjson.TypeObject:
		d, _ := dv.Object()
		if err := p.ticker(d, ti, ps, ss); err != nil {
			return err
		}
	case fastjson.TypeArray:
		arr, err := dataArray(o, p.maxItems)
		if err != nil {
			return err
		}
		isArray = true
		for _, v := range arr {
			if v.Type() != fastjson.TypeObject {
				return fail(fData, ErrType)
			}
			d, _ := v.Object()
			if err := p.ticker(d, ti, ps, ss); err != nil {
				return err
			}
		}
	default:
		return fail(fData, ErrType)
	}
	return p.emitTickers(sink, id, isArray, h, r)
}

// ticker reads one ticker object into a new entry of p.tick.
func (p *Parser) ticker(d *fastjson.Object, ti *TopicInfo, ps, ss int) error {
	if sv := d.Get("symbol"); sv != nil {
		if err := checkSym(sv, ti.Symbol, fTickerSymbol); err != nil {
			return err
		}
	}
	p.tick = append(p.tick, Ticker{})
	t := &p.tick[len(p.tick)-1]
	var err error
	d.Visit(func(k []byte, v *fastjson.Value) {
		if err != nil {
			return
		}
		f, ok := tickerKey(k)
		if !ok {
			return
		}
		err = p.tickerValue(t, f, v, ps, ss)
	})
	return err
}

// tickerValue converts one ticker member. Every member is a JSON string on
// the wire, numbers included ("nextFundingTime": "1715760000000").
func (p *Parser) tickerValue(t *Ticker, f TickerField, v *fastjson.Value, ps, ss int) error {
	fe := fTickerBase + field(f)
	raw, err := p.quoted(v, fe)
	if err != nil {
		return err
	}
	t.Present |= 1 << f
	if len(raw) == 0 {
		t.Empty |= 1 << f
		return nil
	}
	n, err := tickerConvert(f, raw, ps, ss)
	if err != nil {
		if b, ok := unescaped(v, raw, err); ok {
			n, err = tickerConvert(f, b, ps, ss)
		}
		if unfit(err) {
			t.Present &^= 1 << f
			t.Unfit |= 1 << f
			return nil
		}
		if err != nil {
			return fail(fe, err)
		}
	}
	t.Values[f] = n
	return nil
}

// unfit reports whether err says a well-formed number does not fit its
// field's scale: the field is left out (Ticker.Unfit), not the message.
func unfit(err error) bool { return err == ErrRange || err == ErrPrecision }

func tickerConvert(f TickerField, b []byte, ps, ss int) (int64, error) {
	switch tickerKinds[f] {
	case tkEnum:
		if bytes.IndexByte(b, '\\') >= 0 {
			return 0, ErrSyntax // have it unescaped first
		}
		return int64(parseTick(b)), nil
	case tkTime:
		return parseISOTime(b)
	case tkInt:
		return parseDecimal(b, 0, false)
	}
	return parseDecimal(b, f.ScaleFor(ps, ss), true)
}

// parseISOTime converts "2023-09-29T08:00:00Z" (optionally with a fraction
// of a second, up to ms) to Unix ms.
func parseISOTime(b []byte) (int64, error) {
	// YYYY-MM-DDTHH:MM:SS then [.fff] then Z
	if len(b) < 20 || b[4] != '-' || b[7] != '-' || b[10] != 'T' || b[13] != ':' || b[16] != ':' || b[len(b)-1] != 'Z' {
		return 0, ErrSyntax
	}
	num := func(s []byte) int64 {
		var n int64
		for _, c := range s {
			if c-'0' > 9 {
				return -1
			}
			n = n*10 + int64(c-'0')
		}
		return n
	}
	y, mo, d := num(b[0:4]), num(b[5:7]), num(b[8:10])
	hh, mm, ss := num(b[11:13]), num(b[14:16]), num(b[17:19])
	if y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || hh < 0 || hh > 23 || mm < 0 || mm > 59 || ss < 0 || ss > 60 {
		return 0, ErrSyntax
	}
	var ms int64
	if rest := b[19 : len(b)-1]; len(rest) > 0 {
		if rest[0] != '.' || len(rest) < 2 || len(rest) > 4 {
			return 0, ErrSyntax
		}
		frac := num(rest[1:])
		if frac < 0 {
			return 0, ErrSyntax
		}
		for i := len(rest) - 1; i < 3; i++ {
			frac *= 10
		}
		ms = frac
	}
	days := daysFromCivil(y, mo, d)
	return ((days*24+hh)*60+mm)*60_000 + ss*1000 + ms, nil
}

// daysFromCivil returns days since 1970-01-01 (Howard Hinnant's algorithm).
func daysFromCivil(y, m, d int64) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}
