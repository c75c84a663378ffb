package ring_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/ringfeed/ringfeed/ring"
)

// Event is a fixed-size slot: parsed fields only, prices in fixed point.
type Event struct {
	Seq   uint64
	Sym   uint32
	Price int64 // 1e-2 units
}

func ExampleNew() {
	r := ring.New[Event](1024)
	fmt.Println(r.Cap(), r.Len())
	// Output: 1024 0
}

func ExampleNewWithOptions() {
	// A consumer on a locked thread with a core of its own busy-polls;
	// the reader (producer) parks at once when the ring is full.
	r := ring.NewWithOptions[Event](256, ring.Options{
		Consumer: ring.Spin,
		Producer: ring.Park,
	})
	fmt.Println(r.Cap())
	// Output: 256
}

// The reader fills slots in place, one per message, and publishes once per
// socket read.
func ExampleSPSC_Reserve() {
	r := ring.New[Event](8)
	for i, px := range []int64{6500010, 6500020, 6500000} { // three messages of one read
		e := r.Reserve()
		if e == nil {
			break // full: see ReserveWait
		}
		*e = Event{Seq: uint64(i), Sym: 1, Price: px}
	}
	fmt.Println("reserved", r.Reserved(), "visible", r.Len())
	r.Publish()
	fmt.Println("reserved", r.Reserved(), "visible", r.Len())
	// Output:
	// reserved 3 visible 0
	// reserved 0 visible 3
}

// A slow consumer fills the ring; the reader waits a bounded time, then drops
// the event and marks its symbol for resync.
func ExampleSPSC_ReserveWait() {
	r := ring.New[Event](2)
	dropped := 0
	for i := range 3 {
		e, err := r.ReserveWait(time.Millisecond)
		if errors.Is(err, ring.ErrFull) {
			dropped++ // count it, mark the book stale
			continue
		}
		if err != nil {
			return // ring.ErrClosed: shutting down
		}
		e.Seq = uint64(i)
	}
	r.Publish()
	fmt.Println("queued", r.Len(), "dropped", dropped)
	// Output: queued 2 dropped 1
}

// The reader abandons the slots of a message it fails to parse half way.
func ExampleSPSC_Rollback() {
	r := ring.New[Event](8)
	*r.Reserve() = Event{Seq: 1} // a complete message
	// A snapshot split across two slots fails on its second slot.
	*r.Reserve() = Event{Seq: 2}
	*r.Reserve() = Event{Seq: 2}
	r.Rollback(2)
	r.Publish()
	fmt.Println(r.Len(), r.Peek()[0].Seq)
	// Output: 1 1
}

// The processor takes contiguous batches and releases each when done.
func ExampleSPSC_Peek() {
	r := ring.New[Event](4)
	for i := range 3 {
		*r.Reserve() = Event{Seq: uint64(i)}
	}
	r.Publish()
	r.Release(len(r.Peek())) // the ring now wraps after one more slot
	for i := 3; i < 6; i++ {
		*r.Reserve() = Event{Seq: uint64(i)}
	}
	r.Publish()
	for b := r.Peek(); b != nil; b = r.Peek() {
		fmt.Print("batch:")
		for _, e := range b {
			fmt.Print(" ", e.Seq)
		}
		fmt.Println()
		r.Release(len(b))
	}
	// Output:
	// batch: 3
	// batch: 4 5
}

// A reader and a processor goroutine: the processor drains everything
// published before Close, then stops.
func ExampleSPSC_PeekWait() {
	r := ring.New[Event](64)
	go func() { // the reader
		for read := range 10 { // ten socket reads of five messages
			for m := range 5 {
				e, err := r.ReserveWait(time.Second)
				if err != nil {
					return
				}
				*e = Event{Seq: uint64(read*5 + m), Price: 100}
			}
			r.Publish()
		}
		r.Close()
	}()
	var n, sum int64
	for {
		b, err := r.PeekWait()
		if err != nil { // ring.ErrClosed: drained
			break
		}
		for i := range b {
			n++
			sum += b[i].Price
		}
		r.Release(len(b))
	}
	fmt.Println(n, "events, sum", sum)
	// Output: 50 events, sum 5000
}

// Close wakes a processor parked on an empty ring.
func ExampleSPSC_Close() {
	r := ring.NewWithOptions[Event](8, ring.Options{}) // park at once
	done := make(chan error)
	go func() {
		_, err := r.PeekWait()
		done <- err
	}()
	r.Close()
	fmt.Println(<-done)
	// Output: ring: closed
}

// Wake lets another goroutine interrupt the processor's wait, so it can serve
// a request between batches.
func ExampleSPSC_Wake() {
	r := ring.New[Event](8)
	requests := make(chan string, 1)
	requests <- "book BTCUSDT"
	r.Wake()
	for range 2 {
		_, err := r.PeekWait()
		if errors.Is(err, ring.ErrWoken) {
			fmt.Println("serve", <-requests)
			r.Close() // for the example: the next wait ends
			continue
		}
		fmt.Println(err)
	}
	// Output:
	// serve book BTCUSDT
	// ring: closed
}

// A producer that may consume its own messages while the consumer sleeps
// publishes quietly, then either does the consumer's work (holding what
// makes it the consumer for now: the engine's park-mode readers take the
// processor's ownership flag) or rings the bell to leave it to the
// consumer.
func ExampleSPSC_PublishQuiet() {
	bell := ring.NewBell()
	r := ring.NewWithOptions[Event](8, ring.Options{Bell: bell})
	*r.Reserve() = Event{Seq: 1, Sym: 7, Price: 6500010}
	fmt.Println(r.PublishQuiet(), r.PublishQuiet()) // the second finds nothing new
	// Nobody is parked here: the consumer, awake, finds the slot itself.
	// A parked one would be worked for, or rung.
	fmt.Println(bell.Parked())
	b := r.Peek()
	fmt.Println(len(b), b[0].Seq)
	// Output:
	// true false
	// false
	// 1 1
}
