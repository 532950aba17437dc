package e2e

import (
	"path/filepath"
	"testing"
)

// detectorConfig is collector A of the two-collector tests: it runs the
// detection on the sample and writes what the processor emits both to a
// local file (the reference) and to the exporter under test, {{.Exporter}}
// (its YAML, indented as under exporters) named {{.ExporterID}}. The seen
// pipeline only tells the test when file_log has read the whole input,
// since passthrough none leaves nothing else to watch before shutdown.
const detectorConfig = `
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
{{.Exporter}}
service:` + telemetryOff + `
  pipelines:
    logs/detect:
      receivers: [file_log]
      processors: [o365_detect]
      exporters: [file/detections, {{.ExporterID}}]
    logs/seen:
      receivers: [file_log]
      exporters: [file/seen]
`

// runDetector runs collector A on the sample with the given exporter, stops
// it once it has read every input record (its exporter's queue is drained,
// and any refusal logged, before it exits), and returns it with the
// detection records it emitted, which must be the oracle's. env entries
// (KEY=value) are added to its environment.
func runDetector(t *testing.T, dir, exporterID, exporterYAML string, env ...string) (*collector, []outRecord) {
	t.Helper()
	input := filepath.Join(dir, "sample.jsonl")
	copyFile(t, testdataPath(t, "sample.jsonl"), input)
	detections := filepath.Join(dir, "a-detections.jsonl")
	seen := filepath.Join(dir, "a-seen.jsonl")

	a := startCollector(t, "A (detector)", writeConfig(t, dir, "a", detectorConfig, map[string]any{
		"Input": input, "Detections": detections, "Seen": seen,
		"ExporterID": exporterID, "Exporter": exporterYAML,
	}), env...)
	waitForRecords(t, seen, len(readLines(t, "sample.jsonl")), "input records", isNotDetection, a)
	if code := a.terminate(t); code != 0 {
		t.Fatalf("collector A exited with code %d after SIGTERM, want 0", code)
	}

	sent, others := splitDetections(readOutput(t, detections))
	if len(others) != 0 {
		t.Errorf("passthrough none: %d input records left the processor, want 0", len(others))
	}
	checkDetections(t, sent, expectedGroups(t, "sample.jsonl"), 50, intValue)
	return a, sent
}

// eachReceived calls check with every detection A sent and the record B
// stored for it, paired by signature_id (each sample match has its own Id,
// so the pairing is one to one). A detection B lacks is an error.
func eachReceived(t *testing.T, sent, got []outRecord, check func(id string, sent, got outRecord)) {
	t.Helper()
	bySigID := map[string]outRecord{}
	for _, r := range got {
		bySigID[rowOf(r.Attributes()).SignatureID] = r
	}
	for _, s := range sent {
		id := rowOf(s.Attributes()).SignatureID
		r, ok := bySigID[id]
		if !ok {
			t.Errorf("detection %s: not received by B", id)
			continue
		}
		check(id, s, r)
	}
}
