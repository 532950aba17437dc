package bench

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
)

func loadSample(t testing.TB) *Records {
	t.Helper()
	r, err := LoadSample(filepath.Join(".."))
	require.NoError(t, err)
	return r
}

// run sends one fresh batch of lines through a pipeline and returns the
// records it forwarded (detection records, emitted at Shutdown, excluded).
func run(t *testing.T, newPipe func(next *consumertest.LogsSink) (*Pipeline, error), lines []string) plog.LogRecordSlice {
	t.Helper()
	sink := new(consumertest.LogsSink)
	p, err := newPipe(sink)
	require.NoError(t, err)
	require.NoError(t, p.ConsumeLogs(context.Background(), Batch(lines)))
	out := plog.NewLogRecordSlice()
	for _, ld := range sink.AllLogs() {
		for i := 0; i < ld.ResourceLogs().Len(); i++ {
			sls := ld.ResourceLogs().At(i).ScopeLogs()
			for j := 0; j < sls.Len(); j++ {
				sls.At(j).LogRecords().MoveAndAppendTo(out)
			}
		}
	}
	require.NoError(t, p.Shutdown(context.Background()))
	return out
}

func ours(mode string) func(*consumertest.LogsSink) (*Pipeline, error) {
	return func(s *consumertest.LogsSink) (*Pipeline, error) { return NewOurs(mode, s) }
}

func peer(withFilter bool) func(*consumertest.LogsSink) (*Pipeline, error) {
	return func(s *consumertest.LogsSink) (*Pipeline, error) { return NewPeer(withFilter, s) }
}

// TestSampleSplit pins the split the benchmarks use: 8 of the 60 sample
// records match, 43 hold no cross-tenant operation, and the other 9 are
// near misses that belong to neither batch.
func TestSampleSplit(t *testing.T) {
	r := loadSample(t)
	assert.Len(t, r.All, 60)
	assert.Len(t, r.Matching, 8)
	assert.Len(t, r.NonMatching, 43)
	for _, l := range r.NonMatching {
		assert.NotContains(t, strings.ToLower(l), "cross-tenant")
	}
}

// TestPeerTagsLikeOurs makes the comparison honest: on every sample record
// the OTTL peer writes exactly the attributes o365_detect writes (same names,
// types and values) on the same records, and leaves the others untouched
// (the body too); with the filter, both forward exactly the tagged records.
func TestPeerTagsLikeOurs(t *testing.T) {
	r := loadSample(t)
	want := Batch(r.All).ResourceLogs().At(0).ScopeLogs().At(0).LogRecords()
	tagged, err := TaggedByOurs(r.All)
	require.NoError(t, err)

	o := run(t, ours("all"), r.All)
	p := run(t, peer(false), r.All)
	require.Equal(t, len(r.All), o.Len())
	require.Equal(t, len(r.All), p.Len())
	for i := range r.All {
		assert.Equal(t, want.At(i).Body().Str(), p.At(i).Body().Str(), "record %d: peer changed the body", i)
		assert.Equal(t, want.At(i).Body().Str(), o.At(i).Body().Str(), "record %d: ours changed the body", i)
		if !tagged[i] {
			assert.Equal(t, want.At(i).Attributes().AsRaw(), p.At(i).Attributes().AsRaw(), "record %d: peer touched a non-matching record", i)
			assert.Equal(t, want.At(i).Attributes().AsRaw(), o.At(i).Attributes().AsRaw(), "record %d: ours touched a non-matching record", i)
			continue
		}
		oa, pa := o.At(i).Attributes(), p.At(i).Attributes()
		assert.Equal(t, 20, oa.Len(), "record %d: log.file.name + 19 tags (7 row, 6 rule, 2 annotations, 4 risk)", i)
		assert.Equal(t, oa.AsRaw(), pa.AsRaw(), "record %d: peer and ours tag differently", i)
		oa.Range(func(k string, v pcommon.Value) bool {
			pv, ok := pa.Get(k)
			if assert.True(t, ok, "record %d: peer lacks %s", i, k) {
				assert.Equal(t, v.Type(), pv.Type(), "record %d: %s type", i, k)
			}
			return true
		})
	}

	om := run(t, ours("matched"), r.All)
	pm := run(t, peer(true), r.All)
	assert.Equal(t, len(r.Matching), om.Len())
	require.Equal(t, om.Len(), pm.Len())
	for i := 0; i < om.Len(); i++ {
		assert.Equal(t, om.At(i).Body().Str(), pm.At(i).Body().Str())
		assert.Equal(t, om.At(i).Attributes().AsRaw(), pm.At(i).Attributes().AsRaw())
	}
}
