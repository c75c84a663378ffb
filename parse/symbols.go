package parse

import (
	"fmt"
	"sync/atomic"
	"unicode/utf8"
)

// Default scales for a symbol registered without instrument info. Eight
// decimals cover every tick and lot step Bybit is known to use (the
// smallest seen is 1e-7) and keep room for prices up to 9.2e10 and sizes up
// to 9.2e10 units. Register low-priced coins whose 24 h volume may exceed
// that (spot meme coins) with their real size scale.
const (
	DefaultPriceScale = 8
	DefaultSizeScale  = 8
)

// MaxSymbolLen bounds a registered name; real names are at most ~25 bytes
// (options such as "BTC-28JUN24-60000-P").
const MaxSymbolLen = 64

// NoSymbol is the id reported when a message's symbol is not known.
const NoSymbol = ^uint32(0)

// Symbols maps symbol names to small dense ids (0, 1, 2, … in the order of
// Add) and holds each symbol's price and size scale.
//
// Build it up front with Add, then share it: Lookup, Name and Scales are safe
// for any number of concurrent readers once Add calls have stopped, and they
// do not allocate. SetScales may be called at any time, concurrently with
// readers (a tick-size change after a `u = 1` snapshot), and takes effect for
// the next message parsed. One table serves one category: "BTCUSDT" is a
// different instrument on spot and on linear.
type Symbols struct {
	ids   map[string]uint32
	names []string
	// scales packs price<<8 | size so both change together atomically.
	scales []uint32
}

// NewSymbols returns an empty table.
func NewSymbols() *Symbols {
	return &Symbols{ids: make(map[string]uint32)}
}

// Add registers name with the number of decimals of its price and size
// (tickSize / qtyStep or basePrecision decimals; see DefaultPriceScale) and
// returns its id. A name already present returns its id and ErrDuplicate.
// Add is not safe for concurrent use with anything else on the table.
func (s *Symbols) Add(name string, priceScale, sizeScale int) (uint32, error) {
	if id, ok := s.ids[name]; ok {
		return id, fmt.Errorf("parse: symbol %q: %w", name, ErrDuplicate)
	}
	if err := checkSymbolName(name); err != nil {
		return NoSymbol, err
	}
	if err := checkScales(priceScale, sizeScale); err != nil {
		return NoSymbol, fmt.Errorf("parse: symbol %q: %w", name, err)
	}
	if len(s.names) >= int(NoSymbol) {
		return NoSymbol, fmt.Errorf("parse: symbol %q: %w: table full", name, ErrRange)
	}
	id := uint32(len(s.names))
	s.ids[name] = id
	s.names = append(s.names, name)
	s.scales = append(s.scales, packScales(priceScale, sizeScale))
	return id, nil
}

func checkSymbolName(name string) error {
	if name == "" {
		return fmt.Errorf("parse: symbol name: %w", ErrEmpty)
	}
	if len(name) > MaxSymbolLen {
		return fmt.Errorf("parse: symbol name %q: %w: longer than %d bytes", name, ErrRange, MaxSymbolLen)
	}
	if !utf8.ValidString(name) {
		return fmt.Errorf("parse: symbol name %q: %w", name, ErrUTF8)
	}
	for i := 0; i < len(name); i++ {
		// Names travel inside topics ("orderbook.50.NAME") and JSON strings:
		// a dot, quote, backslash, space or control byte would break both.
		if c := name[i]; c <= ' ' || c == '.' || c == '"' || c == '\\' || c == 0x7f {
			return fmt.Errorf("parse: symbol name %q: %w: byte %q not allowed", name, ErrSyntax, c)
		}
	}
	return nil
}

func checkScales(price, size int) error {
	if uint(price) > MaxScale {
		return fmt.Errorf("price scale %d: %w", price, ErrScale)
	}
	if uint(size) > MaxScale {
		return fmt.Errorf("size scale %d: %w", size, ErrScale)
	}
	return nil
}

func packScales(price, size int) uint32 { return uint32(price)<<8 | uint32(size) }

// Lookup returns the id of name. The []byte→string conversion in the map
// index does not allocate.
func (s *Symbols) Lookup(name []byte) (uint32, bool) {
	id, ok := s.ids[string(name)]
	return id, ok
}

// Len returns the number of registered symbols; ids are 0 … Len()-1.
func (s *Symbols) Len() int { return len(s.names) }

// Name returns the name registered for id, or "" for an unknown id.
func (s *Symbols) Name(id uint32) string {
	if int(id) >= len(s.names) {
		return ""
	}
	return s.names[id]
}

// Scales returns the price and size scale of id (0, 0 for an unknown id).
func (s *Symbols) Scales(id uint32) (price, size int) {
	if int(id) >= len(s.scales) {
		return 0, 0
	}
	p := atomic.LoadUint32(&s.scales[id])
	return int(p >> 8), int(p & 0xff)
}

// SetScales replaces the scales of id, for example after instruments-info
// reports a new tick size. Safe concurrently with readers and parsers.
func (s *Symbols) SetScales(id uint32, priceScale, sizeScale int) error {
	if int(id) >= len(s.scales) {
		return fmt.Errorf("parse: symbol id %d: %w", id, ErrUnknownSymbol)
	}
	if err := checkScales(priceScale, sizeScale); err != nil {
		return fmt.Errorf("parse: symbol %q: %w", s.names[id], err)
	}
	atomic.StoreUint32(&s.scales[id], packScales(priceScale, sizeScale))
	return nil
}
