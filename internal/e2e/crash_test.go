package e2e

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/o365detect/o365detect/internal/output"
)

// OTLP/HTTP in, so that a 200 tells the test the records were consumed (and
// journaled: the processor writes the batch to storage before ConsumeLogs
// returns). passthrough none leaves only detection records in the file.
const crashConfig = `
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:{{.OTLPPort}}
processors:
  o365_detect:
    window: {{.Window}}
    storage: file_storage
    passthrough: none
exporters:
  file:
    path: {{.Output}}
    flush_interval: 100ms
extensions:
  health_check:
    endpoint: 127.0.0.1:{{.HealthPort}}
  file_storage:
    directory: {{.StorageDir}}
service:` + telemetryOff + `
  extensions: [health_check, file_storage]
  pipelines:
    logs:
      receivers: [otlp]
      processors: [o365_detect]
      exporters: [file]
`

// runAttr is a resource attribute naming the run that sent a record. A
// detection record carries the resource of its group's first record, which
// the journal keeps as OTLP JSON; an int attribute shows that the type
// survives the crash as well as the value.
const runAttr = "e2e.run"

// How run 2 (the restart after the crash) ends.
const (
	// endShutdown: 1h window, SIGTERM; the detections come from the flush on
	// shutdown.
	endShutdown = "shutdown"
	// endWindowThenKill: 2s window; wait for the detections the window end
	// emits, then SIGKILL again. A crash after an emission may replay rows
	// (at-least-once) but must never lose one.
	endWindowThenKill = "window end, then kill"
)

// TestCrashRestartKeepsOpenGroups is the storage guarantee end to end: run 1
// takes sample.jsonl over OTLP/HTTP with a 1h window and is killed with
// SIGKILL before the window ends, so it never emits a detection. Run 2, on
// the same file_storage directory, must emit exactly the oracle's rows, with
// counts intact (lines 37 and 38 are one record delivered twice: count 2),
// although it never received most of those records itself. Run 3 is a clean
// restart after run 2: it must replay nothing after a clean stop, and only
// whole rows after a crash.
func TestCrashRestartKeepsOpenGroups(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// before are the line ranges of sample.jsonl sent to run 1, one
		// request each; after are sent to run 2. 37 and 38 are in different
		// requests, so their count of 2 is merged from two journal entries.
		before, after [][2]int
		end           string
	}{
		{
			name:   "restored groups emitted at window end, then crash again",
			before: [][2]int{{1, 30}, {31, 37}, {38, 60}},
			end:    endWindowThenKill,
		},
		{
			name:   "restored groups flushed on shutdown",
			before: [][2]int{{1, 30}, {31, 37}, {38, 60}},
			end:    endShutdown,
		},
		{
			// The duplicate's two deliveries straddle the crash: run 2 must
			// add its live count to the journaled one.
			name:   "duplicate delivery split by the crash",
			before: [][2]int{{1, 30}, {31, 37}},
			after:  [][2]int{{38, 60}},
			end:    endShutdown,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			runCrash(t, tt.before, tt.after, tt.end)
		})
	}
}

