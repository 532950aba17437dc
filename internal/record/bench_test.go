package record_test

import (
	"encoding/json"
	"strings"
	"testing"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/o365detect/o365detect/internal/record"
	"github.com/o365detect/o365detect/internal/record/recordtest"
	"github.com/o365detect/o365detect/internal/repotest"
	"github.com/o365detect/o365detect/internal/rule"
)

// splitSample splits the Management Activity sample records into those no
// rule can match, the candidates (the AzureActiveDirectory records of a
// cross-tenant operation, which the prefilter passes), and the candidates
// ESCU's rule matches.
func splitSample(tb testing.TB) (nonMatching, candidates, matching []string) {
	for _, l := range repotest.Lines(tb, "o365", "sample.jsonl") {
		rec, ok := recordtest.Read(l, "Id")
		switch {
		case !ok || !isCandidate(rec):
			nonMatching = append(nonMatching, l)
		case rule.Match(&rec):
			matching = append(matching, l)
			candidates = append(candidates, l)
		default:
			candidates = append(candidates, l)
		}
	}
	return nonMatching, candidates, matching
}

func perRecord(b *testing.B, n int) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/record")
}

// BenchmarkReadJSON is the reader's cost per record; non-matching records
// stop at the prefilter, and the candidates of any rule, ESCU's matches
// among them, are read in full.
func BenchmarkReadJSON(b *testing.B) {
	nonMatching, candidates, matching := splitSample(b)
	rd := record.NewReader("Id")
	for name, lines := range map[string][]string{"non_matching": nonMatching, "candidates": candidates, "matching": matching} {
		b.Run(name, func(b *testing.B) {
			var rec record.Record
			b.ReportAllocs()
			for b.Loop() {
				for _, l := range lines {
					rd.ReadJSON(l, &rec)
				}
			}
			perRecord(b, len(lines))
		})
	}
}

// BenchmarkIndexBaseline is the physical floor: one case-sensitive
// strings.Index scan of each body for what the operations share.
func BenchmarkIndexBaseline(b *testing.B) {
	nonMatching, _, _ := splitSample(b)
	n := 0
	b.ReportAllocs()
	for b.Loop() {
		for _, l := range nonMatching {
			if strings.Index(l, "cross-tenant") >= 0 {
				n++
			}
		}
	}
	perRecord(b, len(nonMatching))
}

// BenchmarkEncodingJSON is a full encoding/json decode of each body.
func BenchmarkEncodingJSON(b *testing.B) {
	nonMatching, _, _ := splitSample(b)
	b.ReportAllocs()
	for b.Loop() {
		for _, l := range nonMatching {
			var m map[string]any
			if err := json.Unmarshal([]byte(l), &m); err != nil {
				b.Fatal(err)
			}
		}
	}
	perRecord(b, len(nonMatching))
}

// BenchmarkReadEntraMaps is ReadEntra's cost on log records whose body is
// not a record, so that the attributes are read: the Event Hub receiver's
// format: azure records of no cross-tenant activity (other AuditLogs,
// SignInLogs), and Management Activity records parsed into attributes,
// which carry no Azure attribute at all.
func BenchmarkReadEntraMaps(b *testing.B) {
	for _, bc := range []struct {
		name string
		lrs  plog.LogRecordSlice
	}{
		{"azure_non_matching", azureNonMatching(b)},
		{"attributes_non_matching", attributeRecords(b)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			rd := record.NewReader("Id")
			res := pcommon.NewResource()
			var out []record.EntraRecord
			b.ReportAllocs()
			for b.Loop() {
				for _, lr := range bc.lrs.All() {
					out, _ = rd.ReadEntra(lr, res, out[:0], true)
				}
			}
			perRecord(b, bc.lrs.Len())
		})
	}
}

// azureNonMatching returns the format: azure log records of the test
// messages' records of no cross-tenant activity.
func azureNonMatching(tb testing.TB) plog.LogRecordSlice {
	out := plog.NewLogRecordSlice()
	for _, name := range []string{"eventhub.jsonl", "eventhub_other.jsonl"} {
		for _, msg := range repotest.Lines(tb, "entra", name) {
			ld, err := recordtest.FormatAzure([]byte(msg))
			if err != nil {
				tb.Fatal(err)
			}
			for _, rl := range ld.ResourceLogs().All() {
				for _, sl := range rl.ScopeLogs().All() {
					for _, lr := range sl.LogRecords().All() {
						op, _ := lr.Attributes().Get("azure.operation.name")
						if !hasCrossTenant(op.Str()) {
							lr.CopyTo(out.AppendEmpty())
						}
					}
				}
			}
		}
	}
	return out
}

// attributeRecords returns the non-matching Management Activity sample
// records as filelog's json_parser leaves them by default: in the
// attributes, beside log.file.name, with an empty body.
func attributeRecords(tb testing.TB) plog.LogRecordSlice {
	nonMatching, _, _ := splitSample(tb)
	out := plog.NewLogRecordSlice()
	for _, l := range nonMatching {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			tb.Fatal(err)
		}
		lr := out.AppendEmpty()
		if err := lr.Attributes().FromRaw(m); err != nil {
			tb.Fatal(err)
		}
		lr.Attributes().PutStr("log.file.name", "audit.jsonl")
	}
	return out
}
