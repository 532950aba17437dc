package o365detectprocessor // import "github.com/o365detect/o365detect/processor/o365detectprocessor"

import (
	"time"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.uber.org/zap"

	"github.com/o365detect/o365detect/internal/output"
	"github.com/o365detect/o365detect/internal/record"
	"github.com/o365detect/o365detect/internal/rule"
)

// hit is one matching audit record found in a log record, from either
// source.
type hit struct {
	row       rule.Row
	partner   string
	eventTime time.Time
	id        string   // the record's id, for de-duplication
	appIDs    []string // ids the actor may be known by, for app allowlisting
}

// inspect runs the detection on one log record and reports whether it held
// a match that is not allowlisted. Matches are tagged and counted into the
// batch (a repeated delivery, with dedup, only tagged).
func (p *detectProcessor) inspect(b *batch, lr plog.LogRecord) bool {
	rec := &b.rec
	status := record.Skipped
	if p.managementActivity {
		status = p.reader.Read(lr, rec)
	}
	switch status {
	case record.Invalid:
		p.invalid(b, lr)
		return false
	case record.Decoded:
		if rule.Match(rec) {
			h := hit{
				row:       rule.NewRow(rec),
				partner:   rule.PartnerTenant(rec),
				eventTime: eventTime(rec.CreationTime.Str(), lr, b.arrived),
				id:        rec.ID.Str(),
				appIDs:    rec.ActorIDs,
			}
			return p.accept(b, lr, &h, false)
		}
	}
	if !p.entra {
		return false
	}
	b.entra, status = p.reader.ReadEntra(lr, b.res, b.entra[:0], status == record.Skipped && p.managementActivity)
	if status == record.Invalid {
		p.invalid(b, lr)
		return false
	}
	// A body holding several records is tagged with its first kept match;
	// every match counts into its own group.
	tagged := false
	for i := range b.entra {
		e := &b.entra[i]
		if !rule.MatchEntra(e) {
			continue
		}
		h := hit{
			row:       rule.NewEntraRow(e, p.cfg.SignatureIDField != ""),
			partner:   rule.EntraPartnerTenant(e),
			eventTime: entraEventTime(e, lr, b.arrived),
			id:        e.ID,
			appIDs:    []string{e.AppID},
		}
		if p.accept(b, lr, &h, tagged) {
			tagged = true
		}
	}
	return tagged
}

func (p *detectProcessor) invalid(b *batch, lr plog.LogRecord) {
	b.counts.invalid++
	if ce := p.logger.Check(zap.DebugLevel, "record looked like a cross-tenant access change but is not valid JSON; passed through untouched"); ce != nil {
		ce.Write(zap.Int("body_bytes", len(lr.Body().AsString())))
	}
}

// accept applies the filter macro's tuning to a hit, tags the record (unless
// an earlier hit in it did) and counts the hit, once per record Id when
// de-duplication is on.
func (p *detectProcessor) accept(b *batch, lr plog.LogRecord, h *hit, tagged bool) bool {
	if p.allow.allows(subject{user: h.row.User, partner: h.partner, appIDs: h.appIDs}, b.arrived) {
		b.counts.allowlisted++
		return false
	}
	if !tagged {
		m := output.Match{Row: h.row, Partner: h.partner, EventTime: h.eventTime}
		p.profile.Tag(lr.Attributes(), m)
	}
	if p.dedup != nil && h.id != "" {
		id, first := p.dedup.firstDelivery(h.id, b.arrived)
		if !first {
			// Still a match, so tagged and forwarded like one, but already
			// counted. This is also how a caller's retry of a batch the next
			// consumer refused comes back: dropping it here would lose the
			// record the first attempt never delivered.
			b.counts.duplicates++
			return true
		}
		b.ids = append(b.ids, seenID{ID: id, Seen: b.arrived.UnixNano()})
	}
	b.counts.matched++
	if !p.cfg.EmitDetections {
		return true
	}
	b.adds = append(b.adds, pendingAdd{row: h.row, eventTime: h.eventTime, partner: h.partner, resource: b.resourceCopy()})
	return true
}

// eventTime is the record's _time: its own time (CreationTime or
// activityDateTime), else the log record's Timestamp, else its
// ObservedTimestamp, else the arrival time.
func eventTime(recordTime string, lr plog.LogRecord, arrived time.Time) time.Time {
	if t, ok := rule.ParseCreationTime(recordTime); ok {
		return t
	}
	if ts := lr.Timestamp(); ts != 0 {
		return ts.AsTime()
	}
	if ts := lr.ObservedTimestamp(); ts != 0 {
		return ts.AsTime()
	}
	return arrived
}

// entraEventTime is an Entra record's _time: activityDateTime, else the
// diagnostic record's own time, else what eventTime falls back to. A
// translated record carries no time of its own: its Timestamp is the
// diagnostic record's time, so the order is the same in every shape.
func entraEventTime(e *record.EntraRecord, lr plog.LogRecord, arrived time.Time) time.Time {
	if t, ok := rule.ParseCreationTime(e.Time); ok {
		return t
	}
	return eventTime(e.RecordTime, lr, arrived)
}
