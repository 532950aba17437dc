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
	w.putRuleAndRisk(attrs, m.Rule, m.Row.User)
}

func (w *escu) Detection(lr plog.LogRecord, g *aggregate.Group) {
	markDetection(lr)
	lr.Body().SetStr(g.Rule.Message(g.Row.User))
	attrs := lr.Attributes()
	attrs.EnsureCapacity(23)
	putResultRow(attrs, g)
	w.putRuleAndRisk(attrs, g.Rule, g.Row.User)
}

// escuRuleKeys are the semantic conventions' security_rule.* names.
var escuRuleKeys = ruleKeys{
	name: AttrRuleName, uuid: AttrRuleUUID, version: AttrRuleVersion, category: AttrRuleCategory,
	reference: AttrRuleReference, ruleset: AttrRuleRulesetName,
}

func (w *escu) putRuleAndRisk(attrs pcommon.Map, r *rule.Rule, user string) {
	putRuleIdentity(attrs, &escuRuleKeys, r)
	putStrOrStrs(attrs, AttrMitreTechniqueID, dataOf(r).attack.techniqueIDs)
	attrs.PutStr(AttrAnalyticStory, r.AnalyticStory)
	attrs.PutStr(AttrRiskObject, user)
	attrs.PutStr(AttrRiskObjectType, r.RiskObjectType)
	attrs.PutInt(AttrRiskScore, w.riskScore)
	attrs.PutStr(AttrRiskMessage, r.Message(user))
}
