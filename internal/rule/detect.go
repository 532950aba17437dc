package rule // import "github.com/o365detect/o365detect/internal/rule"

import (
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/o365detect/o365detect/internal/record"
)

// Hit is one match of a rule in an audit record.
type Hit struct {
	Rule *Rule
	Row  Row
	// Partner is the partner tenant added or deleted; "" when unknown.
	Partner string
	// EventTime is the record's _time.
	EventTime time.Time
	// ID is the audit record's id, the key of de-duplication.
	ID string
	// AppIDs are the ids the actor may be known by, for allowlisting an
	// app: the Actor IDs of a Management Activity record, the app id of an
	// Entra record.
	AppIDs []string
}

// Detector finds the hits of the rules in log records of the sources it
// reads. It is safe for concurrent use; the caller brings the buffers.
type Detector struct {
	reader             *record.Reader
	managementActivity bool
	entra              bool
	// useSignatureID is false when no signature ID field is configured:
	// signature_id is then "0" for every source.
	useSignatureID bool
}

// DetectorOptions configures a Detector.
type DetectorOptions struct {
	// SignatureIDField is the Management Activity field read into
	// signature_id; "" reads none.
	SignatureIDField string
	// ManagementActivity and Entra choose the sources read.
	ManagementActivity bool
	Entra              bool
}

// NewDetector returns a Detector.
func NewDetector(o DetectorOptions) *Detector {
	return &Detector{
		reader:             record.NewReader(o.SignatureIDField),
		managementActivity: o.ManagementActivity,
		entra:              o.Entra,
		useSignatureID:     o.SignatureIDField != "",
	}
}

// Detect appends the hits in lr to hits and returns them. res is lr's
// resource, arrived the processing time of its batch. invalid reports a
// record that looked like a candidate but could not be read; it has no
// hits. A hit's strings point into lr and buf until they are cloned.
func (d *Detector) Detect(buf *record.Buffers, lr plog.LogRecord, res pcommon.Resource, arrived time.Time, hits []Hit) (_ []Hit, invalid bool) {
	rec := &buf.Record
	status := record.NotCandidate
	if d.managementActivity {
		status = d.reader.Read(lr, rec)
	}
	switch status {
	case record.Invalid:
		return hits, true
	case record.Decoded:
		if Match(rec) {
			return append(hits, Hit{
				Rule:      ESCU,
				Row:       NewRow(rec),
				Partner:   PartnerTenant(rec),
				EventTime: EventTime(rec.CreationTime.Str(), lr, arrived),
				ID:        rec.ID.Str(),
				AppIDs:    rec.ActorIDs,
			}), false
		}
	}
	if !d.entra {
		return hits, false
	}
	// A text the Management Activity prefilter rejected has been scanned
	// once already; ReadEntra then skips the scan they share.
	buf.Entra, status = d.reader.ReadEntra(lr, res, buf.Entra[:0], status == record.NotCandidate && d.managementActivity)
	if status == record.Invalid {
		return hits, true
	}
	for i := range buf.Entra {
		e := &buf.Entra[i]
		if !MatchEntra(e) {
			continue
		}
		hits = append(hits, Hit{
			Rule:      ESCU,
			Row:       NewEntraRow(e, d.useSignatureID),
			Partner:   EntraPartnerTenant(e),
			EventTime: EntraEventTime(e, lr, arrived),
			ID:        e.ID,
			AppIDs:    []string{e.AppID},
		})
	}
	return hits, false
}
