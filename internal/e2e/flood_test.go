//go:build flood

// The flood measurement is not part of `make test`: it sends a million
// records and writes a gigabyte of output. `make flood` runs it.

package e2e

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"
)

// The window never ends during the run: every detection record comes from
// an emission at max_groups (or the final flush). format: proto keeps the
// output about half the size of OTLP JSON; the test streams it back.
const floodConfig = `
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:{{.OTLPPort}}
processors:
  o365_detect:
    window: 1h
    max_groups: {{.MaxGroups}}
    passthrough: none
exporters:
  file:
    path: {{.Output}}
    format: proto
extensions:
  health_check:
    endpoint: 127.0.0.1:{{.HealthPort}}
service:` + telemetryOff + `
  extensions: [health_check]
  pipelines:
    logs:
      receivers: [otlp]
      processors: [o365_detect]
      exporters: [file]
`

const (
	floodBatch     = 1000 // records per OTLP/HTTP request
	floodMaxGroups = 10000
	// Two senders keep the collector's receiver busy while one request is
	// being built; more would only take CPU from the collector on 2 cores.
	floodSenders = 2
	// The template is sample.jsonl line 4, a real-sized (1.9 KB) match. Its
	// user and Id are replaced per record, so every record is its own group.
	floodTemplateLine = 4
	floodTemplateUser = "alice.admin@contoso.com"
	floodTemplateID   = "a1f3c2d4-1111-4a2b-9c3d-0e1f2a3b4c5d"
)

func floodUser(i int) string { return fmt.Sprintf("flood-%07d@contoso.com", i) }
func floodID(i int) string   { return fmt.Sprintf("a1f3c2d4-1111-4a2b-9c3d-%012d", i) }

// floodRecords is 1,000,000, or $O365DETECT_FLOOD_RECORDS for a quicker
// look (a multiple of the batch size).
func floodRecords(t *testing.T) int {
	n := 1_000_000
	if s := os.Getenv("O365DETECT_FLOOD_RECORDS"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil || n <= 0 || n%floodBatch != 0 {
			t.Fatalf("O365DETECT_FLOOD_RECORDS=%q: want a positive multiple of %d", s, floodBatch)
		}
	}
	return n
}

// TestFlood sends a million matching records, each with its own user, to
// one collector and measures its peak RSS and the time taken. Each record is
// a new group, so max_groups is reached every 10,000 records: the processor
// must emit the open groups then (memory stays bounded) and lose none. The
// output must hold exactly one detection record per record sent, count 1
// each.
func TestFlood(t *testing.T) {
	n := floodRecords(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "detections.pb")

	tmpl := readLines(t, "sample.jsonl")[floodTemplateLine-1]
	var tmplRow row
	for _, e := range expectedLines(t, "sample.jsonl") {
		if e.Line == floodTemplateLine {
			tmplRow = e.row
		}
	}
	if tmplRow.User != floodTemplateUser || tmplRow.SignatureID != floodTemplateID || strings.Count(tmpl, floodTemplateID) != 1 {
		t.Fatalf("sample.jsonl line %d is no longer the template this test expects (user %s, Id %s)", floodTemplateLine, floodTemplateUser, floodTemplateID)
	}

	c, ports := startListening(t, "flood", 2, func(ports []int) string {
		return writeConfig(t, dir, "flood", floodConfig, map[string]any{
			"HealthPort": ports[0], "OTLPPort": ports[1], "Output": out, "MaxGroups": floodMaxGroups,
		})
	})
	rss := sampleRSS(c)

	start := time.Now()
	batches := make(chan int)
	var (
		wg      sync.WaitGroup
		errMu   sync.Mutex
		sendErr error
	)
	for range floodSenders {
		wg.Go(func() {
			client := &http.Client{Timeout: 2 * time.Minute}
			for first := range batches {
				lines := make([]string, floodBatch)
				for k := range lines {
					i := first + k
					lines[k] = strings.ReplaceAll(strings.Replace(tmpl, floodTemplateID, floodID(i), 1), floodTemplateUser, floodUser(i))
				}
				if err := sendLogs(client, ports[1], floodLogs(lines), true); err != nil {
					errMu.Lock()
					sendErr = errors.Join(sendErr, fmt.Errorf("records %d..%d: %w", first, first+floodBatch-1, err))
					errMu.Unlock()
				}
			}
		})
	}
	for first := 0; first < n; first += floodBatch {
		if c.exited() {
			break
		}
		batches <- first
	}
	close(batches)
	wg.Wait()
	sent := time.Since(start)
	if sendErr != nil {
		t.Fatalf("sending failed: %v", sendErr)
	}
	if code := c.terminate(t); code != 0 {
		t.Fatalf("collector exited with code %d after SIGTERM, want 0", code)
	}
	total := time.Since(start)
	peakKB, samples := rss()

	res := countFlood(t, out, n, tmplRow)
	fi, err := os.Stat(out)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("records sent: %d in %d requests of %d, %d senders", n, n/floodBatch, floodBatch, floodSenders)
	t.Logf("send time: %s (%.0f records/s); total until the collector exited: %s", sent.Round(time.Millisecond), float64(n)/sent.Seconds(), total.Round(time.Millisecond))
	t.Logf("peak RSS (VmHWM): %.1f MB (%d samples)", float64(peakKB)/1024, samples)
	t.Logf("output: %.1f MB of OTLP protobuf, %d export messages, largest %d records", float64(fi.Size())/(1<<20), res.messages, res.largest)
	t.Logf("detection records: %d, sum of counts: %d", res.rows, res.countSum)

	if res.rows != n {
		t.Errorf("%d detection records, want %d (one per unique user)", res.rows, n)
	}
	if res.countSum != int64(n) {
		t.Errorf("sum of counts %d, want %d", res.countSum, n)
	}
	if res.missing > 0 {
		t.Errorf("%d users have no detection record", res.missing)
	}
	if res.largest > floodMaxGroups {
		t.Errorf("an emission held %d records, more than max_groups %d", res.largest, floodMaxGroups)
	}
	if logs := c.output.String(); strings.Contains(logs, "\terror\t") {
		t.Errorf("the collector logged errors:\n%s", grepLines(logs, "\terror\t"))
	}
}

