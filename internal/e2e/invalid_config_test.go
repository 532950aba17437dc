package e2e

import (
	"path/filepath"
	"strings"
	"testing"
)

// A pipeline that binds no port, so a run that wrongly accepts the config
// cannot collide with anything before it is stopped.
const invalidProcessorConfig = `
receivers:
  file_log:
    include: [{{.Input}}]
processors:
  o365_detect:
    {{.Setting}}
exporters:
  debug:
service:` + telemetryOff + `
  pipelines:
    logs:
      receivers: [file_log]
      processors: [o365_detect]
      exporters: [debug]
`

// TestInvalidProcessorConfigRejected checks that an operator who mistypes an
// o365_detect setting is stopped at startup with a message naming the field,
// both by `validate` (CI) and by a real run (the collector must not start
// with a window or score it cannot honour).
func TestInvalidProcessorConfigRejected(t *testing.T) {
	t.Parallel()
	settings := []struct {
		name    string
		setting string
		field   string
	}{
		{name: "zero window", setting: "window: 0s", field: "window"},
		{name: "unknown passthrough", setting: "passthrough: bogus", field: "passthrough"},
		{name: "risk score above 100", setting: "risk_score: 500", field: "risk_score"},
	}
	modes := []struct {
		name string
		args func(config string) []string
	}{
		{name: "validate", args: func(c string) []string { return []string{"validate", "--config", c} }},
		{name: "run", args: func(c string) []string { return []string{"--config", c} }},
	}
	for _, s := range settings {
		for _, m := range modes {
			t.Run(s.name+"/"+m.name, func(t *testing.T) {
				t.Parallel()
				dir := t.TempDir()
				cfg := writeConfig(t, dir, "collector", invalidProcessorConfig, map[string]any{
					"Input": filepath.Join(dir, "none.jsonl"), "Setting": s.setting,
				})
				code, out := runBinary(t, dir, nil, m.args(cfg)...)
				if code == 0 {
					t.Errorf("exit code 0 with %q, want non-zero", s.setting)
				}
				// The processor prefixes each error with the field's key; the
				// collector prefixes it with the component.
				if !strings.Contains(out, "o365_detect") || !strings.Contains(out, s.field+":") {
					t.Errorf("output does not name o365_detect and %s:\n%s", s.field, out)
				}
			})
		}
	}
}
