package bench

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/plog"
)

// Needle is what the physical-floor scan looks for.
const Needle = "cross-tenant access setting."

// Impl identifies one row of the table.
type Impl struct {
	Key   string // benchmark name
	Label string // table label
}

// The rows of the table, in order.
var (
	ImplIndex       = Impl{"index", "`strings.Index(body, \"" + Needle + "\")` (physical floor)"}
	ImplJSON        = Impl{"json", "`encoding/json` Unmarshal into `map[string]any`"}
	ImplOursAll     = Impl{"ours_all", "**o365_detect**, passthrough all"}
	ImplOursMatched = Impl{"ours_matched", "o365_detect, passthrough matched"}
	ImplOursRules   = Impl{"ours_all_rules", "o365_detect, all rules, passthrough all"}
	ImplTagFloor    = Impl{"tag_floor", "pdata floor: the same attributes written on the same records, nothing read (tagging floor)"}
	ImplPeerTag     = Impl{"peer_tag", "OTTL peer: transform (tag only)"}
	ImplPeerFilter  = Impl{"peer_tag_filter", "OTTL peer: transform + filter"}
	Impls           = []Impl{ImplIndex, ImplJSON, ImplTagFloor, ImplOursAll, ImplOursMatched, ImplOursRules, ImplPeerTag, ImplPeerFilter}
)

// The two batches.
const (
	KindNonMatching = "non_matching"
	KindMatching    = "matching"
)

// Kinds are the batch names, in table order.
var Kinds = []string{KindNonMatching, KindMatching}

// Case is one benchmark: an implementation on one batch.
type Case struct {
	Impl    Impl
	Kind    string
	Records int // records per op
	Fn      func(b *testing.B)
}

// Name is the sub-benchmark name, impl/kind.
func (c Case) Name() string { return c.Impl.Key + "/" + c.Kind }

// Cases returns every benchmark on the two batches of r.
func Cases(r *Records) []Case {
	var cs []Case
	for _, kind := range Kinds {
		lines := r.NonMatching
		if kind == KindMatching {
			lines = r.Matching
		}
		src := Batch(lines)
		// A pipeline that tags or drops records gets a fresh copy of the
		// batch for every op (copied with the timer stopped), as in a
		// collector where every batch is new. One that leaves the batch as
		// it was (no match, tag-only forms; TestPeerTagsLikeOurs checks that
		// nothing is touched) reuses it.
		mutates := kind == KindMatching
		for _, impl := range Impls {
			var fn func(*testing.B)
			switch impl {
			case ImplTagFloor:
				if kind != KindMatching {
					continue // nothing is tagged: the floor is strings.Index
				}
				fn = pipelineBench(func() (*Pipeline, error) { return NewTagFloor(lines) }, src, true)
			case ImplIndex:
				fn = indexBench(src)
			case ImplJSON:
				fn = jsonBench(src)
			case ImplOursAll:
				fn = pipelineBench(func() (*Pipeline, error) { return NewOurs("all", consumertest.NewNop()) }, src, mutates)
			case ImplOursMatched:
				fn = pipelineBench(func() (*Pipeline, error) { return NewOurs("matched", consumertest.NewNop()) }, src, true)
			case ImplOursRules:
				fn = pipelineBench(func() (*Pipeline, error) { return NewOursAllRules("all", consumertest.NewNop()) }, src, mutates)
			case ImplPeerTag:
				fn = pipelineBench(func() (*Pipeline, error) { return NewPeer(false, consumertest.NewNop()) }, src, mutates)
			case ImplPeerFilter:
				fn = pipelineBench(func() (*Pipeline, error) { return NewPeer(true, consumertest.NewNop()) }, src, true)
			}
			cs = append(cs, Case{Impl: impl, Kind: kind, Records: len(lines), Fn: fn})
		}
	}
	return cs
}

// freshPool is how many fresh batches are copied at a time, timer stopped.
const freshPool = 512

func pipelineBench(newPipe func() (*Pipeline, error), src plog.Logs, fresh bool) func(*testing.B) {
	return func(b *testing.B) {
		p, err := newPipe()
		if err != nil {
			b.Fatal(err)
		}
		defer func() {
			if err := p.Shutdown(context.Background()); err != nil {
				b.Error(err)
			}
		}()
		n := src.LogRecordCount()
		ctx := context.Background()
		var pool []plog.Logs
		if fresh {
			pool = make([]plog.Logs, freshPool)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			ld := src
			if fresh {
				j := i % freshPool
				if j == 0 {
					b.StopTimer()
					for k := range pool {
						pool[k] = plog.NewLogs()
						src.CopyTo(pool[k])
					}
					b.StartTimer()
				}
				ld = pool[j]
			}
			if err := p.ConsumeLogs(ctx, ld); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		perRecord(b, n)
	}
}

// indexBench is the physical floor: the substring search alone, over the
// same bodies reached through the same pdata records.
func indexBench(src plog.Logs) func(*testing.B) {
	return func(b *testing.B) {
		lrs := src.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords()
		hits := 0
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			for k := 0; k < lrs.Len(); k++ {
				if strings.Index(lrs.At(k).Body().Str(), Needle) >= 0 {
					hits++
				}
			}
		}
		b.StopTimer()
		if hits < 0 {
			b.Fatal("unreachable")
		}
		perRecord(b, lrs.Len())
	}
}

// jsonBench fully decodes every body, as a processor that parses every
// record would.
func jsonBench(src plog.Logs) func(*testing.B) {
	return func(b *testing.B) {
		lrs := src.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords()
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			for k := 0; k < lrs.Len(); k++ {
				var m map[string]any
				if err := json.Unmarshal([]byte(lrs.At(k).Body().Str()), &m); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.StopTimer()
		perRecord(b, lrs.Len())
	}
}

func perRecord(b *testing.B, n int) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/record")
	b.ReportMetric(1e9*float64(b.N*n)/float64(b.Elapsed().Nanoseconds()), "records/s")
}
