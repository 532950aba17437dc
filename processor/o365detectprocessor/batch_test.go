package o365detectprocessor

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/o365detect/o365detect/internal/dedup"
	"github.com/o365detect/o365detect/internal/record"
	"github.com/o365detect/o365detect/internal/rule"
	"github.com/o365detect/o365detect/internal/window"
)

// TestPutBatchDropsRecordReferences fills a batch the way a call with
// matches does and checks that recycling it keeps the slices' capacity but
// no string, resource or record of the call: a pooled batch must not hold
// a batch of logs alive.
func TestPutBatchDropsRecordReferences(t *testing.T) {
	h := newHarness(t, testConfig())
	p := h.p

	b := p.getBatch()
	b.buffers.Record.ActorIDs = append(b.buffers.Record.ActorIDs, "alice@contoso.com", "User")
	b.buffers.Record.Workload = record.Value{Text: "AzureActiveDirectory", Kind: record.String}
	b.buffers.Record.ActorIDs = b.buffers.Record.ActorIDs[:1] // a later, shorter Actor list
	b.buffers.Entra = append(b.buffers.Entra, record.EntraRecord{UPN: "bob@contoso.com"})
	b.hits = append(b.hits, rule.Hit{Rule: rule.ESCU, Partner: "partner", AppIDs: []string{"app"}})
	b.hits = b.hits[:0] // the next record had none
	b.adds = append(b.adds, window.Hit{Partner: "partner", Resource: pcommon.NewResource()})
	b.ids = append(b.ids, dedup.Entry{ID: "id"})
	b.setResource(pcommon.NewResource())
	b.resourceCopy()
	b.counts.of(rule.ESCU).matched = 1
	b.counts.invalid = 1

	p.putBatch(b)

	rec := b.buffers.Record
	require.GreaterOrEqual(t, cap(rec.ActorIDs), 2, "capacity kept")
	assert.Empty(t, rec.ActorIDs)
	assert.Equal(t, []string{"", ""}, rec.ActorIDs[:2], "stale Actor IDs beyond the length")
	assert.Equal(t, record.Record{ActorIDs: rec.ActorIDs}, rec)
	assert.Empty(t, b.buffers.Entra)
	assert.Equal(t, record.EntraRecord{}, b.buffers.Entra[:1][0])
	assert.Empty(t, b.hits)
	assert.Equal(t, rule.Hit{}, b.hits[:1][0], "a hit beyond the length")
	assert.Empty(t, b.adds)
	assert.Equal(t, window.Hit{}, b.adds[:1][0])
	assert.Empty(t, b.ids)
	assert.Equal(t, dedup.Entry{}, b.ids[:1][0])
	assert.Equal(t, batchCounts{}, b.counts)
	assert.Equal(t, pcommon.Resource{}, b.res)
	assert.Nil(t, b.resCopy)
	assert.True(t, b.arrived.IsZero())
}
