package o365detectprocessor

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/o365detect/o365detect/internal/record"
	"github.com/o365detect/o365detect/internal/record/recordtest"
	"github.com/o365detect/o365detect/internal/repotest"
	"github.com/o365detect/o365detect/internal/rule"
	"github.com/o365detect/o365detect/processor/o365detectprocessor/internal/metadata"
)

// splitSample returns the bundled sample records, those ESCU's rule
// matches, and those no rule can match (no cross-tenant operation, the
// bulk of a real stream). The near misses, cross-tenant operations no rule
// reports, are in all only: the prefilters let them through to be read.
func splitSample(b *testing.B) (all, matching, nonMatching []string) {
	all = readLines(b, "sample.jsonl")
	rd := record.NewReader("Id")
	var rec record.Record
	for _, l := range all {
		switch {
		case rd.ReadJSON(l, &rec) == record.Decoded && rule.Match(&rec):
			matching = append(matching, l)
		case !strings.Contains(strings.ToLower(l), "cross-tenant"):
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

// BenchmarkConsumeLogsEventHub measures ConsumeLogs on the records the Event
// Hub receiver delivers with its default format: azure (an empty body and
// azure.* attributes) that are no cross-tenant change: other AuditLogs and
// SignInLogs. They must cost no more than a record whose attributes name no
// Azure field, measured beside them: the Management Activity sample's
// non-matching records parsed into attributes.
func BenchmarkConsumeLogsEventHub(b *testing.B) {
	for _, bc := range []struct {
		name string
		ld   plog.Logs
	}{
		{"azure_non_matching", azureNonMatchingLogs(b)},
		{"attributes_non_matching", attributeLogs(b)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			p, err := newProcessor(processortest.NewNopSettings(metadata.Type), testConfig(), consumertest.NewNop())
			require.NoError(b, err)
			require.NoError(b, p.Start(context.Background(), componenttest.NewNopHost()))
			defer func() { require.NoError(b, p.Shutdown(context.Background())) }()
			ctx := context.Background()
			n := bc.ld.LogRecordCount()
			b.ReportAllocs()
			for b.Loop() {
				if err := p.ConsumeLogs(ctx, bc.ld); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/record")
		})
	}
}

// azureNonMatchingLogs is one batch of the format: azure records of the
// Entra test messages that hold no cross-tenant operation.
func azureNonMatchingLogs(b *testing.B) plog.Logs {
	out := plog.NewLogs()
	for _, name := range []string{"eventhub.jsonl", "eventhub_other.jsonl"} {
		for _, msg := range repotest.Lines(b, "entra", name) {
			ld, err := recordtest.FormatAzure([]byte(msg))
			require.NoError(b, err)
			ld.ResourceLogs().MoveAndAppendTo(out.ResourceLogs())
		}
	}
	for _, rl := range out.ResourceLogs().All() {
		for _, sl := range rl.ScopeLogs().All() {
			sl.LogRecords().RemoveIf(func(lr plog.LogRecord) bool {
				op, _ := lr.Attributes().Get("azure.operation.name")
				return strings.Contains(strings.ToLower(op.Str()), "cross-tenant")
			})
		}
	}
	return out
}

// attributeLogs is the non-matching sample records in the attributes shape.
func attributeLogs(b *testing.B) plog.Logs {
	_, _, nonMatching := splitSample(b)
	return logsOf(b, nonMatching, shapeAttributes)
}
