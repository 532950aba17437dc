package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// GenerateInput writes n records to path by repeating lines in order, each
// with its top-level Id rewritten so that every record is distinct (the last
// 12 hex digits of the GUID become the record number). It returns how many of
// the written records come from a line in tagged.
func GenerateInput(path string, lines []string, tagged []bool, n int) (matching int, err error) {
	type tmpl struct{ before, after, idPrefix string }
	ts := make([]tmpl, len(lines))
	for i, l := range lines {
		var top map[string]json.RawMessage
		if err := json.Unmarshal([]byte(l), &top); err != nil {
			return 0, fmt.Errorf("sample line %d: %w", i+1, err)
		}
		var id string
		if err := json.Unmarshal(top["Id"], &id); err != nil || id == "" {
			return 0, fmt.Errorf("sample line %d: no string Id", i+1)
		}
		// The GUID appears once in the line: it is the Id's value.
		old := `"` + id + `"`
		if strings.Count(l, old) != 1 {
			return 0, fmt.Errorf("sample line %d: Id %q is not unique in the line", i+1, id)
		}
		at := strings.Index(l, old)
		prefix := id
		if len(id) == 36 {
			prefix = id[:24]
		} else {
			prefix += "-"
		}
		ts[i] = tmpl{before: l[:at] + `"`, after: `"` + l[at+len(old):], idPrefix: prefix}
	}
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	for i := 0; i < n; i++ {
		t := ts[i%len(ts)]
		if tagged[i%len(ts)] {
			matching++
		}
		w.WriteString(t.before)
		w.WriteString(t.idPrefix)
		fmt.Fprintf(w, "%012x", i)
		w.WriteString(t.after)
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return 0, err
	}
	return matching, f.Close()
}

// CollectorRun is one run of the collector on the generated file.
type CollectorRun struct {
	WithProcessor bool
	Wall          time.Duration // start of the process until the file exporter has written every input record
	Ready         time.Duration // start of the process until "Everything is ready" in its log
	Written       int           // input records found in the output (log.file.name attributes)
	Tagged        int           // input records tagged by o365_detect (after shutdown)
	Detections    int           // detection records written (after shutdown)
	CPU           time.Duration // user + system CPU time of the collector process, start to exit
	OutputBytes   int64         // size of the file exporter's output after shutdown
}

// Markers counted in the file exporter's OTLP/JSON output.
var (
	markInput     = []byte(`"key":"log.file.name"`)
	markRule      = []byte(`"key":"security_rule.uuid"`)
	markDetection = []byte(`"eventName":"o365_detect.detection"`)
	markReady     = []byte("Everything is ready")
)

