package main

import (
	"io"
	"strings"
	"testing"
	"time"
)

func TestParseFlags(t *testing.T) {
	c, err := parseFlags([]string{"-duration", "3m", "-seed", "9", "-hook-stall", "1s/20s", "-symbols", "BTCUSDT, ETHUSDT"}, io.Discard)
	if err != nil {
		t.Fatalf("parseFlags: %v", err)
	}
	if c.Duration != 3*time.Minute || c.Seed != 9 || c.HookStall != time.Second || c.HookEvery != 20*time.Second ||
		len(c.Symbols) != 2 || c.Symbols[1] != "ETHUSDT" {
		t.Errorf("got %+v", c)
	}
	c, err = parseFlags([]string{"-hook-stall", "off"}, io.Discard)
	if err != nil || c.HookStall >= 0 {
		t.Errorf("-hook-stall off: got stall %v, err %v; want negative (off)", c.HookStall, err)
	}
	if c.withDefaults().HookStall >= 0 {
		t.Error("-hook-stall off: withDefaults turned it back on")
	}
	for _, c := range []struct {
		args []string
		flag string
	}{
		{[]string{"-duration", "5s"}, "-duration"},
		{[]string{"-fault-rate", "-1"}, "-fault-rate"},
		{[]string{"-fault-rate", "25"}, "-fault-rate"},
		{[]string{"-hook-stall", "3s/2s"}, "-hook-stall"},
		{[]string{"-ring-size", "100"}, "-ring-size"},
		{[]string{"-max-message", "100"}, "-max-message"},
		{[]string{"-category", "futures"}, "-category"},
		{[]string{"-poll", "1ms"}, "-poll"},
		{[]string{"extra"}, "extra"},
	} {
		_, err := parseFlags(c.args, io.Discard)
		if err == nil || !strings.Contains(err.Error(), c.flag) {
			t.Errorf("parseFlags(%q): got %v; want an error naming %s", c.args, err, c.flag)
		}
	}
}

func TestWarmup(t *testing.T) {
	for _, c := range []struct{ d, want time.Duration }{
		{20 * time.Second, 5 * time.Second}, {3 * time.Minute, 18 * time.Second}, {time.Hour, 30 * time.Second},
	} {
		if got := (Config{Duration: c.d}).warmup(); got != c.want {
			t.Errorf("warmup(%v): got %v; want %v", c.d, got, c.want)
		}
	}
}

func TestRunExitCodes(t *testing.T) {
	var out, errOut strings.Builder
	if code := run(t.Context(), []string{"-duration", "1s"}, &out, &errOut); code != 2 {
		t.Errorf("bad flag: got exit %d; want 2 (stderr %q)", code, errOut.String())
	}
	if code := run(t.Context(), []string{"-h"}, &out, &errOut); code != 0 {
		t.Errorf("-h: got exit %d; want 0", code)
	}
}
