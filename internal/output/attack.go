package output // import "github.com/o365detect/o365detect/internal/output"

import (
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/o365detect/o365detect/internal/rule"
)

const attackBaseURL = "https://attack.mitre.org/"

// attackTechniqueURL is the ATT&CK page of a technique or sub-technique:
// T1484 → …/techniques/T1484/, T1484.002 → …/techniques/T1484/002/.
func attackTechniqueURL(id string) string {
	return attackBaseURL + "techniques/" + strings.ReplaceAll(id, ".", "/") + "/"
}

// attackTacticURL is the ATT&CK page of a tactic.
func attackTacticURL(id string) string {
	return attackBaseURL + "tactics/" + id + "/"
}

// attackObject is an ATT&CK tactic, technique or sub-technique with its page.
type attackObject struct{ id, name, url string }

func techniqueObject(t *rule.Technique) attackObject {
	return attackObject{id: t.ID, name: t.Name, url: attackTechniqueURL(t.ID)}
}

// attackPair is one of a rule's techniques as ATT&CK places it: a technique
// alone, or a sub-technique (sub) under its parent (technique).
type attackPair struct {
	technique attackObject
	sub       *attackObject
}

// attackMapping is a rule's ATT&CK mapping in the shapes the profiles write,
// with every page's URL, built once per rule (see dataOf).
type attackMapping struct {
	tactics []attackObject
	// tacticIDs are the ids of tactics.
	tacticIDs []string
	// techniqueIDs are the ids of the rule's techniques as the rule lists
	// them, a sub-technique's own: ESCU's mitre_attack_id.
	techniqueIDs []string
	pairs        []attackPair
	// techniques are the techniques proper, each sub-technique's parent in
	// its place and each once; subtechniques are the sub-techniques. ECS
	// keeps the two levels in fields of their own.
	techniques, subtechniques []attackObject
}

func newAttackMapping(r *rule.Rule) attackMapping {
	var m attackMapping
	for _, t := range r.Tactics {
		m.tactics = append(m.tactics, attackObject{id: t.ID, name: t.Name, url: attackTacticURL(t.ID)})
		m.tacticIDs = append(m.tacticIDs, t.ID)
	}
	for i := range r.Techniques {
		t := &r.Techniques[i]
		m.techniqueIDs = append(m.techniqueIDs, t.ID)
		if t.Parent == nil {
			p := attackPair{technique: techniqueObject(t)}
			m.pairs = append(m.pairs, p)
			m.techniques = appendOnce(m.techniques, p.technique)
			continue
		}
		sub := techniqueObject(t)
		p := attackPair{technique: techniqueObject(t.Parent), sub: &sub}
		m.pairs = append(m.pairs, p)
		m.techniques = appendOnce(m.techniques, p.technique)
		m.subtechniques = appendOnce(m.subtechniques, sub)
	}
	return m
}

func appendOnce(objs []attackObject, o attackObject) []attackObject {
	for _, have := range objs {
		if have.id == o.id {
			return objs
		}
	}
	return append(objs, o)
}

// putAttackFields writes objs as three slices that pair up by position: the
// ids, the names and the pages.
func putAttackFields(attrs pcommon.Map, idKey, nameKey, urlKey string, objs []attackObject) {
	ids, names, urls := attrs.PutEmptySlice(idKey), attrs.PutEmptySlice(nameKey), attrs.PutEmptySlice(urlKey)
	ids.EnsureCapacity(len(objs))
	names.EnsureCapacity(len(objs))
	urls.EnsureCapacity(len(objs))
	for _, o := range objs {
		ids.AppendEmpty().SetStr(o.id)
		names.AppendEmpty().SetStr(o.name)
		urls.AppendEmpty().SetStr(o.url)
	}
}

// putAttackObject writes o as an OCSF tactic, technique or sub_technique.
func putAttackObject(m pcommon.Map, o attackObject) {
	m.PutStr("uid", o.id)
	m.PutStr("name", o.name)
	m.PutStr("src_url", o.url)
}
