package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/o365detect/o365detect/internal/repotest"
)

// envRef matches ${env:NAME}, ${NAME} and their ":-default" forms, the
// references the collector's env provider resolves.
var envRef = regexp.MustCompile(`\$\{(?:env:)?([A-Za-z_][A-Za-z0-9_]*)(?::-[^}]*)?\}`)

// contribSuffix marks an example config for another distribution
// (otelcol-contrib), with a component otelcol-o365 lacks;
// TestContribConfigsValidate checks those.
const contribSuffix = "-contrib.yaml"

// TestShippedConfigsValidate runs `validate` on every example config in
// config/, so a new example is covered as soon as it is added. Environment
// references get placeholders: the examples must be valid as written, not
// only on the author's machine.
func TestShippedConfigsValidate(t *testing.T) {
	t.Parallel()
	root := repotest.Root(t)
	files, err := filepath.Glob(filepath.Join(root, "config", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no config/*.yaml found")
	}
	for _, file := range files {
		if strings.HasSuffix(file, contribSuffix) {
			continue
		}
		t.Run(filepath.Base(file), func(t *testing.T) {
			t.Parallel()
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			env := placeholderEnv(string(b))
			// From the repository root, as `make run` runs the examples.
			code, out := runBinary(t, root, env, "validate", "--config", file)
			if code != 0 {
				t.Errorf("validate --config %s exited with code %d (placeholder env: %v):\n%s",
					filepath.Base(file), code, env, out)
			}
		})
	}
}

// placeholderEnv returns NAME=value for every environment reference in a
// config. The value is shaped after the name so that fields which check
// their format (endpoints, ports) still accept it.
func placeholderEnv(config string) []string {
	names := map[string]bool{}
	for _, m := range envRef.FindAllStringSubmatch(config, -1) {
		names[m[1]] = true
	}
	env := make([]string, 0, len(names))
	for name := range names {
		env = append(env, name+"="+placeholder(name))
	}
	sort.Strings(env)
	return env
}

func placeholder(name string) string {
	n := strings.ToUpper(name)
	switch {
	case strings.HasSuffix(n, "_PORT"):
		return "8088"
	case strings.Contains(n, "ENDPOINT"), strings.Contains(n, "URL"), strings.Contains(n, "URI"):
		return "https://placeholder.invalid:8088"
	case strings.HasSuffix(n, "_HOST"):
		return "placeholder.invalid"
	case strings.HasSuffix(n, "_ID"):
		// Tenant and client ids are GUIDs.
		return "00000000-0000-4000-8000-000000000000"
	default:
		return "placeholder"
	}
}
