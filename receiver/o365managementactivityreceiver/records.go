package o365managementactivityreceiver // import "github.com/o365detect/o365detect/receiver/o365managementactivityreceiver"

import (
	"time"
	"unsafe"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/o365detect/o365detect/internal/rule"
	"github.com/o365detect/o365detect/receiver/o365managementactivityreceiver/internal/contentblob"
	"github.com/o365detect/o365detect/receiver/o365managementactivityreceiver/internal/metadata"
)

// Attributes the receiver writes.
const (
	// attrTenantID (resource) is the tenant whose audit logs these are.
	attrTenantID = "o365.tenant.id"
	// attrContentType and attrContentID (log record) name the feed and
	// the blob a record came from.
	attrContentType = "o365.content.type"
	attrContentID   = "o365.content.id"
)

// batch holds up to max records of one blob read from the API, with the
// fields the receiver needs of each.
type batch struct {
	max     int
	records []string
	ids     []string
	times   []pcommon.Timestamp
	// fresh[i] is whether records[i] is to be sent (dedup); set by the
	// checkpoint's Claim.
	fresh []bool
}

func newBatch(size int) *batch {
	return &batch{
		max:     size,
		records: make([]string, 0, size),
		ids:     make([]string, 0, size),
		times:   make([]pcommon.Timestamp, 0, size),
		fresh:   make([]bool, 0, size),
	}
}

// add puts rec, the record blob returned last, into the batch. blob keeps
// its records (KeepRecords): nothing writes to rec again, so the batch
// holds it as a string without a copy, and the substrings LastFields
// returns live as long as it does.
func (b *batch) add(rec []byte, blob *contentblob.Reader) {
	s := unsafe.String(unsafe.SliceData(rec), len(rec))
	id, created := blob.LastFields(rec)
	var ts pcommon.Timestamp
	if t, ok := rule.ParseCreationTime(created); ok {
		ts = pcommon.NewTimestampFromTime(t)
	}
	b.records = append(b.records, s)
	b.ids = append(b.ids, id)
	b.times = append(b.times, ts)
}

func (b *batch) count() int { return len(b.records) }
func (b *batch) full() bool { return len(b.records) >= b.max }

func (b *batch) freshCount() int {
	n := 0
	for _, f := range b.fresh {
		if f {
			n++
		}
	}
	return n
}

// reset empties the batch, dropping its references to the records.
func (b *batch) reset() {
	clear(b.records)
	clear(b.ids)
	b.records, b.ids, b.times, b.fresh = b.records[:0], b.ids[:0], b.times[:0], b.fresh[:0]
}

// logs builds the log records of the fresh records: the body is the record's
// JSON text as delivered, Timestamp its CreationTime, ObservedTimestamp
// receipt.
func (b *batch) logs(tenantID, contentType, contentID string, received time.Time) plog.Logs {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr(attrTenantID, tenantID)
	sl := rl.ScopeLogs().AppendEmpty()
	sl.Scope().SetName(metadata.ScopeName)
	lrs := sl.LogRecords()
	lrs.EnsureCapacity(b.freshCount())
	observed := pcommon.NewTimestampFromTime(received)
	for i, rec := range b.records {
		if !b.fresh[i] {
			continue
		}
		lr := lrs.AppendEmpty()
		lr.SetTimestamp(b.times[i])
		lr.SetObservedTimestamp(observed)
		lr.Body().SetStr(rec)
		attrs := lr.Attributes()
		attrs.EnsureCapacity(2)
		attrs.PutStr(attrContentType, contentType)
		attrs.PutStr(attrContentID, contentID)
	}
	return ld
}
