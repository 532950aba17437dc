package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"go.opentelemetry.io/collector/confmap"

	"github.com/o365detect/o365detect/internal/repotest"
)

// contribReceivers are the receivers of the contrib examples that
// otelcol-o365 lacks, with the settings each has at v0.158.0, the release
// every module here is pinned to. The receiver cannot be built here, so its
// settings are checked against this list instead of its own config.
var contribReceivers = map[string][]string{
	"azure_event_hub": {"connection", "format", "group", "partition", "offset", "storage", "apply_semantic_conventions", "time_formats"},
}

// eventHubFormats are the azure_event_hub formats o365_detect reads.
var eventHubFormats = []string{"azure", "raw"}

// TestContribConfigsValidate checks the example configs for otelcol-contrib
// as far as otelcol-o365 can: each is YAML; its contrib-only receivers use
// only settings they have, and the storage they name is configured; and
// with each of them swapped for an otlp receiver, the rest (processors,
// exporters, extensions, pipelines) passes `validate`. The file as written
// must still be rejected: once otelcol-o365 has the receiver, the file
// belongs in TestShippedConfigsValidate instead.
func TestContribConfigsValidate(t *testing.T) {
	t.Parallel()
	root := repotest.Root(t)
	files, err := filepath.Glob(filepath.Join(root, "config", "*"+contribSuffix))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no config/*%s found", contribSuffix)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			t.Parallel()
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			conf, err := parseConfig(b)
			if err != nil {
				t.Fatalf("%s is not a collector config: %v", filepath.Base(file), err)
			}
			swapped := checkContribReceivers(t, conf)
			if len(swapped) == 0 {
				t.Fatalf("%s has no receiver otelcol-o365 lacks; validate it in TestShippedConfigsValidate", filepath.Base(file))
			}

			// Rejected for the receiver it lacks, and for nothing else.
			code, msg := runBinary(t, root, placeholderEnv(string(b)), "validate", "--config", file)
			if code == 0 {
				t.Errorf("otelcol-o365 validates %s as written: it now has %v, so drop the %s suffix", filepath.Base(file), swapped, contribSuffix)
			} else if !slices.ContainsFunc(swapped, func(id string) bool {
				typ, _, _ := strings.Cut(id, "/")
				return strings.Contains(msg, fmt.Sprintf("unknown type: %q", typ))
			}) {
				t.Errorf("otelcol-o365 rejects %s for another reason than a receiver it lacks:\n%s", filepath.Base(file), msg)
			}

			out, err := json.MarshalIndent(conf, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			// JSON is YAML, so the collector reads the copy as written.
			copyPath := filepath.Join(t.TempDir(), filepath.Base(file))
			if err := os.WriteFile(copyPath, out, 0o600); err != nil {
				t.Fatal(err)
			}
			env := placeholderEnv(string(out))
			if code, msg := runBinary(t, root, env, "validate", "--config", copyPath); code != 0 {
				t.Errorf("with %v swapped for otlp, validate exited with code %d (placeholder env: %v):\n%s\nconfig:\n%s",
					swapped, code, env, msg, out)
			}
		})
	}
}

func parseConfig(b []byte) (map[string]any, error) {
	r, err := confmap.NewRetrievedFromYAML(b)
	if err != nil {
		return nil, err
	}
	raw, err := r.AsRaw()
	if err != nil {
		return nil, err
	}
	conf, ok := raw.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("top level is a %T, not a map", raw)
	}
	return conf, nil
}

// checkContribReceivers checks the settings of each contrib-only receiver
// in conf, then replaces it, in the receivers and in every pipeline, with an
// otlp receiver of the same name. It returns the ids it replaced.
func checkContribReceivers(t *testing.T, conf map[string]any) []string {
	t.Helper()
	receivers, _ := conf["receivers"].(map[string]any)
	service, _ := conf["service"].(map[string]any)
	extensions, _ := service["extensions"].([]any)
	var swapped []string
	for id, settings := range receivers {
		typ, name, _ := strings.Cut(id, "/")
		known, ok := contribReceivers[typ]
		if !ok {
			continue
		}
		m, _ := settings.(map[string]any)
		for key, v := range m {
			if !slices.Contains(known, key) {
				t.Errorf("receiver %s: %q is not a setting of %s at v0.158.0 (it has %v)", id, key, typ, known)
			}
			switch key {
			case "format":
				if f, _ := v.(string); !slices.Contains(eventHubFormats, f) {
					t.Errorf("receiver %s: format %v; o365_detect reads %v", id, v, eventHubFormats)
				}
			case "storage":
				if !slices.Contains(extensions, v) {
					t.Errorf("receiver %s: storage %v is not among the service's extensions %v", id, v, extensions)
				}
			}
		}
		otlpID := "otlp"
		if name != "" {
			otlpID += "/" + name
		}
		delete(receivers, id)
		receivers[otlpID] = map[string]any{"protocols": map[string]any{"grpc": nil}}
		pipelines, _ := service["pipelines"].(map[string]any)
		for _, p := range pipelines {
			pm, _ := p.(map[string]any)
			rs, _ := pm["receivers"].([]any)
			for i, r := range rs {
				if r == id {
					rs[i] = otlpID
				}
			}
		}
		swapped = append(swapped, id)
	}
	sort.Strings(swapped)
	return swapped
}
