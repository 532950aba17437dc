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
	// Partner is the partner tenant the change concerns; "" when unknown.
	Partner string
	// EventTime is the record's _time.
	EventTime time.Time
	// ID is the audit record's id; DedupKey adds the rule to it.
	ID string
	// AppIDs are the ids the actor may be known by, for allowlisting an
	// app: the Actor IDs of a Management Activity record, the app id of an
	// Entra record.
	AppIDs []string
}

// Detector finds the hits of the configured rules in log records of the
// sources it reads. It is safe for concurrent use; the caller brings the
// buffers.
type Detector struct {
	reader *record.Reader
	rules  []*Rule
	opts   DetectorOptions
}

// DetectorOptions configures a Detector.
type DetectorOptions struct {
	// Rules are the rules run, in catalogue order; none means ESCU's.
	Rules []*Rule
	// SignatureIDField is the Management Activity field read into
	// signature_id; "" reads none.
	SignatureIDField string
	// ManagementActivity and Entra choose the sources read.
	ManagementActivity bool
	Entra              bool
	// ExpectedPartnerTenants is Sentinel's ExpectedTenantIDs: partners
	// whose addition Organization Added does not report.
	ExpectedPartnerTenants []string
}

// NewDetector returns a Detector.
func NewDetector(o DetectorOptions) *Detector {
	rules := o.Rules
	if len(rules) == 0 {
		rules = []*Rule{ESCU}
	}
	return &Detector{reader: record.NewReader(o.SignatureIDField), rules: rules, opts: o}
}

// Detect appends the hits in lr to hits and returns them. res is lr's
// resource, arrived the processing time of its batch. invalid reports a
// record that looked like a candidate but could not be read; it has no
// hits. A hit's strings point into lr and buf until they are cloned.
func (d *Detector) Detect(buf *record.Buffers, lr plog.LogRecord, res pcommon.Resource, arrived time.Time, hits []Hit) (_ []Hit, invalid bool) {
	rec := &buf.Record
	status := record.NotCandidate
	if d.opts.ManagementActivity {
		status = d.reader.Read(lr, rec)
	}
	switch status {
	case record.Invalid:
		return hits, true
	case record.Decoded:
		n := len(hits)
		d.managementActivityHits(rec, lr, arrived, &hits)
		if len(hits) > n {
			return hits, false
		}
	}
	if !d.opts.Entra {
		return hits, false
	}
	// A text the Management Activity prefilter rejected has been scanned
	// once already; ReadEntra then skips the scan they share.
	buf.Entra, status = d.reader.ReadEntra(lr, res, buf.Entra[:0], status == record.NotCandidate && d.opts.ManagementActivity)
	if status == record.Invalid {
		return hits, true
	}
	for i := range buf.Entra {
		d.entraHits(&buf.Entra[i], lr, arrived, &hits)
	}
	return hits, false
}

// managementActivityHits appends the hits of a Management Activity record.
// Every rule reads the Entra ID workload only: the search's
// Workload=AzureActiveDirectory, and the Unified Audit Log's copy of the
// Entra audit log that Sentinel's rules read.
func (d *Detector) managementActivityHits(rec *record.Record, lr plog.LogRecord, arrived time.Time, hits *[]Hit) {
	if !isEntraWorkload(rec) {
		return
	}
	c := change{activity: rec.Operation.Text, props: rec.Properties, partnerNew: rec.PartnerTenantNew, partnerOld: rec.PartnerTenantOld}
	var row Row
	var at time.Time
	for _, r := range d.rules {
		if !r.matchesOperation(c.activity) {
			continue
		}
		partner, ok := r.condition(c, &d.opts)
		if !ok {
			continue
		}
		if row == (Row{}) { // the record's first hit: derived once for all rules
			row, at = NewRow(rec), EventTime(rec.CreationTime.Str(), lr, arrived)
		}
		*hits = append(*hits, Hit{
			Rule:      r,
			Row:       row,
			Partner:   partner,
			EventTime: at,
			ID:        rec.ID.Str(),
			AppIDs:    rec.ActorIDs,
		})
	}
}

// entraHits appends the hits of an Entra audit record.
func (d *Detector) entraHits(e *record.EntraRecord, lr plog.LogRecord, arrived time.Time, hits *[]Hit) {
	if e.Activity.Kind != record.String {
		return
	}
	c := change{activity: e.Activity.Text, props: e.Properties, entra: true, partnerNew: e.PartnerTenantNew, partnerOld: e.PartnerTenantOld}
	var row Row
	var at time.Time
	var appIDs []string
	for _, r := range d.rules {
		if !r.matchesActivity(c.activity) {
			continue
		}
		partner, ok := r.condition(c, &d.opts)
		if !ok {
			continue
		}
		if row == (Row{}) { // the record's first hit: derived once for all rules
			row, at = NewEntraRow(e, d.opts.SignatureIDField != ""), EntraEventTime(e, lr, arrived)
			appIDs = []string{e.AppID}
		}
		*hits = append(*hits, Hit{
			Rule:      r,
			Row:       row,
			Partner:   partner,
			EventTime: at,
			ID:        e.ID,
			AppIDs:    appIDs,
		})
	}
}

// matchesOperation reports whether a Management Activity Operation is one
// of the rule's activities: the activity with its period, as a whole value
// in any case, as the search's IN compares; or, for a rule written in KQL,
// the activity as a phrase (has), which the period does not disturb.
func (r *Rule) matchesOperation(op string) bool {
	if r.kqlHas {
		return r.matchesActivity(op)
	}
	for _, a := range r.Activities {
		if len(op) == len(a)+1 && op[len(a)] == '.' && record.EqualFoldASCII(op[:len(a)], a) {
			return true
		}
	}
	return false
}

// matchesActivity reports whether an Entra activityDisplayName is one of
// the rule's activities: as a whole value in any case, or for a KQL rule
// as a phrase of whole terms (has).
func (r *Rule) matchesActivity(activity string) bool {
	for _, a := range r.Activities {
		if r.kqlHas && hasPhrase(activity, a) || !r.kqlHas && record.EqualFoldASCII(activity, a) {
			return true
		}
	}
	return false
}

// DedupKey is the key under which a hit is de-duplicated: each rule counts
// a record once. ESCU's key is the record's Id alone, as journals written
// before there were other rules hold it.
func (h *Hit) DedupKey() string {
	if h.Rule == ESCU || h.ID == "" {
		return h.ID
	}
	return h.Rule.ID + "/" + h.ID
}

// Keys returns the configuration names of rules.
func Keys(rules []*Rule) []string {
	keys := make([]string, len(rules))
	for i, r := range rules {
		keys[i] = r.Key
	}
	return keys
}
