package bench

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/o365detect/o365detect/internal/repotest"
)

// TestGenerateInput checks that generated records are distinct and keep the
// sample's verdicts.
func TestGenerateInput(t *testing.T) {
	r := loadSample(t)
	tagged, err := TaggedByOurs(r.All)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "in.jsonl")
	m, err := GenerateInput(path, r.All, tagged, 150)
	require.NoError(t, err)
	assert.Equal(t, 8+8+4, m) // 60 + 60 + the first 30 lines
	lines, err := repotest.ReadLines(path)
	require.NoError(t, err)
	require.Len(t, lines, 150)
	seen := map[string]bool{}
	for _, l := range lines {
		assert.False(t, seen[l])
		seen[l] = true
	}
	got, err := TaggedByOurs(lines)
	require.NoError(t, err)
	n := 0
	for _, g := range got {
		if g {
			n++
		}
	}
	assert.Equal(t, m, n)
}

// TestRealisticStream checks the realistic stream: every non-matching line
// in turn and exactly one match, by o365_detect's own verdict.
func TestRealisticStream(t *testing.T) {
	r := loadSample(t)
	lines := r.Realistic(1000)
	require.Len(t, lines, 1000)
	tagged, err := TaggedByOurs(lines)
	require.NoError(t, err)
	var matches []int
	for i, tg := range tagged {
		if tg {
			matches = append(matches, i)
		}
	}
	assert.Equal(t, []int{999}, matches)
	assert.Equal(t, r.NonMatching, lines[:len(r.NonMatching)])
}

// TestCollectorSmoke runs both collector sides on a few thousand records,
// with the collector named by O365DETECT_BIN (default ../bin/otelcol-o365).
func TestCollectorSmoke(t *testing.T) {
	bin := os.Getenv("O365DETECT_BIN")
	if bin == "" {
		bin = filepath.Join("..", "bin", "otelcol-o365")
	}
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("collector binary: %v (run make build first)", err)
	}
	r := loadSample(t)
	c, err := CompareCollector(context.Background(), bin, "mix", r.All, 3000, 1, func(s string) { t.Log(s) })
	require.NoError(t, err)
	assert.Equal(t, 400, c.Matching)
	assert.Greater(t, c.Baseline[0].Wall, time.Duration(0))
}

// TestMarkCounter checks that markers split across reads are counted once.
func TestMarkCounter(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	var content []byte
	for i := 0; i < 1000; i++ {
		content = append(content, []byte(`{"key":"log.file.name"},"key":"security_rule.uuid","eventName":"o365_detect.detection"`)...)
		content = append(content, make([]byte, i%37)...)
	}
	require.NoError(t, os.WriteFile(path, content, 0o644))
	for _, size := range []int{40, 41, 64, 100, 1 << 20} {
		f, err := os.Open(path)
		require.NoError(t, err)
		c := &markCounter{marks: [][]byte{markInput, markRule, markDetection}, buf: make([]byte, size), counts: make([]int, 3)}
		require.NoError(t, c.drain(f))
		f.Close()
		assert.Equal(t, []int{1000, 1000, 1000}, c.counts, "buffer %d", size)
	}
}

// TestPairedLoss pins the estimator: the median of the pairs' losses, not
// the loss between the two sides' medians (which would be 1 - 1/1.1 here).
func TestPairedLoss(t *testing.T) {
	runs := func(walls ...float64) []CollectorRun {
		var rs []CollectorRun
		for _, w := range walls {
			d := time.Duration(w * float64(time.Second))
			rs = append(rs, CollectorRun{Wall: d, CPU: 2 * d})
		}
		return rs
	}
	c := &CollectorComparison{Baseline: runs(1, 2, 1), Ours: runs(1.1, 2, 1.05)}
	assert.InDelta(t, 1-1/1.05, c.Loss(), 1e-9)
	assert.InDelta(t, 1-1/1.05, c.CPULoss(), 1e-9)
	c = &CollectorComparison{Baseline: runs(1, 1), Ours: runs(1.25, 1.5)}
	assert.InDelta(t, (0.2+1-1/1.5)/2, c.Loss(), 1e-9, "an even count averages the middle two")
}
