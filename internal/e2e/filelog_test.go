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
    passthrough: {{.Passthrough}}
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

// TestFilelogFlushOnShutdown runs testdata through file_log -> o365_detect ->
// file and stops the collector before the window ends: the records the
// passthrough mode keeps must come out (matches tagged), and the detection
// records must still be written, by the flush on shutdown. unseen.jsonl is in
// the table because it was kept for exactly this: records the processor's
// author has not tuned against.
func TestFilelogFlushOnShutdown(t *testing.T) {
	t.Parallel()
	tests := []struct {
		input       string
		passthrough string
	}{
		{input: "sample.jsonl", passthrough: "all"},
		{input: "sample.jsonl", passthrough: "matched"},
		{input: "unseen.jsonl", passthrough: "all"},
	}
	for _, tt := range tests {
		t.Run(tt.input+"/"+tt.passthrough, func(t *testing.T) {
			t.Parallel()
			runFilelog(t, tt.input, tt.passthrough)
		})
	}
}

func runFilelog(t *testing.T, inputName, passthrough string) {
	dir := t.TempDir()
	input := filepath.Join(dir, inputName)
	copyFile(t, testdataPath(t, inputName), input)
	out := filepath.Join(dir, "out.jsonl")
	const riskScore = 73 // not the default, to show the config reaches the records
	cfg := writeConfig(t, dir, "collector", filelogConfig, map[string]any{
		"Input": input, "Output": out, "RiskScore": riskScore, "Passthrough": passthrough,
	})

	expected := map[int]expectedLine{}
	for _, e := range expectedLines(t, inputName) {
		expected[e.Line] = e
	}
	// wantLines are the input line numbers the passthrough mode forwards.
	var wantLines []int
	lines := readLines(t, inputName)
	for i := range lines {
		if _, match := expected[i+1]; match || passthrough == "all" {
			wantLines = append(wantLines, i+1)
		}
	}

	c := startCollector(t, "filelog", cfg)
	recs := waitForRecords(t, out, len(wantLines), "input records", isNotDetection, c)
	if d, _ := splitDetections(recs); len(d) != 0 {
		t.Fatalf("%d detection records before shutdown with a 1h window; want them only from the shutdown flush", len(d))
	}

	if code := c.terminate(t); code != 0 {
		t.Fatalf("collector exited with code %d after SIGTERM, want 0", code)
	}
	detections, inputs := splitDetections(readOutput(t, out))

	t.Run("input records pass through", func(t *testing.T) {
		if len(inputs) != len(wantLines) {
			t.Fatalf("%d input records in the output, want %d", len(inputs), len(wantLines))
		}
		for i, r := range inputs {
			n := wantLines[i]
			if got := r.Body().AsString(); got != lines[n-1] {
				t.Errorf("record %d: body differs from %s line %d\n got: %.120s\nwant: %.120s", i+1, inputName, n, got, lines[n-1])
			}
		}
	})

	t.Run("matching records are tagged", func(t *testing.T) {
		if len(inputs) != len(wantLines) {
			t.Fatalf("%d input records in the output, want %d", len(inputs), len(wantLines))
		}
		for i, r := range inputs {
			n := wantLines[i]
			attrs := r.Attributes()
			e, match := expected[n]
			if !match {
				if _, tagged := attrs.Get(output.AttrRuleUUID); tagged {
					t.Errorf("line %d does not match the rule but is tagged", n)
				}
				continue
			}
			if got := rowOf(attrs); got != e.row {
				t.Errorf("line %d: tagged row\n got %+v\nwant %+v", n, got, e.row)
			}
			id := fmt.Sprintf("line %d", n)
			checkStrAttr(t, id, attrs, output.AttrRuleUUID, ruleUUID)
			checkStrAttr(t, id, attrs, output.AttrRiskObject, e.User)
			if v, ok := attrs.Get(output.AttrRiskScore); !ok || v.Int() != riskScore {
				t.Errorf("line %d: %s = %v, want %d", n, output.AttrRiskScore, v.AsRaw(), riskScore)
			}
		}
	})

	t.Run("detections flushed on shutdown", func(t *testing.T) {
		want := expectedGroups(t, inputName)
		if len(detections) != len(want) {
			t.Errorf("%d detection records, want %d (one per distinct row)", len(detections), len(want))
		}
		for _, d := range detections {
			if d.SeverityText() != "WARN" {
				t.Errorf("detection %s: severity %q, want WARN", rowOf(d.Attributes()).SignatureID, d.SeverityText())
			}
		}
		checkDetections(t, detections, want, riskScore, intValue)
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
