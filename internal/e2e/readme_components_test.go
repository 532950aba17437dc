package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/o365detect/o365detect/internal/repotest"
)

// componentKinds are the sections of `otelcol-o365 components` that the
// README's component table has a row for.
var componentKinds = []string{"receivers", "processors", "exporters", "extensions", "connectors"}

// backticked finds the `names` in a table cell.
var backticked = regexp.MustCompile("`([^`]+)`")

// TestREADMEListsTheComponents checks that the README's component table
// names exactly what the built distribution carries, so that neither a
// component added to builder-config.yaml nor one dropped from it goes
// unmentioned.
func TestREADMEListsTheComponents(t *testing.T) {
	t.Parallel()
	code, out := runBinary(t, t.TempDir(), nil, "components")
	if code != 0 {
		t.Fatalf("components exited with code %d:\n%s", code, out)
	}
	built, err := parseConfig([]byte(out))
	if err != nil {
		t.Fatalf("components output is not YAML: %v\n%s", err, out)
	}
	readme, err := os.ReadFile(filepath.Join(repotest.Root(t), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	listed := readmeComponents(string(readme))
	for _, kind := range componentKinds {
		var have []string
		entries, _ := built[kind].([]any)
		for _, e := range entries {
			m, _ := e.(map[string]any)
			if name, _ := m["name"].(string); name != "" {
				have = append(have, name)
			}
		}
		slices.Sort(have)
		want := listed[kind]
		slices.Sort(want)
		if !slices.Equal(have, want) {
			t.Errorf("%s: the distribution has %v, the README's component table lists %v", kind, have, want)
		}
	}
}

// readmeComponents reads the table rows "| kind | `a`, `b` |".
func readmeComponents(readme string) map[string][]string {
	out := map[string][]string{}
	for line := range strings.SplitSeq(readme, "\n") {
		cells := strings.Split(strings.TrimSpace(line), "|")
		if len(cells) != 4 {
			continue
		}
		kind := strings.TrimSpace(cells[1])
		if !slices.Contains(componentKinds, kind) {
			continue
		}
		for _, m := range backticked.FindAllStringSubmatch(cells[2], -1) {
			out[kind] = append(out[kind], m[1])
		}
	}
	return out
}
