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

func sampleLines(b *testing.B) (nonMatching, matching []string) {
	for _, l := range repotest.Lines(b, "o365", "sample.jsonl") {
		if strings.Contains(strings.ToLower(l), `"operation":"add a partner to cross-tenant access setting."`) ||
			strings.Contains(strings.ToLower(l), `"operation":"delete partner specific cross-tenant access setting."`) {
			matching = append(matching, l)
		} else {
			nonMatching = append(nonMatching, l)
		}
	}
	return nonMatching, matching
}

func perRecord(b *testing.B, n int) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/record")
}

// BenchmarkReadJSON is the reader's cost per record; non-matching records
// stop at the prefilter.
func BenchmarkReadJSON(b *testing.B) {
	nonMatching, matching := sampleLines(b)
	rd := record.NewReader("Id")
	for name, lines := range map[string][]string{"non_matching": nonMatching, "matching": matching} {
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
// strings.Index scan of each body for the operations' common suffix.
func BenchmarkIndexBaseline(b *testing.B) {
	nonMatching, _ := sampleLines(b)
	n := 0
	b.ReportAllocs()
	for b.Loop() {
		for _, l := range nonMatching {
			if strings.Index(l, "cross-tenant access setting.") >= 0 {
				n++
			}
		}
	}
	perRecord(b, len(nonMatching))
}

// BenchmarkEncodingJSON is a full encoding/json decode of each body.
func BenchmarkEncodingJSON(b *testing.B) {
	nonMatching, _ := sampleLines(b)
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
// format: azure records that are no cross-tenant change (other AuditLogs,
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
// messages' records that are no cross-tenant change.
func azureNonMatching(b *testing.B) plog.LogRecordSlice {
	out := plog.NewLogRecordSlice()
	for _, name := range []string{"eventhub.jsonl", "eventhub_other.jsonl"} {
		for _, msg := range repotest.Lines(b, "entra", name) {
			ld, err := recordtest.FormatAzure([]byte(msg))
			if err != nil {
				b.Fatal(err)
			}
			for _, rl := range ld.ResourceLogs().All() {
				for _, sl := range rl.ScopeLogs().All() {
					for _, lr := range sl.LogRecords().All() {
						op, _ := lr.Attributes().Get("azure.operation.name")
						if !record.EqualFoldASCII(op.Str(), rule.EntraActivityAdd) && !record.EqualFoldASCII(op.Str(), rule.EntraActivityDelete) {
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
func attributeRecords(b *testing.B) plog.LogRecordSlice {
	nonMatching, _ := sampleLines(b)
	out := plog.NewLogRecordSlice()
	for _, l := range nonMatching {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			b.Fatal(err)
		}
		lr := out.AppendEmpty()
		if err := lr.Attributes().FromRaw(m); err != nil {
			b.Fatal(err)
		}
		lr.Attributes().PutStr("log.file.name", "audit.jsonl")
	}
	return out
}
