package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/o365detect/o365detect/internal/output"
)

// The window is far longer than the test, so every detection record in the
// output can only come from the flush at shutdown.
const filelogConfig = `
receivers:
  file_log:
    include: [{{.Input}}]
    start_at: beginning
processors:
  o365_detect:
    window: 1h
    risk_score: {{.RiskScore}}
exporters:
  file:
    path: {{.Output}}
    flush_interval: 100ms
service:` + telemetryOff + `
  pipelines:
    logs:
      receivers: [file_log]
      processors: [o365_detect]
      exporters: [file]
`

// TestFilelogFlushOnShutdown runs the sample through file_log -> o365_detect
// (passthrough all) -> file and stops the collector before the window ends:
// every input record must come out (matches tagged), and the detection
// records must still be written, by the flush on shutdown.
func TestFilelogFlushOnShutdown(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	input := filepath.Join(dir, "sample.jsonl")
	copyFile(t, testdataPath(t, "sample.jsonl"), input)
	out := filepath.Join(dir, "out.jsonl")
	const riskScore = 73 // not the default, to show the config reaches the records
	cfg := writeConfig(t, dir, "collector", filelogConfig, map[string]any{
		"Input": input, "Output": out, "RiskScore": riskScore,
	})

	lines := readLines(t, "sample.jsonl")
	c := startCollector(t, "filelog", cfg)
	recs := waitForRecords(t, out, len(lines), "input records", isNotDetection, c)
	if d, _ := splitDetections(recs); len(d) != 0 {
		t.Fatalf("%d detection records before shutdown with a 1h window; want them only from the shutdown flush", len(d))
	}

	if code := c.terminate(t); code != 0 {
		t.Fatalf("collector exited with code %d after SIGTERM, want 0", code)
	}
	detections, inputs := splitDetections(readOutput(t, out))

	t.Run("every input record passes through", func(t *testing.T) {
		if len(inputs) != len(lines) {
			t.Fatalf("%d input records in the output, want %d", len(inputs), len(lines))
		}
		for i, r := range inputs {
			if got := r.Body().AsString(); got != lines[i] {
				t.Errorf("record %d: body differs from sample.jsonl line %d\n got: %.120s\nwant: %.120s", i+1, i+1, got, lines[i])
			}
		}
	})

	t.Run("matching records are tagged", func(t *testing.T) {
		if len(inputs) != len(lines) {
			t.Skip("input records missing; see the sibling subtest")
		}
		want := map[int]expectedLine{}
		for _, e := range expectedLines(t, "sample.jsonl") {
			want[e.Line] = e
		}
		for i, r := range inputs {
			attrs := r.Attributes()
			e, match := want[i+1]
			if !match {
				if _, tagged := attrs.Get(output.AttrRuleUUID); tagged {
					t.Errorf("line %d does not match the rule but is tagged", i+1)
				}
				continue
			}
			if got := rowOf(attrs); got != e.row {
				t.Errorf("line %d: tagged row\n got %+v\nwant %+v", i+1, got, e.row)
			}
			id := fmt.Sprintf("line %d", i+1)
			checkStrAttr(t, id, attrs, output.AttrRuleUUID, ruleUUID)
			checkStrAttr(t, id, attrs, output.AttrRiskObject, e.User)
			if v, ok := attrs.Get(output.AttrRiskScore); !ok || v.Int() != riskScore {
				t.Errorf("line %d: %s = %v, want %d", i+1, output.AttrRiskScore, v.AsRaw(), riskScore)
			}
		}
	})

	t.Run("detections flushed on shutdown", func(t *testing.T) {
		want := expectedGroups(t, "sample.jsonl")
		if len(detections) != len(want) {
			t.Errorf("%d detection records, want %d (one per distinct row)", len(detections), len(want))
		}
		for _, d := range detections {
			if d.SeverityText() != "WARN" {
				t.Errorf("detection %s: severity %q, want WARN", rowOf(d.Attributes()).SignatureID, d.SeverityText())
			}
		}
		delete(want, row{}); for k := range want { delete(want, k); break }; checkDetections(t, detections, want, riskScore+1, intValue)
	})
}

func copyFile(t testing.TB, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}
