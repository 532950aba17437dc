package e2e

import (
	"fmt"
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

// otlpExporter is collector A's exporter to B, on B's OTLP/HTTP port.
const otlpExporter = `  otlp_http:
    endpoint: http://127.0.0.1:%d`

// TestOTLPKeepsDetectionsIntact checks that a detection record crosses an
// OTLP/HTTP hop unchanged: the receiving collector must store exactly what
// the processor wrote (EventName, body, severity, timestamps, every
// attribute with its type), which a downstream SIEM pipeline relies on.
func TestOTLPKeepsDetectionsIntact(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	outB := filepath.Join(dir, "b.jsonl")

	b, ports := startListening(t, "B (otlp receiver)", 2, func(ports []int) string {
		return writeConfig(t, dir, "b", otlpReceiverConfig, map[string]any{
			"HealthPort": ports[0], "OTLPPort": ports[1], "Output": outB,
		})
	})
	_, sentDetections := runDetector(t, dir, "otlp_http", fmt.Sprintf(otlpExporter, ports[1]))

	// The exporter drains its queue before A exits, but B's file exporter
	// writes asynchronously.
	got := waitForRecords(t, outB, len(sentDetections), "detection records", isDetection, b)
	gotDetections, gotOthers := splitDetections(got)
	if len(gotOthers) != 0 || len(gotDetections) != len(sentDetections) {
		t.Fatalf("B received %d detection and %d other records, want %d and 0", len(gotDetections), len(gotOthers), len(sentDetections))
	}

	eachReceived(t, sentDetections, gotDetections, func(id string, s, r outRecord) {
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
	})
}
