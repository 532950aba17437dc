package e2e

import (
	"fmt"
	"math"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/o365detect/o365detect/internal/output"
)

// The splunk_hec receiver (v0.158.0) never checks the HEC token: it only
// copies it into a resource attribute when access_token_passthrough is on.
// The one thing that can refuse a request is an HTTP server authenticator on
// the receiver's confighttp server. bearertokenauth does it for HEC when its
// scheme is "Splunk", the scheme the splunk_hec exporter sends
// ("Authorization: Splunk <token>").
const hecAuthExtension = "bearertokenauth"

// Collector B: a stand-in for a Splunk HEC endpoint.
const hecReceiverConfig = `
receivers:
  splunk_hec:
    endpoint: 127.0.0.1:{{.HECPort}}
    auth:
      authenticator: bearertokenauth
exporters:
  file:
    path: {{.Output}}
    flush_interval: 100ms
extensions:
  health_check:
    endpoint: 127.0.0.1:{{.HealthPort}}
  bearertokenauth:
    scheme: Splunk
    token: ${env:O365_HEC_TOKEN}
service:` + telemetryOff + `
  extensions: [health_check, bearertokenauth]
  pipelines:
    logs:
      receivers: [splunk_hec]
      exporters: [file]
`

// hecExporter is collector A's exporter to B, on B's HEC port.
const hecExporter = `  splunk_hec:
    endpoint: http://127.0.0.1:%d/services/collector
    token: ${env:O365_HEC_TOKEN}
    index: o365
    sourcetype: o365:detection
    source: otelcol-o365`

const hecToken = "9f0e6c1a-e2e-good-token"

// TestSplunkHEC sends the detection records through the splunk_hec exporter
// to a collector's splunk_hec receiver: with the right token they must
// arrive as HEC events that carry the whole row, stats and risk fields; with
// a wrong one they must be refused and A must say so in its log.
func TestSplunkHEC(t *testing.T) {
	t.Parallel()
	// The distribution carries the authenticator; without it a wrong token
	// could not be refused and the test below would prove nothing.
	if !binaryHasComponent(t, hecAuthExtension) {
		t.Fatalf("the distribution lacks the %s extension (builder-config.yaml)", hecAuthExtension)
	}
	tests := []struct {
		name      string
		sendToken string
		refused   bool
	}{
		{name: "correct token", sendToken: hecToken},
		{name: "wrong token", sendToken: "not-the-token", refused: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			runHEC(t, tt.sendToken, tt.refused)
		})
	}
}

func runHEC(t *testing.T, sendToken string, refused bool) {
	dir := t.TempDir()
	outB := filepath.Join(dir, "b.jsonl")

	b, ports := startListening(t, "B (splunk_hec receiver)", 2, func(ports []int) string {
		return writeConfig(t, dir, "b", hecReceiverConfig, map[string]any{
			"HealthPort": ports[0], "HECPort": ports[1], "Output": outB,
		})
	}, "O365_HEC_TOKEN="+hecToken)
	hecPort := ports[1]
	a, sent := runDetector(t, dir, "splunk_hec", fmt.Sprintf(hecExporter, hecPort), "O365_HEC_TOKEN="+sendToken)
	want := expectedGroups(t, "sample.jsonl")

	if refused {
		// B's own answer, independent of how A's exporter reports it.
		if code := postHEC(t, hecPort, sendToken); code != http.StatusUnauthorized && code != http.StatusForbidden {
			t.Errorf("B answered a HEC request with a wrong token with HTTP %d, want 401 or 403", code)
		}
		if line := exporterRefusal(a.output.String()); line == "" {
			t.Errorf("A's log has no splunk_hec export error with HTTP 401/403")
		} else {
			t.Logf("A logged: %s", line)
		}
		// B's file exporter writes asynchronously: only a stopped B proves
		// that nothing more will arrive.
		if code := b.terminate(t); code != 0 {
			t.Errorf("collector B exited with code %d after SIGTERM, want 0", code)
		}
		if got := readOutput(t, outB); len(got) != 0 {
			t.Errorf("B accepted %d records sent with a wrong token, want 0", len(got))
		}
		return
	}

	got := waitForRecords(t, outB, len(sent), "HEC events", func(outRecord) bool { return true }, b)
	if len(got) != len(sent) {
		t.Fatalf("B received %d records, want the %d detection records", len(got), len(sent))
	}
	// HEC has no EventName or severity slot: the exporter moves them into
	// fields, which come back as attributes.
	checkDetections(t, got, want, 50, hecNumber)
	eachReceived(t, sent, got, func(id string, s, r outRecord) {
		checkHECEvent(t, id, s, r)
	})
}

