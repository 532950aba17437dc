package bench

import "testing"

// BenchmarkPipelines runs every implementation on the non-matching and the
// matching batch of sample.jsonl:
//
//	go test -run '^$' -bench Pipelines -benchmem
//
// allocs/op is per batch; divide by the batch size (52 non-matching, 8
// matching) for allocations per record. bench/cmd/benchtable runs the same
// cases and prints them as one table.
func BenchmarkPipelines(b *testing.B) {
	r := loadSample(b)
	for _, c := range Cases(r) {
		b.Run(c.Name(), c.Fn)
	}
}
