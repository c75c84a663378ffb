// Package bench is ringfeed's benchmark suite: end-to-end runs of the
// engine against the in-process Bybit simulator over loopback, replays of
// recorded frames, and a peer baseline — the conventional Go stack
// (coder/websocket, encoding/json into structs, map books sorted with
// sort.Slice) — fed the same frames, so every run prints ringfeed's
// speed-up over the usual approach.
//
// The package's exported API is what the benchmarks, the tests and the
// small tools under bench/ share: Scenario (a workload), Record and
// Generate (a deterministic feed of raw Bybit frames recorded from a paused,
// stepped simulator), Live (a simulator and an engine connected over
// 127.0.0.1, with a measurement Window), Peer (the conventional stack) and
// WriteCDF (the latency plot). The benchmarks live in *_bench_test.go; the
// stage benchmarks stay in their packages and `make bench` runs them all.
//
// Contract:
//   - Allocation: this package is measurement scaffolding, not hot path; it
//     allocates freely outside measured windows. Inside a Window the suite's
//     own goroutine only sleeps, so the allocations and GC cycles a Window
//     reports are the engine's (and, in live runs, the simulator's, which
//     shares the process: see Live).
//   - Latency: figures on a shared machine are noisy; the suite reports them
//     with -count and never gates on them (bench-check gates ns/op and
//     allocs/op only).
//   - Concurrency: a Live, a Peer or a Window is used by one goroutine.
//   - Memory: frames returned by Record, Generate and ReadNDJSON are owned by
//     the caller; nothing here keeps a reference to them.
package bench
