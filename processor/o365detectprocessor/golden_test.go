package o365detectprocessor

import (
	"context"
	"flag"
	"path/filepath"
	"testing"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/golden"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/pdatatest/plogtest"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// TestGolden runs the bundled sample records through the processor in each
// input shape. Every shape must give the tagged records and detection records
// in testdata/golden (written once with -update and reviewed against
// testdata/o365/expected.jsonl).
func TestGolden(t *testing.T) {
	lines := readLines(t, "sample.jsonl")
	for _, sh := range shapes {
		t.Run(string(sh), func(t *testing.T) {
			h := newHarness(t, testConfig())
			require.NoError(t, h.p.ConsumeLogs(context.Background(), logsOf(t, lines, sh)))
			h.endWindow()
			all := h.sink.AllLogs()
			require.Len(t, all, 2, "one pass-through batch, one detection batch")

			// The detections do not depend on the input shape.
			compareGolden(t, filepath.Join("testdata", "golden", "sample_detections.yaml"), all[1], sh == shapeString)
			if sh == shapeString {
				compareGolden(t, filepath.Join("testdata", "golden", "sample_tagged.yaml"), all[0], true)
			}
		})
	}
}

func compareGolden(t *testing.T, path string, actual plog.Logs, mayWrite bool) {
	t.Helper()
	if *update && mayWrite {
		require.NoError(t, golden.WriteLogs(t, path, actual))
	}
	expected, err := golden.ReadLogs(path)
	require.NoError(t, err)
	require.NoError(t, plogtest.CompareLogs(expected, actual))
}