// sampleRSS polls /proc/<pid>/status until the process exits. VmHWM is the
// kernel's own peak of the resident set, so polling cannot miss a spike;
// the last reading before exit is the run's peak. The returned function
// waits for the sampler and returns the peak in kB and the sample count.
func sampleRSS(c *collector) func() (int64, int) {
	path := fmt.Sprintf("/proc/%d/status", c.cmd.Process.Pid)
	var (
		peak    int64
		samples int
		done    = make(chan struct{})
	)
	go func() {
		defer close(done)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			if b, err := os.ReadFile(path); err == nil {
				for _, l := range strings.Split(string(b), "\n") {
					if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
						if kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64); err == nil {
							peak = max(peak, kb)
							samples++
						}
					}
				}
			}
			select {
			case <-c.done:
				return
			case <-tick.C:
			}
		}
	}()
	return func() (int64, int) {
		<-done
		return peak, samples
	}
}

type floodResult struct {
	rows, messages, largest, missing int
	countSum                         int64
}

// countFlood streams the file exporter's proto output (each export message
// prefixed by its length, 4 bytes big-endian) and checks every detection
// record against the template row with its own user and Id.
func countFlood(t *testing.T, path string, n int, tmplRow row) floodResult {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 1<<20)
	seen := make([]bool, n)
	var (
		res                    floodResult
		hdr                    [4]byte
		buf                    []byte
		bad                    int
		u                      plog.ProtoUnmarshaler
		userPrefix, userSuffix = "flood-", "@contoso.com"
	)
	for {
		if _, err := io.ReadFull(br, hdr[:]); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("%s: message %d header: %v", path, res.messages+1, err)
		}
		size := binary.BigEndian.Uint32(hdr[:])
		if cap(buf) < int(size) {
			buf = make([]byte, size)
		}
		buf = buf[:size]
		if _, err := io.ReadFull(br, buf); err != nil {
			t.Fatalf("%s: message %d (%d bytes): %v", path, res.messages+1, size, err)
		}
		ld, err := u.UnmarshalLogs(buf)
		if err != nil {
			t.Fatalf("%s: message %d is not OTLP logs: %v", path, res.messages+1, err)
		}
		res.messages++
		res.largest = max(res.largest, ld.LogRecordCount())
		for _, rl := range ld.ResourceLogs().All() {
			for _, sl := range rl.ScopeLogs().All() {
				for _, lr := range sl.LogRecords().All() {
					rec := outRecord{LogRecord: lr, Resource: rl.Resource(), Scope: sl.Scope()}
					if !isDetection(rec) {
						bad++
						continue
					}
					res.rows++
					got := rowOf(lr.Attributes())
					i, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(got.User, userPrefix), userSuffix))
					want := tmplRow
					want.User, want.SignatureID = floodUser(i), floodID(i)
					if err != nil || i < 0 || i >= n || got != want {
						if bad++; bad <= 5 {
							t.Errorf("detection record with an unexpected row: %+v", got)
						}
						continue
					}
					if seen[i] {
						if bad++; bad <= 5 {
							t.Errorf("user %s has more than one detection record", got.User)
						}
					}
					seen[i] = true
					cnt, err := countOf(rec)
					if err != nil {
						t.Fatalf("user %s: count: %v", got.User, err)
					}
					res.countSum += cnt
				}
			}
		}
	}
	for _, s := range seen {
		if !s {
			res.missing++
		}
	}
	if bad > 0 {
		t.Errorf("%d output records are not one detection record per user with the template's row", bad)
	}
	return res
}

// floodLogs is otlpLogs for the sender goroutines, which must not call
// t.Fatal.
func floodLogs(lines []string) plog.Logs {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("service.name", "e2e-flood")
	lrs := rl.ScopeLogs().AppendEmpty().LogRecords()
	lrs.EnsureCapacity(len(lines))
	for _, l := range lines {
		lrs.AppendEmpty().Body().SetStr(l)
	}
	return ld
}

func grepLines(s, substr string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
