// Package e2e runs the built otelcol-o365 binary as a black box: real
// processes, real files and loopback sockets, no in-process components.
package e2e

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"text/template"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/o365detect/o365detect/internal/repotest"
)

const (
	// stopGrace is how long a collector gets to drain after SIGTERM before it
	// is killed; a clean shutdown here takes well under a second.
	stopGrace = 10 * time.Second
	// signalGrace is how long after a collector last showed it was up a
	// SIGTERM waits. The collector (otelcol v0.158 Collector.Run) installs
	// its SIGTERM handler only after the service has started and the health
	// check already answers ready; a SIGTERM in that gap kills the process
	// without a shutdown, which no test means to check.
	signalGrace = 250 * time.Millisecond
	// waitTimeout bounds every poll. Generous because 2-core CI machines run
	// the race-enabled unit tests next to these.
	waitTimeout = 30 * time.Second
	pollEvery   = 50 * time.Millisecond
)

// telemetryOff keeps each collector off the default internal-metrics port
// (8888), which two collectors in one test, or a parallel test, would fight
// over.
const telemetryOff = `
  telemetry:
    metrics:
      level: none`

// collectorBin is $O365DETECT_BIN (set by `make test`) or the `make build`
// output. A missing binary is a failure, not a skip: a green run must mean the
// distribution was exercised.
func collectorBin(t testing.TB) string {
	t.Helper()
	root := repotest.Root(t)
	bin := os.Getenv("O365DETECT_BIN")
	if bin == "" {
		bin = filepath.Join(root, "bin", "otelcol-o365")
	} else if !filepath.IsAbs(bin) {
		bin = filepath.Join(root, bin)
	}
	if fi, err := os.Stat(bin); err != nil || fi.IsDir() {
		t.Fatalf("collector binary %s not found: run make build first", bin)
	}
	return bin
}

var (
	portsMu sync.Mutex
	// portsGiven stops two parallel tests from being handed the same port
	// between its release here and the collector binding it.
	portsGiven = map[int]bool{}
)

// freePort returns a loopback port that was free a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	portsMu.Lock()
	defer portsMu.Unlock()
	for range 20 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		_ = l.Close()
		if !portsGiven[port] {
			portsGiven[port] = true
			return port
		}
	}
	t.Fatal("no unused loopback port after 20 tries")
	return 0
}

// lockedBuffer collects a process's output while the test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// collector is one running otelcol-o365 process.
type collector struct {
	name   string
	cmd    *exec.Cmd
	output *lockedBuffer // stdout and stderr interleaved, as an operator sees them
	done   chan struct{}
	err    error // cmd.Wait's result; read only after done is closed
	// upAt is when the collector was last seen up: started, then healthy.
	upAt time.Time
}

// writeConfig renders tmpl with data into dir/name.yaml.
func writeConfig(t testing.TB, dir, name, tmpl string, data any) string {
	t.Helper()
	tp, err := template.New(name).Option("missingkey=error").Parse(tmpl)
	if err != nil {
		t.Fatalf("config template %s: %v", name, err)
	}
	var buf bytes.Buffer
	if err := tp.Execute(&buf, data); err != nil {
		t.Fatalf("config template %s: %v", name, err)
	}
	path := filepath.Join(dir, name+".yaml")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// startCollector runs the binary on configPath. env entries (KEY=value) are
// added to the test's environment. The process is stopped and, if the test
// failed, its output logged, when the test ends.
func startCollector(t *testing.T, name, configPath string, env ...string) *collector {
	t.Helper()
	c := &collector{name: name, output: &lockedBuffer{}, done: make(chan struct{})}
	c.cmd = exec.Command(collectorBin(t), "--config", configPath)
	c.cmd.Dir = filepath.Dir(configPath)
	c.cmd.Env = append(os.Environ(), env...)
	c.cmd.Stdout = c.output
	c.cmd.Stderr = c.output
	if err := c.cmd.Start(); err != nil {
		t.Fatalf("start collector %s: %v", name, err)
	}
	c.upAt = time.Now()
	go func() {
		c.err = c.cmd.Wait()
		close(c.done)
	}()
	// Cleanups run last-in first-out: stop first, so the dump includes the
	// shutdown logs.
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("---- collector %s output ----\n%s---- end of %s ----", name, c.output.String(), name)
		}
	})
	t.Cleanup(func() { c.stop(t) })
	return c
}

func (c *collector) exited() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// stop ends the process however it has to: SIGTERM, then SIGKILL after
// stopGrace. It is idempotent.
func (c *collector) stop(t testing.TB) {
	if c.exited() {
		return
	}
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
		return
	case <-time.After(stopGrace):
	}
	t.Errorf("collector %s ignored SIGTERM for %s; killing it", c.name, stopGrace)
	_ = c.cmd.Process.Kill()
	<-c.done
}

// terminate sends SIGTERM and returns the exit code, failing the test if the
// process needs SIGKILL: a graceful stop is part of what is being tested
// (detections are flushed on shutdown).
func (c *collector) terminate(t testing.TB) int {
	t.Helper()
	if !c.exited() {
		time.Sleep(time.Until(c.upAt.Add(signalGrace)))
		_ = c.cmd.Process.Signal(syscall.SIGTERM)
	}
	select {
	case <-c.done:
	case <-time.After(stopGrace):
		_ = c.cmd.Process.Kill()
		<-c.done
		t.Fatalf("collector %s did not exit within %s of SIGTERM", c.name, stopGrace)
	}
	return exitCode(c.err)
}

