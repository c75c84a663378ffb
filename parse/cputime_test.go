package parse

import (
	"runtime"
	"syscall"
	"testing"
	"time"
)

// threadCPU returns the CPU time consumed by the calling OS thread. Other
// engineers' jobs share this 2-core machine, so wall-clock ns/op includes
// time spent descheduled; CPU time per op is the steadier figure.
func threadCPU() time.Duration {
	var ru syscall.Rusage
	const rusageThread = 1 // RUSAGE_THREAD (Linux)
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// cpuMeter reports "cpu-ns/op" for a benchmark whose loop runs between
// startCPU and stopBytes; it pins the goroutine to its thread meanwhile.
type cpuMeter struct {
	b     *testing.B
	start time.Duration
}

func startCPU(b *testing.B) *cpuMeter {
	runtime.LockOSThread()
	return &cpuMeter{b: b, start: threadCPU()}
}

// stopBytes is stop for a loop handling size bytes per op: it reports
// "cpu-MB/s" too, the throughput the CPU time alone allows.
func (m *cpuMeter) stopBytes(size int) {
	d := threadCPU() - m.start
	runtime.UnlockOSThread()
	if n := m.b.N; n > 0 && d > 0 {
		perOp := float64(d.Nanoseconds()) / float64(n)
		m.b.ReportMetric(perOp, "cpu-ns/op")
		if size > 0 {
			m.b.ReportMetric(float64(size)*1e3/perOp, "cpu-MB/s")
		}
	}
}
