package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/o365detect/o365detect/internal/repotest"
)

// storeCase is one example config run against VictoriaLogs as written, but
// for its endpoint.
type storeCase struct {
	config string
	// endpointEnv is the config's environment variable for the backend's
	// URL; endpoint gives VictoriaLogs' intake for it.
	endpointEnv string
	endpoint    func(*victoriaLogs) string
	// hec: the config exports through splunk_hec, else otlp_http.
	hec bool
	// check reads the profile's fields back from the store.
	check profileCheck
	// dropped reports the input lines the config is meant to drop.
	dropped func(line string) bool
}

var storeCases = []storeCase{
	{config: "loki.yaml", endpointEnv: "LOKI_ENDPOINT", endpoint: (*victoriaLogs).otlpEndpoint, check: escuCheck},
	{config: "elastic.yaml", endpointEnv: "ELASTIC_ENDPOINT", endpoint: (*victoriaLogs).otlpEndpoint, check: ecsCheck},
	{config: "splunk-hec.yaml", endpointEnv: "SPLUNK_HEC_ENDPOINT", endpoint: (*victoriaLogs).hecEndpoint, hec: true, check: splunkCheck},
	{config: "drop-noise.yaml", endpointEnv: "SIEM_OTLP_ENDPOINT", endpoint: (*victoriaLogs).otlpEndpoint, check: escuCheck, dropped: isNoise},
}

// auditGlob is where the test writes audit files; the configs read
// ${env:O365_AUDIT_LOG}.
const auditGlob = "audit/*.jsonl"

// TestShippedConfigsDeliverToVictoriaLogs runs the example configs for
// Loki, Elastic and Splunk HEC, and the edge filter, on the sample records
// against a real log store, and reads back what it kept: every record the
// collector sent, field by field as the store keeps it; every input record
// once (none twice after a restart, none of a file's lines written before
// the collector started, as start_at: end means); the tagged rows; every
// detection row with its count and times; and, over HEC, where the events
// landed.
func TestShippedConfigsDeliverToVictoriaLogs(t *testing.T) {
	t.Parallel()
	for _, sc := range storeCases {
		t.Run(sc.config, func(t *testing.T) {
			t.Parallel()
			runStoreCase(t, sc)
		})
	}
}

func runStoreCase(t *testing.T, sc storeCase) {
	dir := t.TempDir()
	vl := startVictoriaLogs(t)
	raw, conf := readShippedConfig(t, sc.config)

	auditDir := filepath.Join(dir, filepath.Dir(auditGlob))
	if err := os.Mkdir(auditDir, 0o700); err != nil {
		t.Fatal(err)
	}
	// Already there when the collector starts: start_at: end must skip it.
	before := filepath.Join(auditDir, "0-before.jsonl")
	writeFile(t, before, `{"Workload":"Exchange","Operation":"MailItemsAccessed","Id":"written-before-start"}`+"\n")

	env := append(placeholderEnv(raw),
		"O365_AUDIT_LOG="+filepath.Join(dir, auditGlob),
		sc.endpointEnv+"="+sc.endpoint(vl))

	ref1 := filepath.Join(dir, "reference-1.jsonl")
	c1 := startTapped(t, dir, "run-1", conf, ref1, env)
	waitFor(t, "file_log to watch "+filepath.Base(before), func() bool {
		return watching(c1.output.String(), filepath.Base(before))
	}, c1)
	// Renamed into place, so that file_log never sees half of it.
	tmp := filepath.Join(dir, "sample.jsonl")
	copyFile(t, testdataPath(t, "sample.jsonl"), tmp)
	if err := os.Rename(tmp, filepath.Join(auditDir, "1-sample.jsonl")); err != nil {
		t.Fatal(err)
	}
	wantInputs := keptLines(t, sc.dropped)
	waitStored(t, vl, len(wantInputs), "the input records", c1)
	if code := c1.terminate(t); code != 0 {
		t.Fatalf("run 1 exited with code %d after SIGTERM, want 0", code)
	}
	sent := readOutput(t, ref1)

	// A restart must deliver what a persistent queue kept and read nothing
	// again.
	ref2 := filepath.Join(dir, "reference-2.jsonl")
	c2 := startTapped(t, dir, "run-2", conf, ref2, env)
	waitStored(t, vl, len(sent), "every record run 1 sent", c2)
	if code := c2.terminate(t); code != 0 {
		t.Fatalf("run 2 exited with code %d after SIGTERM, want 0", code)
	}
	sent = append(sent, readOutput(t, ref2)...)
	stored := vl.all(t)

	t.Run("stored as sent", func(t *testing.T) {
		if sc.hec {
			meta := hecSettings(t, conf)
			checkStoredAsSent(t, stored, sent, func(r outRecord) expectedEntry { return asHECEntry(r, meta) }, hecTimeSlack)
		} else {
			checkStoredAsSent(t, stored, sent, asOTLPEntry, 0)
		}
	})
	view := storedView{hec: sc.hec}
	detections, inputs := view.split(stored)
	t.Run("input records stored once", func(t *testing.T) {
		checkInputsOnce(t, inputs, wantInputs)
	})
	t.Run("tagged rows", func(t *testing.T) {
		checkTaggedRows(t, view, inputs, sc.check)
	})
	t.Run("detection rows", func(t *testing.T) {
		sc.check.detections(t, view, detections, expectedGroups(t, "sample.jsonl"))
	})
	if sc.hec {
		t.Run("HEC index, source and sourcetype", func(t *testing.T) {
			checkHECPlacement(t, hecSettings(t, conf), detections, inputs)
		})
	}
}

