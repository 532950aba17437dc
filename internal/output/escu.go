package output // import "github.com/o365detect/o365detect/internal/output"

import (
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/o365detect/o365detect/internal/aggregate"
	"github.com/o365detect/o365detect/internal/rule"
)

// escu is the default profile: ESCU's row names, the rule identity under the
// semantic conventions and the RBA risk fields. ESCU's RBA declares no threat
// objects, so the partner tenant is not written here.
type escu struct {
	riskScore int64
}

func (w *escu) Tag(attrs pcommon.Map, m Match) {
	// One growth of the attribute slice instead of one per doubling.
	attrs.EnsureCapacity(attrs.Len() + 19)
	putRow(attrs, &m.Row)
	w.putRuleAndRisk(attrs, m.Row.User)
}

func (w *escu) Detection(lr plog.LogRecord, g *aggregate.Group) {
	markDetection(lr)
	lr.Body().SetStr(rule.ESCU.Message(g.Row.User))
	attrs := lr.Attributes()
	attrs.EnsureCapacity(23)
	putResultRow(attrs, g)
	w.putRuleAndRisk(attrs, g.Row.User)
}

// markDetection sets what every profile's detection record carries besides
// its fields: the event name and a WARN severity.
func markDetection(lr plog.LogRecord) {
	lr.SetEventName(EventName)
	lr.SetSeverityNumber(plog.SeverityNumberWarn)
	lr.SetSeverityText("WARN")
}

// putResultRow writes the ESCU result row: count, firstTime, lastTime and
// the by-fields.
func putResultRow(attrs pcommon.Map, g *aggregate.Group) {
	attrs.PutInt(AttrCount, g.Count)
	attrs.PutStr(AttrFirstTime, rule.FormatTime(g.First))
	attrs.PutStr(AttrLastTime, rule.FormatTime(g.Last))
	putRow(attrs, &g.Row)
}

func putRow(attrs pcommon.Map, row *rule.Row) {
	attrs.PutStr(AttrDest, row.Dest)
	attrs.PutStr(AttrUser, row.User)
	attrs.PutStr(AttrSrc, row.Src)
	attrs.PutStr(AttrVendorAccount, row.VendorAccount)
	attrs.PutStr(AttrVendorProduct, row.VendorProduct)
	attrs.PutStr(AttrSignature, row.Signature)
	attrs.PutStr(AttrSignatureID, row.SignatureID)
}

func (w *escu) putRuleAndRisk(attrs pcommon.Map, user string) {
	attrs.PutStr(AttrRuleName, rule.ESCU.Name)
	attrs.PutStr(AttrRuleUUID, rule.ESCU.ID)
	attrs.PutStr(AttrRuleVersion, rule.ESCU.Version)
	attrs.PutStr(AttrRuleCategory, rule.ESCU.Category)
	attrs.PutStr(AttrRuleReference, rule.ESCU.Reference)
	attrs.PutStr(AttrRuleRulesetName, rule.ESCU.Ruleset)
	attrs.PutStr(AttrMitreTechniqueID, rule.ESCU.Techniques[0].ID)
	attrs.PutStr(AttrAnalyticStory, rule.ESCU.AnalyticStory)
	attrs.PutStr(AttrRiskObject, user)
	attrs.PutStr(AttrRiskObjectType, rule.ESCU.RiskObjectType)
	attrs.PutInt(AttrRiskScore, w.riskScore)
	attrs.PutStr(AttrRiskMessage, rule.ESCU.Message(user))
}
