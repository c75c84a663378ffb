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
// binary against the simulator under every fault kind for 40 s, then the
// same checks as `make soak`. It drives a child process, so -race slows
// only the driver and the in-process simulator.
func TestSoakShort(t *testing.T) {
	if testing.Short() {
		t.Skip("soak: skipped with -short")
	}
	dir := t.TempDir()
	cfg := Config{
		Duration:  40 * time.Second,
		Seed:      11,
		FaultRate: 0.45,
		HookStall: 2 * time.Second,
		HookEvery: 12 * time.Second,
		Dir:       dir,
		Progress:  &testLog{t: t},
	}
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