// RunCollector runs bin with filelog (input, from the beginning) -> o365_detect
// (passthrough all, when withProcessor) -> file exporter, polls the output
// until n input records are written, then stops the collector. Everything
// lives in dir; the output is removed afterwards. Only 127.0.0.1 is used: the
// collector's own metrics endpoint is put on a free loopback port.
func RunCollector(ctx context.Context, bin, dir, input string, n int, withProcessor bool, timeout time.Duration) (CollectorRun, error) {
	res := CollectorRun{WithProcessor: withProcessor}
	port, err := freePort()
	if err != nil {
		return res, err
	}
	name := "baseline"
	if withProcessor {
		name = "o365_detect"
	}
	out := filepath.Join(dir, "out-"+name+".json")
	logPath := filepath.Join(dir, "collector-"+name+".log")
	cfgPath := filepath.Join(dir, "config-"+name+".yaml")
	_ = os.Remove(out)
	if err := os.WriteFile(cfgPath, []byte(collectorConfig(input, out, port, withProcessor)), 0o644); err != nil {
		return res, err
	}
	logFile, err := os.Create(logPath)
	if err != nil {
		return res, err
	}
	defer logFile.Close()
	defer os.Remove(out)

	cmd := exec.CommandContext(ctx, bin, "--config", cfgPath)
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 20 * time.Second

	start := time.Now()
	if err := cmd.Start(); err != nil {
		return res, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	running := true
	stop := func() error {
		if !running {
			return nil
		}
		running = false
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-exited:
			return err
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			return fmt.Errorf("collector did not stop within 30s of SIGTERM; killed: %w", <-exited)
		}
	}
	defer stop()

	counter := &markCounter{marks: [][]byte{markInput}}
	readyCounter := &markCounter{marks: [][]byte{markReady}}
	deadline := time.After(timeout)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	var outF, logF *os.File
	defer func() {
		if outF != nil {
			outF.Close()
		}
		if logF != nil {
			logF.Close()
		}
	}()
	for {
		select {
		case err := <-exited:
			running = false
			return res, fmt.Errorf("collector exited early (%v); see %s", err, logPath)
		case <-deadline:
			return res, fmt.Errorf("timeout after %s: %d of %d records written; see %s", timeout, counter.counts[0], n, logPath)
		case <-ctx.Done():
			return res, ctx.Err()
		case <-tick.C:
		}
		if res.Ready == 0 {
			if logF == nil {
				logF, _ = os.Open(logPath)
			}
			if logF != nil {
				if err := readyCounter.drain(logF); err != nil {
					return res, err
				}
				if readyCounter.counts[0] > 0 {
					res.Ready = time.Since(start)
				}
			}
		}
		if outF == nil {
			if outF, err = os.Open(out); err != nil {
				outF = nil
				continue
			}
		}
		if err := counter.drain(outF); err != nil {
			return res, err
		}
		if counter.counts[0] >= n {
			res.Wall = time.Since(start)
			res.Written = counter.counts[0]
			break
		}
	}
	if err := stop(); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			return res, err
		}
		return res, fmt.Errorf("collector exited with %v on SIGTERM; see %s", err, logPath)
	}
	// Wait has returned (stop received its result), so ProcessState is set.
	res.CPU = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	if st, err := outF.Stat(); err == nil {
		res.OutputBytes = st.Size()
	}
	// After shutdown (detection records still open were emitted then):
	// count the tags and detections, outside the timed part.
	final := &markCounter{marks: [][]byte{markInput, markRule, markDetection}}
	if _, err := outF.Seek(0, io.SeekStart); err != nil {
		return res, err
	}
	if err := final.drain(outF); err != nil {
		return res, err
	}
	res.Written = final.counts[0]
	res.Detections = final.counts[2]
	res.Tagged = final.counts[1] - final.counts[2]
	return res, nil
}

// markCounter counts markers in a growing file, reading only what was added
// since the last call. The last bytes of each read (one fewer than the
// longest marker) are kept in front of the next one, so that a marker split
// across two reads is found; matches lying wholly in those kept bytes were
// counted already and are subtracted.
type markCounter struct {
	marks  [][]byte
	counts []int
	buf    []byte
	carry  int
}

