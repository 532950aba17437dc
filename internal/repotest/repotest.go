// Package repotest gives tests and benchmarks the repository's own files:
// its root directory and the sample audit records under testdata/.
package repotest // import "github.com/o365detect/o365detect/internal/repotest"

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// moduleLine identifies the repository root's go.mod among the go.mod files
// above a test's directory (bench/ has its own module).
const moduleLine = "module github.com/o365detect/o365detect\n"

// Root returns the repository root: the nearest directory at or above the
// working directory (a test's package directory) whose go.mod declares the
// project's module.
func Root(tb testing.TB) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && bytes.Contains(b, []byte(moduleLine)) {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Fatal("cannot find the repository root (go.mod of github.com/o365detect/o365detect) above the test directory")
		}
		dir = parent
	}
}

// Path returns the path of testdata/dir/name under the repository root.
func Path(tb testing.TB, dir, name string) string {
	tb.Helper()
	return filepath.Join(Root(tb), "testdata", dir, name)
}

// Lines returns the records of the JSON-lines file testdata/dir/name, as
// ReadLines does, failing tb when it cannot.
func Lines(tb testing.TB, dir, name string) []string {
	tb.Helper()
	lines, err := ReadLines(Path(tb, dir, name))
	if err != nil {
		tb.Fatal(err)
	}
	return lines
}

// ReadLines returns the non-empty lines of a JSON-lines file without their
// newlines, which is what the filelog receiver puts in each record's body.
// A file without any is an error: a test fed nothing would prove nothing.
func ReadLines(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if len(sc.Bytes()) > 0 {
			lines = append(lines, sc.Text())
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(lines) == 0 {
		return nil, fmt.Errorf("%s: no records", path)
	}
	return lines, nil
}
