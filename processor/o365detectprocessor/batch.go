package o365detectprocessor // import "github.com/o365detect/o365detect/processor/o365detectprocessor"

import (
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/o365detect/o365detect/internal/dedup"
	"github.com/o365detect/o365detect/internal/record"
	"github.com/o365detect/o365detect/internal/rule"
	"github.com/o365detect/o365detect/internal/window"
)

// batch collects one ConsumeLogs call's outcomes, so that the engine is
// locked (and the journal written) once per batch, not once per record.
type batch struct {
	arrived time.Time
	counts  batchCounts
	buffers record.Buffers
	hits    []rule.Hit    // one record's hits, reused across the batch
	adds    []window.Hit  // the batch's hits to count
	ids     []dedup.Entry // Ids remembered for de-duplication
	// res is the resource of the records being inspected; resCopy, made
	// on its first hit, is shared by the groups those records open.
	res     pcommon.Resource
	resCopy *pcommon.Resource
}

// getBatch returns an empty batch whose slices keep the capacity earlier
// calls grew them to, so that a steady stream of matches does not regrow
// them on every call.
func (p *detectProcessor) getBatch() *batch {
	b, _ := p.batches.Get().(*batch)
	if b == nil {
		b = &batch{}
	}
	b.arrived = p.now()
	return b
}

// putBatch empties b, dropping every reference into the call's records so
// that the pool holds no record memory alive, and recycles it.
func (p *detectProcessor) putBatch(b *batch) {
	b.buffers.Release()
	clear(b.hits[:cap(b.hits)])
	clear(b.adds)
	clear(b.ids)
	*b = batch{
		buffers: b.buffers,
		hits:    b.hits[:0],
		adds:    b.adds[:0],
		ids:     b.ids[:0],
	}
	p.batches.Put(b)
}

// setResource starts the records of another resource.
func (b *batch) setResource(res pcommon.Resource) {
	b.res, b.resCopy = res, nil
}

// resourceCopy returns a copy of the current resource, made once per
// resource and batch however many groups its records open.
func (b *batch) resourceCopy() pcommon.Resource {
	if b.resCopy == nil {
		c := pcommon.NewResource()
		b.res.CopyTo(c)
		b.resCopy = &c
	}
	return *b.resCopy
}
