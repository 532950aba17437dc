package record_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/o365detect/o365detect/internal/record"
	"github.com/o365detect/o365detect/internal/repotest"
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
