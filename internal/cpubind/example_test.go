package cpubind_test

import (
	"errors"
	"fmt"
	"runtime"

	"github.com/ringfeed/ringfeed/internal/cpubind"
)

// A busy-polling loop reserves a CPU for as long as it runs; its thread is
// never unlocked, so the binding ends with the goroutine.
func ExampleReserve() {
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		release, err := cpubind.Reserve(runtime.NumCPU() - 1)
		if err != nil {
			done <- err
			return
		}
		defer release()
		// ... spin here, alone on the CPU ...
		done <- nil
	}()
	err := <-done
	fmt.Println(err == nil || errors.Is(err, cpubind.ErrUnsupported))
	// Output: true
}
