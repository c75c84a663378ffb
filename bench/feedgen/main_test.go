package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ringfeed/ringfeed/bench"
)

func TestRun(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "f.ndjson")
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"-scenario", "book50-8", "-frames", "300", "-o", out}, &stdout, &stderr); code != 0 {
		t.Fatalf("got exit %d; want 0\n%s", code, stderr.String())
	}
	frames, err := bench.ReadFeedFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(frames) != 301 { // 300 data frames and the subscribe ack
		t.Errorf("got %d frames; want 301", len(frames))
	}
	if !strings.Contains(stdout.String(), "ringfeed replay --category linear --symbols S0001USDT,") {
		t.Errorf("no replay command in %q", stdout.String())
	}
}

func TestRunBadArgs(t *testing.T) {
	out := filepath.Join(t.TempDir(), "f.ndjson")
	for _, args := range [][]string{
		{"-scenario", "nope", "-o", out},
		{"-frames", "0", "-o", out},
		{"-frames", "10"},
		{"-o", out, "extra"},
		{"-bogus"},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), args, &stdout, &stderr); code != 2 {
			t.Errorf("run(%v): got exit %d; want 2", args, code)
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a file was written despite bad arguments")
	}
}
