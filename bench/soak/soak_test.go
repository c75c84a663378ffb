package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSoakShort is the short soak that `make test` runs: the real ringfeed
// binary against the simulator under every fault kind for 40 s, with and
// without hooks, each followed by the same checks as `make soak`. It drives a child process, so -race slows
// only the driver and the in-process simulator.
func TestSoakShort(t *testing.T) {
	if testing.Short() {
		t.Skip("soak: skipped with -short")
	}
	// Two runs, because a registered hook changes the engine's data path:
	// with the chaos hook (stalls included) processors apply every
	// message themselves; without hooks, park mode's readers apply for
	// sleeping processors (Config.NoLend), which the fault matrix must
	// hold for too.
	for _, tc := range []struct {
		name       string
		seed       uint64
		stall, per time.Duration
	}{
		{"hook-stalls", 11, 2 * time.Second, 12 * time.Second},
		{"no-hooks", 13, -1, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			soakShort(t, Config{
				Duration:  40 * time.Second,
				Seed:      tc.seed,
				FaultRate: 0.45,
				HookStall: tc.stall,
				HookEvery: tc.per,
			})
		})
	}
}

func soakShort(t *testing.T, cfg Config) {
	dir := t.TempDir()
	cfg.Dir = dir
	cfg.Progress = &testLog{t: t}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)
	res, err := Run(ctx, cfg)
	if res != nil {
		var b bytes.Buffer
		res.Print(&b)
		t.Log("\n" + b.String())
	}
	failed := err != nil || res.Failed()
	if failed {
		for _, f := range []string{"ringfeed.log", "soak.log"} {
			t.Logf("last lines of %s:\n%s", f, tail(filepath.Join(dir, f), 20))
		}
	}
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	for _, c := range res.Checks {
		if c.fail {
			t.Errorf("%s: got %s; want %s", c.name, c.value, c.bound)
		}
	}
}

// testLog turns progress lines into test log lines.
type testLog struct{ t *testing.T }

func (w *testLog) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
