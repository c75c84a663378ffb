package parse

import (
	"reflect"
	"testing"
)

// TestEventIsPlainData keeps the slot contract: no pointers, slices,
// strings, maps or interfaces anywhere in an Event (it crosses goroutines
// by value and lives in ring slots), and a size near 1 KiB.
func TestEventIsPlainData(t *testing.T) {
	var check func(path string, ty reflect.Type)
	check = func(path string, ty reflect.Type) {
		switch ty.Kind() {
		case reflect.Struct:
			for i := range ty.NumField() {
				check(path+"."+ty.Field(i).Name, ty.Field(i).Type)
			}
		case reflect.Array:
			check(path+"[]", ty.Elem())
		case reflect.Bool, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
			reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		default:
			t.Fatalf("%s: got kind %v; want plain data only", path, ty.Kind())
		}
	}
	check("Event", reflect.TypeFor[Event]())
	// 32 levels (512 B), the candle, ticker and trade parts, the header,
	// and the engine's three stage stamps (ParseNs, DoneNs, PubNs).
	if size := reflect.TypeFor[Event]().Size(); size > 1112 {
		t.Fatalf("got sizeof(Event) %d; want ≤ 1112", size)
	}
}

func TestEventAccessors(t *testing.T) {
	var e Event
	e.NBids, e.NAsks = 2, 1
	e.Levels[0], e.Levels[1], e.Levels[2] = Level{3, 1}, Level{2, 1}, Level{4, 1}
	if b, a := e.Bids(), e.Asks(); len(b) != 2 || len(a) != 1 || a[0] != (Level{4, 1}) || &b[0] != &e.Levels[0] {
		t.Fatalf("got bids %v asks %v", b, a)
	}
	e.Flags = Snapshot | Last
	if !e.Is(Snapshot) || e.Is(First) || !e.Is(Snapshot|Last) || e.Is(Snapshot|First) {
		t.Fatalf("got Is wrong for flags %b", e.Flags)
	}
	for k, want := range map[Kind]string{KindBook: "book", KindTrade: "trade", Kind(9): "kind(9)"} {
		if k.String() != want {
			t.Fatalf("got %q; want %q", k.String(), want)
		}
	}
	if Buy.String() != "Buy" || Sell.String() != "Sell" || SideNone.String() != "" || ZeroMinusTick.String() != "ZeroMinusTick" || TickDirection(9).String() != "" {
		t.Fatalf("got wrong Side/TickDirection names")
	}
	if OpPong.String() != "pong" || Op(99).String() != "op(99)" {
		t.Fatalf("got wrong Op names")
	}
}
