package o365detectprocessor

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/o365detect/o365detect/internal/record"
)

// TestPutBatchDropsRecordReferences fills a batch the way a call with
// matches does and checks that recycling it keeps the slices' capacity but
// no string, resource or record of the call: a pooled batch must not hold
// a batch of logs alive.
func TestPutBatchDropsRecordReferences(t *testing.T) {
	h := newHarness(t, testConfig())
	p := h.p

	b := p.getBatch()
	b.rec.ActorIDs = append(b.rec.ActorIDs, "alice@contoso.com", "User")
	b.rec.Workload = record.Value{Text: "AzureActiveDirectory", Kind: record.String}
	b.rec.ActorIDs = b.rec.ActorIDs[:1] // a later, shorter Actor list
	b.entra = append(b.entra, record.EntraRecord{UPN: "bob@contoso.com"})
	b.adds = append(b.adds, pendingAdd{partner: "partner", resource: pcommon.NewResource()})
	b.ids = append(b.ids, seenID{ID: "id"})
	b.setResource(pcommon.NewResource())
	b.resourceCopy()
	b.counts.matched = 1

	p.putBatch(b)

	require.GreaterOrEqual(t, cap(b.rec.ActorIDs), 2, "capacity kept")
	assert.Empty(t, b.rec.ActorIDs)
	assert.Equal(t, []string{"", ""}, b.rec.ActorIDs[:2], "stale Actor IDs beyond the length")
	assert.Equal(t, record.Record{ActorIDs: b.rec.ActorIDs}, b.rec)
	assert.Empty(t, b.entra)
	assert.Equal(t, record.EntraRecord{}, b.entra[:1][0])
	assert.Empty(t, b.adds)
	assert.Equal(t, pendingAdd{}, b.adds[:1][0])
	assert.Empty(t, b.ids)
	assert.Equal(t, seenID{}, b.ids[:1][0])
	assert.Equal(t, batchCounts{}, b.counts)
	assert.Equal(t, pcommon.Resource{}, b.res)
	assert.Nil(t, b.resCopy)
	assert.True(t, b.arrived.IsZero())
}