func (c *markCounter) drain(f *os.File) error {
	if c.buf == nil {
		c.buf = make([]byte, 4<<20)
		c.counts = make([]int, len(c.marks))
	}
	keep := 0
	for _, m := range c.marks {
		keep = max(keep, len(m)-1)
	}
	for {
		n, err := f.Read(c.buf[c.carry:])
		if n > 0 {
			data := c.buf[:c.carry+n]
			for i, m := range c.marks {
				c.counts[i] += bytes.Count(data, m) - bytes.Count(data[:c.carry], m)
			}
			k := min(keep, len(data))
			copy(c.buf, data[len(data)-k:])
			c.carry = k
		}
		if err == io.EOF || (err == nil && n == 0) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func collectorConfig(input, out string, metricsPort int, withProcessor bool) string {
	procs := ""
	procDef := ""
	if withProcessor {
		procDef = "processors:\n  o365_detect:\n    passthrough: all\n"
		procs = "      processors: [o365_detect]\n"
	}
	return fmt.Sprintf(`receivers:
  file_log:
    include: [%s]
    start_at: beginning
%sexporters:
  file:
    path: %s
    flush_interval: 10ms
service:
  telemetry:
    metrics:
      readers:
        - pull:
            exporter:
              prometheus:
                host: 127.0.0.1
                port: %d
  pipelines:
    logs:
      receivers: [file_log]
%s      exporters: [file]
`, strconv.Quote(input), procDef, strconv.Quote(out), metricsPort, procs)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// CollectorComparison is the whole-collector comparison on one generated
// file: runs alternate baseline, o365_detect, baseline, ...
type CollectorComparison struct {
	Label     string
	Records   int
	Matching  int
	InputSize int64
	Lines     int // distinct sample lines repeated
	Baseline  []CollectorRun
	Ours      []CollectorRun
}

// Median of f over runs.
func Median(runs []CollectorRun, f func(CollectorRun) time.Duration) time.Duration {
	ds := make([]time.Duration, len(runs))
	for i, r := range runs {
		ds[i] = f(r)
	}
	slices.Sort(ds)
	if len(ds) == 0 {
		return 0
	}
	if len(ds)%2 == 1 {
		return ds[len(ds)/2]
	}
	return (ds[len(ds)/2-1] + ds[len(ds)/2]) / 2
}

// Throughput in records/s for wall time d.
func (c *CollectorComparison) Throughput(d time.Duration) float64 {
	return float64(c.Records) / d.Seconds()
}

// Loss is 1 - ours/baseline throughput in wall time: the median over the
// back-to-back pairs of runs (baseline i, o365_detect i) of 1 - baseline
// wall / o365_detect wall. Each pair shares the machine's state of the
// moment, so load that drifts over the minutes of a comparison moves both
// runs of a pair instead of one side's median.
func (c *CollectorComparison) Loss() float64 {
	return c.pairedLoss(func(r CollectorRun) time.Duration { return r.Wall })
}

// CPULoss is Loss on the collector's CPU time instead of wall time: 1 -
// ours/baseline records per CPU second, the median over the pairs.
func (c *CollectorComparison) CPULoss() float64 {
	return c.pairedLoss(func(r CollectorRun) time.Duration { return r.CPU })
}

func (c *CollectorComparison) pairedLoss(f func(CollectorRun) time.Duration) float64 {
	var losses []float64
	for i := range min(len(c.Baseline), len(c.Ours)) {
		losses = append(losses, 1-f(c.Baseline[i]).Seconds()/f(c.Ours[i]).Seconds())
	}
	if len(losses) == 0 {
		return 0
	}
	slices.Sort(losses)
	if n := len(losses); n%2 == 0 {
		return (losses[n/2-1] + losses[n/2]) / 2
	}
	return losses[len(losses)/2]
}

// CompareCollector generates n records from lines in a temporary directory
// and runs the collector runs times per side, alternating, starting with the
// baseline, after one untimed baseline run that warms the page cache (binary
// and input). progress gets one line per run.
func CompareCollector(ctx context.Context, bin, label string, lines []string, n, runs int, progress func(string)) (*CollectorComparison, error) {
	if _, err := os.Stat(bin); err != nil {
		return nil, fmt.Errorf("collector binary: %w (run make build)", err)
	}
	dir, err := os.MkdirTemp("", "o365bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	tagged, err := TaggedByOurs(lines)
	if err != nil {
		return nil, err
	}
	input := filepath.Join(dir, "audit.jsonl")
	matching, err := GenerateInput(input, lines, tagged, n)
	if err != nil {
		return nil, err
	}
	st, err := os.Stat(input)
	if err != nil {
		return nil, err
	}
	c := &CollectorComparison{Label: label, Records: n, Matching: matching, InputSize: st.Size(), Lines: len(lines)}
	timeout := 10 * time.Minute
	if _, err := RunCollector(ctx, bin, dir, input, n, false, timeout); err != nil {
		return nil, fmt.Errorf("warm-up run: %w", err)
	}
	for i := 0; i < runs; i++ {
		for _, with := range []bool{false, true} {
			run, err := RunCollector(ctx, bin, dir, input, n, with, timeout)
			if err != nil {
				return nil, fmt.Errorf("%s run %d (processor %v): %w", label, i+1, with, err)
			}
			if run.Written != n {
				return nil, fmt.Errorf("%s run %d (processor %v): %d input records in the output, want %d", label, i+1, with, run.Written, n)
			}
			if with && (run.Tagged != matching || run.Detections != matching) {
				return nil, fmt.Errorf("%s run %d: %d records tagged and %d detection records, want %d each", label, i+1, run.Tagged, run.Detections, matching)
			}
			if !with && run.Tagged != 0 {
				return nil, fmt.Errorf("%s run %d: baseline output has %d tagged records", label, i+1, run.Tagged)
			}
			if with {
				c.Ours = append(c.Ours, run)
			} else {
				c.Baseline = append(c.Baseline, run)
			}
			progress(fmt.Sprintf("collector %s run %d/%d %-11s wall %7.3fs (ready after %.3fs) %8.0f records/s, CPU %.2fs, output %.0f MB",
				label, i+1, runs, map[bool]string{false: "baseline", true: "o365_detect"}[with],
				run.Wall.Seconds(), run.Ready.Seconds(), float64(n)/run.Wall.Seconds(), run.CPU.Seconds(), float64(run.OutputBytes)/1e6))
		}
	}
	return c, nil
}
