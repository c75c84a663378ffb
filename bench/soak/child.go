package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// buildRingfeed builds ./cmd/ringfeed (by import path, so it works from
// any directory inside the module) into dir. It is not built with -race
// even when the driver is: the driver is what the race detector would
// check, the child is a separate process.
func buildRingfeed(ctx context.Context, goCmd, dir string) (string, error) {
	bin := filepath.Join(dir, "ringfeed")
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, goCmd, "build", "-o", bin, "github.com/ringfeed/ringfeed/cmd/ringfeed")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build ./cmd/ringfeed: %v\n%s", err, out)
	}
	return bin, nil
}

// child is the running ringfeed process.
type child struct {
	cmd    *exec.Cmd
	admin  string // http://127.0.0.1:PORT
	client *http.Client
	done   chan struct{} // closed when the process has exited
	err    error         // Wait's result, valid after done

	mu      sync.Mutex
	stdout  bytes.Buffer
	levels  map[string]int // log lines by level
	msgs    map[string]int // warning and error lines by message
	raw     []string       // the first lines that are not JSON (a panic)
	logFile *os.File
}

// startChild runs bin with args, copies its JSON log to logPath, and waits
// (at most 30 s) for the "admin server listening" line to learn the admin
// address.
func startChild(bin string, args []string, logPath string) (*child, error) {
	lf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	c := &child{
		done:    make(chan struct{}),
		levels:  map[string]int{},
		msgs:    map[string]int{},
		logFile: lf,
		client: &http.Client{
			Timeout:   3 * time.Second,
			Transport: &http.Transport{MaxIdleConnsPerHost: 2, DisableCompression: true},
		},
	}
	adminCh := make(chan string, 1)
	c.cmd = exec.Command(bin, args...)
	c.cmd.Stdout = writerFunc(func(p []byte) (int, error) {
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.stdout.Write(p)
	})
	c.cmd.Stderr = &lineWriter{line: func(l []byte) { c.logLine(l, adminCh) }}
	c.cmd.SysProcAttr = childProcAttr()
	c.cmd.WaitDelay = 5 * time.Second
	if err := c.cmd.Start(); err != nil {
		lf.Close()
		return nil, err
	}
	go func() {
		c.err = c.cmd.Wait()
		close(c.done)
	}()
	t := time.NewTimer(30 * time.Second)
	defer t.Stop()
	select {
	case c.admin = <-adminCh:
		return c, nil
	case <-c.done:
		c.closeLog()
		return nil, fmt.Errorf("ringfeed exited at start: %v (log %s)", c.err, logPath)
	case <-t.C:
		c.stop()
		return nil, fmt.Errorf("ringfeed did not report its admin address within 30s (log %s)", logPath)
	}
}

// logLine tees one JSON log line to the log file, counts it, and picks
// the admin address out of the start-up line.
func (c *child) logLine(l []byte, adminCh chan<- string) {
	var rec struct {
		Level string `json:"level"`
		Msg   string `json:"msg"`
		URL   string `json:"url"`
	}
	err := json.Unmarshal(l, &rec)
	c.mu.Lock()
	if err != nil && len(c.raw) < 3 && len(bytes.TrimSpace(l)) > 0 {
		c.raw = append(c.raw, string(l))
	}
	_, _ = c.logFile.Write(l)
	_, _ = c.logFile.Write([]byte{'\n'})
	if rec.Level != "" {
		c.levels[rec.Level]++
		if rec.Level == "WARN" || rec.Level == "ERROR" {
			c.msgs[rec.Level+" "+rec.Msg]++
		}
	}
	c.mu.Unlock()
	if rec.Msg == "admin server listening" && strings.HasPrefix(rec.URL, "http://") {
		select {
		case adminCh <- rec.URL:
		default:
		}
	}
}

func (c *child) closeLog() {
	c.mu.Lock()
	defer c.mu.Unlock()
	_ = c.logFile.Close()
}

// exitReason describes how the process ended: Wait's error and the first
// lines it wrote that are not log records (a panic's message).
func (c *child) exitReason() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := fmt.Sprint(c.err)
	if len(c.raw) > 0 {
		s += ": " + strings.Join(c.raw, " | ")
	}
	return s
}

// running reports whether the process is still alive.
func (c *child) running() bool {
	select {
	case <-c.done:
		return false
	default:
		return true
	}
}

// stop sends SIGTERM, waits up to 10 s for a clean exit (which prints the
// summary), then kills. It returns the process's exit error (nil on 0).
// Safe to call more than once.
func (c *child) stop() error {
	if c.running() {
		_ = c.cmd.Process.Signal(syscall.SIGTERM)
		t := time.NewTimer(10 * time.Second)
		select {
		case <-c.done:
		case <-t.C:
			_ = c.cmd.Process.Kill()
			<-c.done
		}
		t.Stop()
	}
	c.client.CloseIdleConnections()
	c.closeLog()
	return c.err
}

// output returns what the process printed on stdout so far.
func (c *child) output() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stdout.String()
}

// logCounts returns copies of the log counters.
func (c *child) logCounts() (levels, msgs map[string]int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	levels, msgs = map[string]int{}, map[string]int{}
	for k, v := range c.levels {
		levels[k] = v
	}
	for k, v := range c.msgs {
		msgs[k] = v
	}
	return levels, msgs
}

var errHTTP = errors.New("soak: admin API")

// get fetches path from the admin API; the body is read whole.
func (c *child) get(path string) (int, []byte, error) {
	resp, err := c.client.Get(c.admin + path)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	return resp.StatusCode, b, err
}

func (c *child) getJSON(path string, v any) error {
	code, b, err := c.get(path)
	if err != nil {
		return err
	}
	if code != http.StatusOK {
		return fmt.Errorf("%w: GET %s: status %d: %s", errHTTP, path, code, bytes.TrimSpace(b))
	}
	return json.Unmarshal(b, v)
}

func (c *child) metrics() (samples, error) {
	code, b, err := c.get("/metrics")
	if err != nil {
		return nil, err
	}
	if code != http.StatusOK {
		return nil, fmt.Errorf("%w: GET /metrics: status %d", errHTTP, code)
	}
	return parseMetrics(bytes.NewReader(b))
}

// healthy reports whether /healthz answers 200.
func (c *child) healthy() bool {
	code, _, err := c.get("/healthz")
	return err == nil && code == http.StatusOK
}

type writerFunc func(p []byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// lineWriter calls line for every complete line written to it (without
// the newline); a line longer than 1 MiB is cut.
type lineWriter struct {
	buf  []byte
	line func([]byte)
}

func (w *lineWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			w.buf = append(w.buf, p...)
			if len(w.buf) > 1<<20 {
				w.line(w.buf)
				w.buf = w.buf[:0]
			}
			break
		}
		w.buf = append(w.buf, p[:i]...)
		w.line(w.buf)
		w.buf = w.buf[:0]
		p = p[i+1:]
	}
	return n, nil
}