// checkHECEvent compares a detection record with the HEC event B made of it:
// the body is the event, and every attribute is an indexed field.
func checkHECEvent(t *testing.T, id string, sent, got outRecord) {
	t.Helper()
	if got.Body().AsString() != sent.Body().AsString() {
		t.Errorf("detection %s: HEC event %q, sent body %q", id, got.Body().AsString(), sent.Body().AsString())
	}
	attrs := got.Attributes()
	for k, v := range sent.Attributes().All() {
		g, ok := attrs.Get(k)
		switch {
		case !ok:
			t.Errorf("detection %s: field %s missing from the HEC event", id, k)
		case v.Type() == pcommon.ValueTypeInt:
			if n, err := hecNumber(g); err != nil || n != v.Int() {
				t.Errorf("detection %s: field %s = %s (%s), sent %d", id, k, g.AsString(), g.Type(), v.Int())
			}
		case !g.Equal(v):
			t.Errorf("detection %s: field %s = %s, sent %s", id, k, g.AsString(), v.AsString())
		}
	}
	checkStrAttr(t, id, attrs, "otel.log.name", output.EventName)
	checkStrAttr(t, id, attrs, "otel.log.severity.text", sent.SeverityText())
	res := got.Resource.Attributes()
	checkStrAttr(t, id+" resource", res, "com.splunk.index", "o365")
	checkStrAttr(t, id+" resource", res, "com.splunk.sourcetype", "o365:detection")
	checkStrAttr(t, id+" resource", res, "com.splunk.source", "otelcol-o365")
}

// hecNumber reads a number that crossed HEC. The exporter writes an int
// attribute as a JSON number and the receiver decodes JSON numbers as
// float64, so count and risk_score come back as doubles; a string would mean
// the number was lost.
func hecNumber(v pcommon.Value) (int64, error) {
	switch v.Type() {
	case pcommon.ValueTypeInt:
		return v.Int(), nil
	case pcommon.ValueTypeDouble:
		if f := v.Double(); f == math.Trunc(f) {
			return int64(f), nil
		}
	}
	return 0, fmt.Errorf("is a %s (%s), want a whole number", v.Type(), v.AsString())
}

// postHEC sends one HEC event to B with token and returns the status code.
func postHEC(t testing.TB, port int, token string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, fmt.Sprintf("http://127.0.0.1:%d/services/collector", port),
		strings.NewReader(`{"event":"e2e probe","sourcetype":"o365:detection"}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Splunk "+token)
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("HEC request to B: %v", err)
	}
	_ = resp.Body.Close()
	return resp.StatusCode
}

// exporterRefusal returns the log line in which the splunk_hec exporter
// reports an authentication refusal, or "".
func exporterRefusal(log string) string {
	for line := range strings.SplitSeq(log, "\n") {
		if strings.Contains(line, `"otelcol.component.id": "splunk_hec"`) &&
			(strings.Contains(line, " 401 ") || strings.Contains(line, " 403 ")) {
			return line
		}
	}
	return ""
}

// binaryHasComponent reports whether the distribution was built with a
// component of that type, from `otelcol-o365 components`.
func binaryHasComponent(t testing.TB, typ string) bool {
	t.Helper()
	code, out := runBinary(t, t.TempDir(), nil, "components")
	if code != 0 {
		t.Fatalf("components exited with code %d:\n%s", code, out)
	}
	return strings.Contains(out, "- name: "+typ+"\n")
}