func exitCode(err error) int {
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.ExitCode()
	default:
		return -1
	}
}

// waitFor polls cond until it holds. It gives up early when one of the
// watched collectors has exited, since the condition then can never become
// true and the output explains why.
func waitFor(t testing.TB, what string, cond func() bool, watch ...*collector) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		if cond() {
			return
		}
		for _, c := range watch {
			if c.exited() {
				t.Fatalf("waiting for %s: collector %s exited (code %d)", what, c.name, exitCode(c.err))
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", waitTimeout, what)
		}
		time.Sleep(pollEvery)
	}
}

// startListening starts a collector that binds ports; ports[0] must be its
// health_check endpoint. A port picked by freePort can be taken by someone
// else (another test binary, an outgoing connection) before the collector
// binds it, so a start that fails with "address already in use" is retried
// on fresh ports. It returns once the collector reports healthy, which it
// does only after every pipeline component has started.
func startListening(t *testing.T, name string, nPorts int, config func(ports []int) string, env ...string) (*collector, []int) {
	t.Helper()
	const attempts = 3
	for attempt := 1; ; attempt++ {
		ports := make([]int, nPorts)
		for i := range ports {
			ports[i] = freePort(t)
		}
		c := startCollector(t, name, config(ports), env...)
		if waitHealthy(t, c, ports[0]) {
			return c, ports
		}
		if attempt == attempts || !strings.Contains(c.output.String(), "address already in use") {
			t.Fatalf("collector %s exited (code %d) before it was healthy", name, exitCode(c.err))
		}
		t.Logf("collector %s lost a race for a port (attempt %d of %d); retrying on fresh ports", name, attempt, attempts)
	}
}

// waitHealthy polls the health_check extension on port until it answers 200.
// It returns false if the collector exits first.
func waitHealthy(t testing.TB, c *collector, port int) bool {
	t.Helper()
	url := fmt.Sprintf("http://127.0.0.1:%d/", port)
	client := &http.Client{Timeout: time.Second}
	healthy := false
	waitFor(t, "collector "+c.name+" to be healthy", func() bool {
		if c.exited() {
			return true
		}
		resp, err := client.Get(url)
		if err != nil {
			return false
		}
		_ = resp.Body.Close()
		healthy = resp.StatusCode == http.StatusOK
		return healthy
	})
	if healthy {
		c.upAt = time.Now()
	}
	return healthy
}

// outRecord is one log record of a file exporter's output with its context.
type outRecord struct {
	plog.LogRecord
	Resource pcommon.Resource
	Scope    pcommon.InstrumentationScope
}

// readOutput parses a file exporter's output: one OTLP JSON export request per
// line. A missing file reads as empty; a last line without its newline is
// still being written and is left for the next poll.
func readOutput(t testing.TB, path string) []outRecord {
	t.Helper()
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	if i := bytes.LastIndexByte(data, '\n'); i >= 0 {
		data = data[:i+1]
	} else {
		return nil
	}
	var out []outRecord
	var u plog.JSONUnmarshaler
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 64<<20)
	for n := 1; sc.Scan(); n++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		ld, err := u.UnmarshalLogs(sc.Bytes())
		if err != nil {
			t.Fatalf("%s line %d is not OTLP JSON logs: %v", path, n, err)
		}
		for _, rl := range ld.ResourceLogs().All() {
			for _, sl := range rl.ScopeLogs().All() {
				for _, lr := range sl.LogRecords().All() {
					out = append(out, outRecord{LogRecord: lr, Resource: rl.Resource(), Scope: sl.Scope()})
				}
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// splitDetections separates the processor's detection records from the rest.
func splitDetections(recs []outRecord) (detections, others []outRecord) {
	for _, r := range recs {
		if r.EventName() == detectionEventName {
			detections = append(detections, r)
		} else {
			others = append(others, r)
		}
	}
	return detections, others
}

// waitForRecords polls path until it holds at least n records that keep
// returns true for, and returns everything read.
func waitForRecords(t testing.TB, path string, n int, what string, keep func(outRecord) bool, watch ...*collector) []outRecord {
	t.Helper()
	var recs []outRecord
	waitFor(t, fmt.Sprintf("%d %s in %s", n, what, filepath.Base(path)), func() bool {
		recs = readOutput(t, path)
		got := 0
		for _, r := range recs {
			if keep(r) {
				got++
			}
		}
		return got >= n
	}, watch...)
	return recs
}

func isDetection(r outRecord) bool    { return r.EventName() == detectionEventName }
func isNotDetection(r outRecord) bool { return r.EventName() != detectionEventName }

// runBinary runs the collector to completion (validate, or a run expected to
// fail fast) and returns its exit code and combined output.
func runBinary(t testing.TB, dir string, env []string, args ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, collectorBin(t), args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	// SIGTERM first on timeout so a collector that unexpectedly started
	// still shuts down cleanly.
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = stopGrace
	var out lockedBuffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Errorf("%s %s still running after %s; stopped it", filepath.Base(cmd.Path), strings.Join(args, " "), waitTimeout)
	}
	return exitCode(err), out.String()
}
