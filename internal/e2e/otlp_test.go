package e2e

import (
	"path/filepath"
	"testing"

	"github.com/o365detect/o365detect/internal/output"
)

// Collector B: OTLP/HTTP in, file out.
const otlpReceiverConfig = `
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:{{.OTLPPort}}
exporters:
  file:
    path: {{.Output}}
    flush_interval: 100ms
extensions:
  health_check:
    endpoint: 127.0.0.1:{{.HealthPort}}
service:` + telemetryOff + `
  extensions: [health_check]
  pipelines:
    logs:
      receivers: [otlp]
      exporters: [file]
`

// Collector A: the detection pipeline writes what the processor emits both to
// a local file (the reference) and over OTLP/HTTP to B. The seen pipeline
// only tells the test when file_log has read the whole input, since
// passthrough none leaves nothing else to watch before shutdown.
const otlpSenderConfig = `
receivers:
  file_log:
    include: [{{.Input}}]
    start_at: beginning
processors:
  o365_detect:
    window: 1h
    passthrough: none
exporters:
  file/detections:
    path: {{.Detections}}
    flush_interval: 100ms
  file/seen:
    path: {{.Seen}}
    flush_interval: 100ms
  otlp_http:
    endpoint: http://127.0.0.1:{{.OTLPPort}}
service:` + telemetryOff + `
  pipelines:
    logs/detect:
      receivers: [file_log]
      processors: [o365_detect]
      exporters: [file/detections, otlp_http]
    logs/seen:
      receivers: [file_log]
      exporters: [file/seen]
`

// TestOTLPKeepsDetectionsIntact checks that a detection record crosses an
// OTLP/HTTP hop unchanged: the receiving collector must store exactly what
// the processor wrote (EventName, body, severity, timestamps, every
// attribute with its type), which a downstream SIEM pipeline relies on.
func TestOTLPKeepsDetectionsIntact(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	input := filepath.Join(dir, "sample.jsonl")
	copyFile(t, testdataPath(t, "sample.jsonl"), input)
	lines := readLines(t, "sample.jsonl")
	outB := filepath.Join(dir, "b.jsonl")
	detectionsA := filepath.Join(dir, "a-detections.jsonl")
	seenA := filepath.Join(dir, "a-seen.jsonl")

	b, ports := startListening(t, "B (otlp receiver)", 2, func(ports []int) string {
		return writeConfig(t, dir, "b", otlpReceiverConfig, map[string]any{
			"HealthPort": ports[0], "OTLPPort": ports[1], "Output": outB,
		})
	})
	otlpPort := ports[1]

	a := startCollector(t, "A (detector)", writeConfig(t, dir, "a", otlpSenderConfig, map[string]any{
		"Input": input, "Detections": detectionsA, "Seen": seenA, "OTLPPort": otlpPort,
	}))
	waitForRecords(t, seenA, len(lines), "input records", isNotDetection, a)
	if code := a.terminate(t); code != 0 {
		t.Fatalf("collector A exited with code %d after SIGTERM, want 0", code)
	}

	sent := readOutput(t, detectionsA)
	sentDetections, others := splitDetections(sent)
	if len(others) != 0 {
		t.Errorf("passthrough none: %d input records left the processor, want 0", len(others))
	}
	want := expectedGroups(t, "sample.jsonl")
	checkDetections(t, sentDetections, want, 50, intValue)

	// The exporter drains its queue before A exits, but B's file exporter
	// writes asynchronously.
	got := waitForRecords(t, outB, len(sentDetections), "detection records", isDetection, b)
	gotDetections, gotOthers := splitDetections(got)
	if len(gotOthers) != 0 || len(gotDetections) != len(sentDetections) {
		t.Fatalf("B received %d detection and %d other records, want %d and 0", len(gotDetections), len(gotOthers), len(sentDetections))
	}

	bySigID := map[string]outRecord{}
	for _, r := range gotDetections {
		bySigID[rowOf(r.Attributes()).SignatureID] = r
	}
	for _, s := range sentDetections {
		id := rowOf(s.Attributes()).SignatureID
		r, ok := bySigID[id]
		if !ok {
			t.Errorf("detection %s: not received by B", id)
			continue
		}
		if r.EventName() != output.EventName {
			t.Errorf("detection %s: EventName %q at B, want %q", id, r.EventName(), output.EventName)
		}
		if !r.Body().Equal(s.Body()) {
			t.Errorf("detection %s: body at B %q, sent %q", id, r.Body().AsString(), s.Body().AsString())
		}
		if r.SeverityNumber() != s.SeverityNumber() || r.SeverityText() != s.SeverityText() {
			t.Errorf("detection %s: severity at B %v/%q, sent %v/%q", id, r.SeverityNumber(), r.SeverityText(), s.SeverityNumber(), s.SeverityText())
		}
		if r.Timestamp() != s.Timestamp() || r.ObservedTimestamp() != s.ObservedTimestamp() {
			t.Errorf("detection %s: timestamps at B %v/%v, sent %v/%v", id, r.Timestamp(), r.ObservedTimestamp(), s.Timestamp(), s.ObservedTimestamp())
		}
		if !r.Attributes().Equal(s.Attributes()) {
			t.Errorf("detection %s: attributes differ\n at B: %v\n sent: %v", id, r.Attributes().AsRaw(), s.Attributes().AsRaw())
		}
		if !r.Resource.Attributes().Equal(s.Resource.Attributes()) {
			t.Errorf("detection %s: resource attributes at B %v, sent %v", id, r.Resource.Attributes().AsRaw(), s.Resource.Attributes().AsRaw())
		}
		if r.Scope.Name() != s.Scope.Name() {
			t.Errorf("detection %s: scope name at B %q, sent %q", id, r.Scope.Name(), s.Scope.Name())
		}
	}
}
