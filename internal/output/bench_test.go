package output_test

import (
	"testing"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/o365detect/o365detect/internal/output"
	"github.com/o365detect/o365detect/internal/rule"
)

// BenchmarkTag measures tagging one record, each profile on a fresh copy of
// a record with one attribute of its own.
func BenchmarkTag(b *testing.B) {
	m := output.Match{Rule: rule.ESCU, Row: fullRow, Partner: partner1, EventTime: first}
	benchProfiles(b, func(p output.Profile) {
		attrs := pcommon.NewMap()
		attrs.PutStr("log.file.name", "audit.jsonl")
		p.Tag(attrs, m)
	})
}

// BenchmarkDetection measures writing one group's detection record.
func BenchmarkDetection(b *testing.B) {
	g := group(fullRow, []string{partner1, partner2})
	benchProfiles(b, func(p output.Profile) {
		p.Detection(plog.NewLogRecord(), g)
	})
}

func benchProfiles(b *testing.B, op func(output.Profile)) {
	for _, name := range output.Profiles {
		b.Run(name, func(b *testing.B) {
			p, err := output.New(name, testOptions())
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				op(p)
			}
		})
	}
}
