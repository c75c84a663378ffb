package parse

import "errors"

// Sentinel reasons. Every error returned by Parse is an *Error whose Reason
// is one of these; the decimal functions return them bare. Compare with
// errors.Is.
var (
	ErrSyntax        = errors.New("parse: syntax error")
	ErrMissing       = errors.New("parse: missing field")
	ErrType          = errors.New("parse: wrong JSON type")
	ErrRange         = errors.New("parse: value out of range")
	ErrPrecision     = errors.New("parse: too many decimals for the scale")
	ErrEmpty         = errors.New("parse: empty value")
	ErrSign          = errors.New("parse: sign not allowed")
	ErrExponent      = errors.New("parse: exponent notation not allowed")
	ErrScale         = errors.New("parse: scale out of range")
	ErrUnknownTopic  = errors.New("parse: unknown topic")
	ErrUnknownSymbol = errors.New("parse: unknown symbol")
	ErrMismatch      = errors.New("parse: symbol does not match topic")
	ErrUTF8          = errors.New("parse: invalid UTF-8")
	ErrTooMany       = errors.New("parse: too many items")
	ErrNoRoom        = errors.New("parse: sink has no room")
	ErrDuplicate     = errors.New("parse: symbol already registered")
)

// Error is the error type returned by (*Parser).Parse. Field names the JSON
// field at fault ("data.b", "data.lastPrice", "ts", "frame" for the frame as a
// whole, "sink" for ErrNoRoom); Reason is one of the package's sentinels.
//
// Values are preallocated and immutable, so returning one costs no
// allocation and it may be kept and passed to other goroutines freely.
type Error struct {
	Field  string
	Reason error
}

// Error returns "parse: <field>: <reason>". It allocates; call it off the
// hot path (logging).
func (e *Error) Error() string {
	r := e.Reason.Error()
	if len(r) > len("parse: ") && r[:len("parse: ")] == "parse: " {
		r = r[len("parse: "):]
	}
	return "parse: " + e.Field + ": " + r
}

// Unwrap returns Reason, so errors.Is(err, parse.ErrPrecision) works.
func (e *Error) Unwrap() error { return e.Reason }

// reasons lists the sentinels in table order; reasonIndex maps back.
var reasons = [...]error{
	ErrSyntax, ErrMissing, ErrType, ErrRange, ErrPrecision, ErrEmpty, ErrSign,
	ErrExponent, ErrScale, ErrUnknownTopic, ErrUnknownSymbol, ErrMismatch,
	ErrUTF8, ErrTooMany, ErrNoRoom,
}

func reasonIndex(r error) int {
	for i, e := range reasons {
		if e == r {
			return i
		}
	}
	panic("BUG: parse: unregistered error reason " + r.Error())
}

// field identifies a JSON field for error reporting.
type field uint8

const (
	fFrame field = iota
	fTopic
	fType
	fTS
	fCTS
	fCS
	fData
	fSink
	fBookS
	fBookB
	fBookA
	fBookU
	fBookSeq
	fKlineStart
	fKlineEnd
	fKlineOpen
	fKlineClose
	fKlineHigh
	fKlineLow
	fKlineVolume
	fKlineTurnover
	fKlineConfirm
	fKlineTimestamp
	fTradeT
	fTradeSym
	fTradeSide
	fTradeSize
	fTradePrice
	fTradeTick
	fTradeID
	fTradeBT
	fTradeRPI
	fTradeSeq
	fTickerSymbol
	fOp
	fSuccess
	fRetMsg
	fConnID
	fReqID
	fSuccessTopics
	fFailTopics
	fArgs
	fTickerBase // first ticker field; fTickerBase+TickerField
	numFields   = fTickerBase + field(NumTickerFields)
)

var fieldNames = [numFields]string{
	fFrame:          "frame",
	fTopic:          "topic",
	fType:           "type",
	fTS:             "ts",
	fCTS:            "cts",
	fCS:             "cs",
	fData:           "data",
	fSink:           "sink",
	fBookS:          "data.s",
	fBookB:          "data.b",
	fBookA:          "data.a",
	fBookU:          "data.u",
	fBookSeq:        "data.seq",
	fKlineStart:     "data.start",
	fKlineEnd:       "data.end",
	fKlineOpen:      "data.open",
	fKlineClose:     "data.close",
	fKlineHigh:      "data.high",
	fKlineLow:       "data.low",
	fKlineVolume:    "data.volume",
	fKlineTurnover:  "data.turnover",
	fKlineConfirm:   "data.confirm",
	fKlineTimestamp: "data.timestamp",
	fTradeT:         "data.T",
	fTradeSym:       "data.s",
	fTradeSide:      "data.S",
	fTradeSize:      "data.v",
	fTradePrice:     "data.p",
	fTradeTick:      "data.L",
	fTradeID:        "data.i",
	fTradeBT:        "data.BT",
	fTradeRPI:       "data.RPI",
	fTradeSeq:       "data.seq",
	fTickerSymbol:   "data.symbol",
	fOp:             "op",
	fSuccess:        "success",
	fRetMsg:         "ret_msg",
	fConnID:         "conn_id",
	fReqID:          "req_id",
	fSuccessTopics:  "data.successTopics",
	fFailTopics:     "data.failTopics",
	fArgs:           "args",
}

// errTable holds one immutable Error per (field, reason): returning
// &errTable[f][r] never allocates.
var errTable [numFields][len(reasons)]Error

func init() {
	for i := range NumTickerFields {
		fieldNames[fTickerBase+field(i)] = "data." + tickerKeys[i]
	}
	for f := range errTable {
		if fieldNames[f] == "" {
			panic("BUG: parse: field without a name")
		}
		for r := range reasons {
			errTable[f][r] = Error{Field: fieldNames[f], Reason: reasons[r]}
		}
	}
}

// fail returns the preallocated *Error for field f and sentinel reason r.
func fail(f field, r error) error {
	return &errTable[f][reasonIndex(r)]
}
