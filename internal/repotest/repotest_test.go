package repotest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLinesReadsEveryRecord(t *testing.T) {
	lines := Lines(t, "o365", "sample.jsonl")
	require.Len(t, lines, 60)
	for _, l := range lines {
		assert.True(t, strings.HasPrefix(l, "{") && strings.HasSuffix(l, "}"), "a whole record without its newline: %.40q", l)
	}
}

func TestReadLines(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
		return p
	}

	lines, err := ReadLines(write("crlf-and-blank.jsonl", "{\"a\":1}\r\n\n{\"b\":2}"))
	require.NoError(t, err)
	assert.Equal(t, []string{`{"a":1}`, `{"b":2}`}, lines, "blank lines skipped, CR LF and a missing last newline handled")

	_, err = ReadLines(write("empty.jsonl", "\n\n"))
	assert.ErrorContains(t, err, "no records")

	_, err = ReadLines(write("long.jsonl", strings.Repeat("x", 2<<20)))
	assert.Error(t, err, "a line over the 1 MiB limit is an error, not a silent stop")

	_, err = ReadLines(filepath.Join(dir, "missing.jsonl"))
	assert.ErrorIs(t, err, os.ErrNotExist)
}