// readShippedConfig returns config/name as text and as a map.
func readShippedConfig(t *testing.T, name string) (string, map[string]any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repotest.Root(t), "config", name))
	if err != nil {
		t.Fatal(err)
	}
	conf, err := parseConfig(b)
	if err != nil {
		t.Fatalf("%s is not a collector config: %v", name, err)
	}
	return string(b), conf
}

// startTapped runs a copy of conf with three additions that change nothing
// it delivers: a file exporter beside each logs pipeline's exporters, as
// the reference of what was sent; a health_check to tell when it is up; and
// no internal telemetry, whose port parallel collectors would share.
func startTapped(t *testing.T, dir, name string, conf map[string]any, reference string, env []string) *collector {
	t.Helper()
	c, _ := startListening(t, name, 1, func(ports []int) string {
		tapped := tap(t, conf, reference, ports[0])
		out, err := json.MarshalIndent(tapped, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		// JSON is YAML, so the collector reads the copy as written.
		path := filepath.Join(dir, name+".yaml")
		writeFile(t, path, string(out))
		return path
	}, env...)
	return c
}

func tap(t *testing.T, conf map[string]any, reference string, healthPort int) map[string]any {
	t.Helper()
	// A deep copy through JSON: each run gets its own.
	b, err := json.Marshal(conf)
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	section := func(m map[string]any, key string) map[string]any {
		s, _ := m[key].(map[string]any)
		if s == nil {
			s = map[string]any{}
			m[key] = s
		}
		return s
	}
	const tapID, healthID = "file/reference", "health_check"
	section(c, "exporters")[tapID] = map[string]any{"path": reference, "flush_interval": "100ms"}
	section(c, "extensions")[healthID] = map[string]any{"endpoint": fmt.Sprintf("127.0.0.1:%d", healthPort)}
	service := section(c, "service")
	exts, _ := service["extensions"].([]any)
	service["extensions"] = append(exts, healthID)
	section(section(service, "telemetry"), "metrics")["level"] = "none"
	tapped := 0
	for id, p := range section(service, "pipelines") {
		if id != "logs" && !strings.HasPrefix(id, "logs/") {
			continue
		}
		pm, _ := p.(map[string]any)
		exps, _ := pm["exporters"].([]any)
		pm["exporters"] = append(exps, tapID)
		tapped++
	}
	if tapped == 0 {
		t.Fatal("the config has no logs pipeline")
	}
	return c
}

// watching reports whether file_log logged that it found file: its first
// poll, after which a new file is read from its first line.
func watching(log, file string) bool {
	for line := range strings.SplitSeq(log, "\n") {
		if strings.Contains(line, "Started watching file") && strings.Contains(line, file) {
			return true
		}
	}
	return false
}

// waitStored polls the store until it holds at least n entries.
func waitStored(t *testing.T, vl *victoriaLogs, n int, what string, watch ...*collector) {
	t.Helper()
	got := 0
	waitFor(t, fmt.Sprintf("VictoriaLogs to hold %s (%d entries)", what, n), func() bool {
		vl.flush(t)
		got = len(vl.query(t, "*"))
		return got >= n
	}, watch...)
}

// keptLines are the sample's lines the config should forward: all, or all
// but those it is meant to drop.
func keptLines(t *testing.T, dropped func(string) bool) []string {
	t.Helper()
	var kept []string
	for _, l := range readLines(t, "sample.jsonl") {
		if dropped == nil || !dropped(l) {
			kept = append(kept, l)
		}
	}
	return kept
}

// hecSettings are the index, source and sourcetype of the config's
// splunk_hec exporter.
func hecSettings(t *testing.T, conf map[string]any) hecMeta {
	t.Helper()
	exps, _ := conf["exporters"].(map[string]any)
	for id, e := range exps {
		if typ, _, _ := strings.Cut(id, "/"); typ != "splunk_hec" {
			continue
		}
		m, _ := e.(map[string]any)
		s := func(k string) string { v, _ := m[k].(string); return v }
		return hecMeta{Index: s("index"), Source: s("source"), Sourcetype: s("sourcetype")}
	}
	t.Fatal("the config has no splunk_hec exporter")
	return hecMeta{}
}

func writeFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}
