package output // import "github.com/o365detect/o365detect/internal/output"

import (
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/o365detect/o365detect/internal/aggregate"
	"github.com/o365detect/o365detect/internal/rule"
)

// The splunk profile writes a Splunk Enterprise Security risk event: the
// ESCU result row under its own names plus the fields the risk framework
// writes (Risk data model All_Risk.*), which the splunk_hec exporter sends as
// HEC fields. Detection records also carry the com.splunk.* attributes the
// exporter maps to the HEC event's index, source and sourcetype (and drops
// from the fields), so they land where ES's risk searches look: index risk,
// sourcetype stash, source the correlation search's name. Tagged input
// records keep the index they would have had.
const (
	AttrMitreTacticID    = "annotations.mitre_attack.mitre_tactic_id"
	AttrSearchName       = "search_name"
	AttrThreatObject     = "threat_object"
	AttrThreatObjectType = "threat_object_type"

	// The splunk_hec exporter's default otel_attrs_to_hec_metadata: it
	// reads these from the resource and then the record (the record wins),
	// as strings.
	AttrSplunkIndex      = "com.splunk.index"
	AttrSplunkSource     = "com.splunk.source"
	AttrSplunkSourcetype = "com.splunk.sourcetype"
)

// SearchName is the name of ESCU's correlation search for the detection,
// which ES writes as search_name (and source) on its risk events: the
// default source of the splunk profile's detection records.
var SearchName = rule.ESCU.SearchName

// threatObjectType is the threat_object_type of a partner tenant id.
// contentctl's 26 threat object types have none for a tenant or directory:
// the nearest, system ("a device or application identifier") and domain ("a
// domain name"), would both misdescribe a tenant GUID. ES does not restrict
// the value; "other" is the RBA vocabulary's word for neither-user-nor-system.
const threatObjectType = "other"

type splunk struct {
	riskScore int64
	hec       SplunkOptions
}

func newSplunk(opts Options) *splunk {
	return &splunk{riskScore: int64(opts.RiskScore), hec: opts.Splunk}
}

func (w *splunk) Tag(attrs pcommon.Map, m Match) {
	// One growth of the attribute slice instead of one per doubling.
	attrs.EnsureCapacity(attrs.Len() + 24)
	putRow(attrs, &m.Row)
	w.putRisk(attrs, m.Rule, m.Row.User)
	if m.Partner != "" {
		attrs.PutStr(AttrThreatObject, m.Partner)
		attrs.PutStr(AttrThreatObjectType, threatObjectType)
	}
}

func (w *splunk) Detection(lr plog.LogRecord, g *aggregate.Group) {
	markDetection(lr)
	// HEC rejects an event without a body; the exporter drops it.
	lr.Body().SetStr(g.Rule.Message(g.Row.User))
	attrs := lr.Attributes()
	attrs.EnsureCapacity(25)
	putResultRow(attrs, g)
	w.putRisk(attrs, g.Rule, g.Row.User)
	if len(g.Partners) > 0 {
		// Multivalue threat_object and threat_object_type pair up by
		// position, as in ES risk events.
		putStrs(attrs, AttrThreatObject, g.Partners...)
		types := attrs.PutEmptySlice(AttrThreatObjectType)
		types.EnsureCapacity(len(g.Partners))
		for range g.Partners {
			types.AppendEmpty().SetStr(threatObjectType)
		}
	}
	// An empty option leaves the exporter's own setting (or the token's
	// default index) in force.
	putIfSet(attrs, AttrSplunkIndex, w.hec.Index)
	putIfSet(attrs, AttrSplunkSource, w.hec.Source)
	putIfSet(attrs, AttrSplunkSourcetype, w.hec.Sourcetype)
}

// putRisk writes the risk event fields. The tactic ids are what ES's risk
// incident rules count (dc(annotations.mitre_attack.mitre_tactic_id)); ES
// derives them from the technique when its own risk action writes the event,
// and an event sent over HEC does not pass through that action.
func (w *splunk) putRisk(attrs pcommon.Map, r *rule.Rule, user string) {
	attack := &dataOf(r).attack
	attrs.PutStr(AttrRiskObject, user)
	attrs.PutStr(AttrRiskObjectType, r.RiskObjectType)
	attrs.PutInt(AttrRiskScore, w.riskScore)
	attrs.PutStr(AttrRiskMessage, r.Message(user))
	putStrOrStrs(attrs, AttrMitreTechniqueID, attack.techniqueIDs)
	putStrs(attrs, AttrMitreTacticID, attack.tacticIDs...)
	attrs.PutStr(AttrAnalyticStory, r.AnalyticStory)
	attrs.PutStr(AttrSearchName, r.SearchName)
}
