package checkpoint

import (
	"context"
	"testing"

	"go.opentelemetry.io/collector/extension/xextension/storage"
)

// BenchmarkClaimCommit measures one batch of 100 new GUIDs through Claim
// and Commit, memory only and with an in-memory storage client, at a
// steady state where MaxIDs evicts as much as each batch adds.
func BenchmarkClaimCommit(b *testing.B) {
	const batch = 100
	for name, client := range map[string]storage.Client{"memory": nil, "storage": newMem()} {
		b.Run(name, func(b *testing.B) {
			cfg := testConfig(newClock())
			cfg.MaxIDs = 100_000
			s, _ := open(b, client, cfg)
			// Ten times MaxIDs, so that an Id comes round again only once
			// it has been evicted.
			pool := guids(0, 10*cfg.MaxIDs)
			var fresh []bool
			n := 0
			b.ReportAllocs()
			for b.Loop() {
				start := n % len(pool)
				ids := pool[start : start+batch]
				n += batch
				fresh = s.Claim(fresh[:0], ids)
				if err := s.Commit(context.Background(), "Audit.Exchange", "blob", ids, fresh, false); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/id")
		})
	}
}

// BenchmarkClaimRepeats measures a batch of 100 Ids all delivered before:
// the cost of recognising repeats.
func BenchmarkClaimRepeats(b *testing.B) {
	s, _ := open(b, nil, testConfig(newClock()))
	ids := guids(0, 100)
	deliver(b, s, "Audit.Exchange", "blob", ids, true)
	var fresh []bool
	b.ReportAllocs()
	for b.Loop() {
		fresh = s.Claim(fresh[:0], ids)
	}
}
