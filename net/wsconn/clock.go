package wsconn

import "time"

// base is the process-wide origin of Nanotime. time.Now carries a monotonic
// reading, so time.Since(base) is immune to wall-clock steps.
var base = time.Now()

// Nanotime returns monotonic nanoseconds since a process-wide origin (package
// initialisation). It is the one clock the engine uses for latency: a
// Message's RecvNs and every later stage stamp come from it, so differences
// between stamps are durations. Values are not wall-clock times and mean
// nothing across processes. Safe for concurrent use; does not allocate.
func Nanotime() int64 {
	return int64(time.Since(base))
}
