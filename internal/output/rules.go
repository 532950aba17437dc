package output // import "github.com/o365detect/o365detect/internal/output"

import (
	"sync"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/o365detect/o365detect/internal/rule"
)

// ruleData is what the profiles write of a rule that is derived from it
// rather than copied: built on a rule's first record so that no record
// after it pays for the URLs and the hashing namespace.
type ruleData struct {
	attack    attackMapping
	namespace [16]byte
}

// ruleCache maps a *rule.Rule to its *ruleData. Rules are declared once, as
// package values, so it holds one entry per detection; a Rule must not be
// changed once a record of it is written.
var ruleCache sync.Map

func dataOf(r *rule.Rule) *ruleData {
	if d, ok := ruleCache.Load(r); ok {
		return d.(*ruleData)
	}
	d, _ := ruleCache.LoadOrStore(r, &ruleData{attack: newAttackMapping(r), namespace: findingNamespace(r.ID)})
	return d.(*ruleData)
}

// ruleKeys are the attribute names a profile writes a rule's identity
// under; a field whose name is "" is not written.
type ruleKeys struct {
	name, id, uuid, version, category, description, reference, ruleset, authors string
}

// putRuleIdentity writes r's identity under k's names, in the order of
// ruleKeys.
func putRuleIdentity(attrs pcommon.Map, k *ruleKeys, r *rule.Rule) {
	for _, f := range [...]struct{ key, val string }{
		{k.name, r.Name}, {k.id, r.ID}, {k.uuid, r.ID}, {k.version, r.Version}, {k.category, r.Category},
		{k.description, r.Description}, {k.reference, r.Reference}, {k.ruleset, r.Ruleset},
	} {
		if f.key != "" {
			attrs.PutStr(f.key, f.val)
		}
	}
	if k.authors != "" {
		putStrs(attrs, k.authors, r.Authors...)
	}
}