func runCrash(t *testing.T, before, after [][2]int, end string) {
	dir := t.TempDir()
	storageDir := filepath.Join(dir, "storage")
	if err := os.Mkdir(storageDir, 0o700); err != nil {
		t.Fatal(err)
	}
	lines := readLines(t, "sample.jsonl")
	want := expectedGroups(t, "sample.jsonl")
	wantRun := firstRunOf(t, before, after)

	// Every run gets fresh ports and its own output file, and the same
	// storage directory: that directory is all a restart shares with the
	// crashed run.
	start := func(run int, window string) (*collector, int, string) {
		out := filepath.Join(dir, fmt.Sprintf("out-%d.jsonl", run))
		c, ports := startListening(t, fmt.Sprintf("run %d", run), 2, func(ports []int) string {
			return writeConfig(t, dir, fmt.Sprintf("run-%d", run), crashConfig, map[string]any{
				"HealthPort": ports[0], "OTLPPort": ports[1], "Output": out,
				"Window": window, "StorageDir": storageDir,
			})
		})
		return c, ports[1], out
	}
	send := func(port, run int, ranges [][2]int) {
		for _, r := range ranges {
			postLines(t, port, lineRange(lines, r[0], r[1]), map[string]any{"service.name": "e2e-crash", runAttr: run})
		}
	}

	// Run 1: every request answered 200, nothing emitted, then the crash.
	c1, port1, out1 := start(1, "1h")
	send(port1, 1, before)
	if recs := readOutput(t, out1); len(recs) != 0 {
		t.Fatalf("run 1 wrote %d records before the window ended; want none (1h window, passthrough none)", len(recs))
	}
	c1.kill(t)
	if recs := readOutput(t, out1); len(recs) != 0 {
		t.Fatalf("run 1 wrote %d records before it was killed; want none", len(recs))
	}

	// Run 2: the restart. Its detections can only hold the counts of run 1's
	// records if the journal kept them.
	var dets2 []outRecord
	switch end {
	case endWindowThenKill:
		c2, port2, out2 := start(2, "2s")
		send(port2, 2, after)
		dets2, _ = splitDetections(waitForRecords(t, out2, len(want), "detection records", isDetection, c2))
		c2.kill(t)
	case endShutdown:
		c2, port2, out2 := start(2, "1h")
		send(port2, 2, after)
		if code := c2.terminate(t); code != 0 {
			t.Fatalf("run 2 exited with code %d after SIGTERM, want 0", code)
		}
		dets2, _ = splitDetections(readOutput(t, out2))
	default:
		t.Fatalf("unknown end %q", end)
	}
	if len(dets2) != len(want) {
		t.Errorf("run 2 emitted %d detection records, want %d (one per oracle row)", len(dets2), len(want))
	}
	checkDetections(t, dets2, want, 50, intValue)
	checkResourceRun(t, dets2, wantRun)

	// Run 3: a clean restart on the same storage, stopped at once.
	c3, _, out3 := start(3, "1h")
	if code := c3.terminate(t); code != 0 {
		t.Fatalf("run 3 exited with code %d after SIGTERM, want 0", code)
	}
	dets3, others := splitDetections(readOutput(t, out3))
	if len(others) != 0 {
		t.Errorf("run 3 wrote %d non-detection records; it received nothing", len(others))
	}
	switch end {
	case endShutdown:
		// Run 2's clean stop emitted everything and compacted the journal
		// to nothing; a replay here would double every SIEM count.
		if len(dets3) != 0 {
			t.Errorf("run 3 replayed %d detection records after a clean stop, want 0", len(dets3))
		}
	case endWindowThenKill:
		// At-least-once: a replay is allowed, a partial or unknown row is not.
		t.Logf("run 3 replayed %d of %d rows after the crash that followed an emission", len(dets3), len(want))
		for _, d := range dets3 {
			r := rowOf(d.Attributes())
			g, ok := want[r]
			if !ok {
				t.Errorf("run 3 replayed a row no oracle group has: %+v", r)
				continue
			}
			if n, err := countOf(d); err != nil || n != g.Count {
				t.Errorf("run 3 replayed %s with count %d (%v), want %d", r.SignatureID, n, err, g.Count)
			}
		}
	}
}

// firstRunOf maps each oracle row of sample.jsonl to the run (1 or 2) that
// sent its group's first record: the resource its detection must carry.
func firstRunOf(t testing.TB, before, after [][2]int) map[row]int64 {
	t.Helper()
	runOf := map[int]int64{}
	for run, ranges := range [][][2]int{before, after} {
		for _, r := range ranges {
			for n := r[0]; n <= r[1]; n++ {
				runOf[n] = int64(run + 1)
			}
		}
	}
	first := map[row]int64{}
	for _, e := range expectedLines(t, "sample.jsonl") {
		run, ok := runOf[e.Line]
		if !ok {
			t.Fatalf("sample.jsonl line %d (a match) is never sent", e.Line)
		}
		if f, ok := first[e.row]; !ok || run < f {
			first[e.row] = run
		}
	}
	return first
}

// countOf reads a detection record's count, which OTLP carries as an int.
func countOf(d outRecord) (int64, error) {
	v, ok := d.Attributes().Get(output.AttrCount)
	if !ok {
		return 0, fmt.Errorf("no %s attribute", output.AttrCount)
	}
	return intValue(v)
}

func checkResourceRun(t testing.TB, dets []outRecord, wantRun map[row]int64) {
	t.Helper()
	for _, d := range dets {
		r := rowOf(d.Attributes())
		v, ok := d.Resource.Attributes().Get(runAttr)
		switch {
		case !ok:
			t.Errorf("detection %s: resource has no %s", r.SignatureID, runAttr)
		case v.Type() != pcommon.ValueTypeInt:
			t.Errorf("detection %s: resource %s is a %s (%s), want an int", r.SignatureID, runAttr, v.Type(), v.AsString())
		case v.Int() != wantRun[r]:
			t.Errorf("detection %s: resource %s = %d, want %d (the run of the group's first record)", r.SignatureID, runAttr, v.Int(), wantRun[r])
		}
	}
}

// kill ends the process with SIGKILL, as a crash or the OOM killer would: no
// shutdown code runs, so nothing is flushed or compacted.
func (c *collector) kill(t testing.TB) {
	t.Helper()
	if c.exited() {
		t.Fatalf("collector %s exited (code %d) before the test could kill it", c.name, exitCode(c.err))
	}
	if err := c.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("SIGKILL collector %s: %v", c.name, err)
	}
	select {
	case <-c.done:
	case <-time.After(stopGrace):
		t.Fatalf("collector %s still running %s after SIGKILL", c.name, stopGrace)
	}
	var ee *exec.ExitError
	if !errors.As(c.err, &ee) {
		t.Fatalf("collector %s: wait after SIGKILL returned %v", c.name, c.err)
	}
	if ws, ok := ee.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("collector %s was not ended by SIGKILL: %v", c.name, c.err)
	}
}
