package o365detectprocessor

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/o365detect/o365detect/internal/record"
	"github.com/o365detect/o365detect/internal/rule"
	"github.com/o365detect/o365detect/processor/o365detectprocessor/internal/metadata"
)

// splitSample returns the bundled sample records split by whether they match.
func splitSample(b *testing.B) (all, matching, nonMatching []string) {
	all = readLines(b, "sample.jsonl")
	rd := record.NewReader("Id")
	var rec record.Record
	for _, l := range all {
		if rd.ReadJSON(l, &rec) == record.Decoded && rule.Match(&rec) {
			matching = append(matching, l)
		} else {
			nonMatching = append(nonMatching, l)
		}
	}
	return all, matching, nonMatching
}

// BenchmarkConsumeLogs measures ConsumeLogs on string bodies as filelog
// delivers them, reporting the cost per record. The window never ends during
// the benchmark; the aggregator holds the few groups.
func BenchmarkConsumeLogs(b *testing.B) {
	all, matching, nonMatching := splitSample(b)
	for _, bc := range []struct {
		name  string
		lines []string
	}{
		{"mix", all},
		{"non_matching", nonMatching},
		{"matching", matching},
	} {
		b.Run(bc.name, func(b *testing.B) {
			p, err := newProcessor(processortest.NewNopSettings(metadata.Type), testConfig(), consumertest.NewNop())
			require.NoError(b, err)
			require.NoError(b, p.Start(context.Background(), componenttest.NewNopHost()))
			defer func() { require.NoError(b, p.Shutdown(context.Background())) }()
			ld := logsOf(b, bc.lines, shapeString)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if err := p.ConsumeLogs(ctx, ld); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(bc.lines)), "ns/record")
		})
	}
}
