package output_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/o365detect/o365detect/internal/aggregate"
	"github.com/o365detect/o365detect/internal/output"
	"github.com/o365detect/o365detect/internal/rule"
)

var accountManipulation = &rule.Technique{ID: "T1098", Name: "Account Manipulation"}

// otherRule shares no identity field with rule.ESCU. Its techniques are two
// sub-techniques of one parent and a technique without sub-techniques.
var otherRule = &rule.Rule{
	Name:        "Test Rule",
	ID:          "0b5e6c1a-3f2d-4e8b-9a7c-6d5e4f3a2b1c",
	Version:     "3",
	Category:    "Anomaly",
	Description: "A rule for tests.",
	Authors:     []string{"A. Author", "B. Author"},
	Reference:   "https://example.com/test-rule",
	Ruleset:     "Test Ruleset",
	SearchName:  "Test - Rule",
	// The analytic story is the OCSF finding type.
	AnalyticStory: "Test Story",
	Techniques: []rule.Technique{
		{ID: "T1098.001", Name: "Additional Cloud Credentials", Parent: accountManipulation},
		{ID: "T1078", Name: "Valid Accounts"},
		{ID: "T1098.003", Name: "Additional Cloud Roles", Parent: accountManipulation},
	},
	Tactics:        []rule.Tactic{{ID: "TA0003", Name: "Persistence"}},
	RiskObjectType: "other",
	Message:        func(user string) string { return "test: " + user },
}

// noSubRule's only technique has no parent.
var noSubRule = &rule.Rule{
	Name: "No Sub-technique", ID: "5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d", Version: "1", Category: "TTP",
	Techniques: []rule.Technique{{ID: "T1078", Name: "Valid Accounts"}},
	Tactics:    []rule.Tactic{{ID: "TA0001", Name: "Initial Access"}},
	Message:    func(user string) string { return user },
}

// A profile writes the identity of the rule it is given; nothing of ESCU's
// is left in a record of another rule.
func TestIdentityFromRule(t *testing.T) {
	opts := output.Options{RiskScore: 50}
	escu := []string{
		rule.ESCU.Name, rule.ESCU.ID, rule.ESCU.Description, rule.ESCU.Reference, rule.ESCU.Ruleset,
		rule.ESCU.SearchName, rule.ESCU.AnalyticStory, rule.ESCU.Message(fullRow.User),
		"T1484", "TA0004", "TA0005", "Steven Dick", "Trust Modification",
	}
	for _, profile := range output.Profiles {
		t.Run(profile, func(t *testing.T) {
			tag := pcommon.NewMap()
			newProfile(t, profile, opts).Tag(tag, output.Match{Rule: otherRule, Row: fullRow, Partner: partner1, EventTime: first})
			det := detectionRecord(t, profile, opts, &aggregate.Group{Rule: otherRule, Row: fullRow, Count: 1, First: first, Last: last})
			for _, v := range append(strs(tag.AsRaw()), append(strs(det.Attributes().AsRaw()), strs(det.Body().AsRaw())...)...) {
				for _, e := range escu {
					assert.NotContains(t, v, e)
				}
			}
		})
	}
}

// strs lists every string in v, however deep.
func strs(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case map[string]any:
		var out []string
		for _, e := range v {
			out = append(out, strs(e)...)
		}
		return out
	case []any:
		var out []string
		for _, e := range v {
			out = append(out, strs(e)...)
		}
		return out
	}
	return nil
}

func TestIdentityESCUAndSplunk(t *testing.T) {
	m := output.Match{Rule: otherRule, Row: fullRow}
	escu := tagAttrs(t, output.ProfileESCU, testOptions(), m)
	assert.Equal(t, "Test Rule", escu["security_rule.name"])
	assert.Equal(t, otherRule.ID, escu["security_rule.uuid"])
	assert.Equal(t, "3", escu["security_rule.version"])
	assert.Equal(t, "Anomaly", escu["security_rule.category"])
	assert.Equal(t, otherRule.Reference, escu["security_rule.reference"])
	assert.Equal(t, "Test Ruleset", escu["security_rule.ruleset.name"])
	assert.Equal(t, "Test Story", escu["annotations.analytic_story"])
	assert.Equal(t, "other", escu["risk_object_type"])
	assert.Equal(t, "test: "+fullRow.User, escu["risk_message"])

	splunk := tagAttrs(t, output.ProfileSplunk, testOptions(), m)
	assert.Equal(t, []any{"TA0003"}, splunk["annotations.mitre_attack.mitre_tactic_id"])
	assert.Equal(t, "Test - Rule", splunk["search_name"])

	// Several techniques are a multivalue field, each as the rule lists it;
	// one is a single value.
	for _, a := range []map[string]any{escu, splunk} {
		assert.Equal(t, []any{"T1098.001", "T1078", "T1098.003"}, a["annotations.mitre_attack.mitre_technique_id"])
	}
	for _, profile := range []string{output.ProfileESCU, output.ProfileSplunk} {
		a := tagAttrs(t, profile, testOptions(), output.Match{Rule: noSubRule, Row: fullRow})
		assert.Equal(t, "T1078", a["annotations.mitre_attack.mitre_technique_id"], profile)
	}
}

func TestIdentityECS(t *testing.T) {
	a := tagAttrs(t, output.ProfileECS, testOptions(), output.Match{Rule: otherRule, Row: fullRow})
	assert.Equal(t, "Test Rule", a["rule.name"])
	assert.Equal(t, otherRule.ID, a["rule.id"])
	assert.Equal(t, otherRule.ID, a["rule.uuid"])
	assert.Equal(t, "A rule for tests.", a["rule.description"])
	assert.Equal(t, []any{"A. Author", "B. Author"}, a["rule.author"])
	assert.Equal(t, "Test Ruleset", a["rule.ruleset"])
	assert.Equal(t, []any{"TA0003"}, a["threat.tactic.id"])
	assert.Equal(t, []any{"https://attack.mitre.org/tactics/TA0003/"}, a["threat.tactic.reference"])
	// Techniques proper, each once; the sub-techniques on their own level.
	assert.Equal(t, []any{"T1098", "T1078"}, a["threat.technique.id"])
	assert.Equal(t, []any{"Account Manipulation", "Valid Accounts"}, a["threat.technique.name"])
	assert.Equal(t, []any{"https://attack.mitre.org/techniques/T1098/", "https://attack.mitre.org/techniques/T1078/"}, a["threat.technique.reference"])
	assert.Equal(t, []any{"T1098.001", "T1098.003"}, a["threat.technique.subtechnique.id"])
	assert.Equal(t, []any{"Additional Cloud Credentials", "Additional Cloud Roles"}, a["threat.technique.subtechnique.name"])
	assert.Equal(t, []any{"https://attack.mitre.org/techniques/T1098/001/", "https://attack.mitre.org/techniques/T1098/003/"}, a["threat.technique.subtechnique.reference"])

	// A technique without a parent is a technique: no sub-technique fields.
	a = tagAttrs(t, output.ProfileECS, testOptions(), output.Match{Rule: noSubRule, Row: fullRow})
	assert.Equal(t, []any{"T1078"}, a["threat.technique.id"])
	assert.Equal(t, []any{"https://attack.mitre.org/techniques/T1078/"}, a["threat.technique.reference"])
	for k := range a {
		assert.False(t, strings.HasPrefix(k, "threat.technique.subtechnique."), k)
	}
}

func TestIdentityOCSF(t *testing.T) {
	f := ocsfDetection(t, detectionRecord(t, output.ProfileOCSF, testOptions(), &aggregate.Group{Rule: otherRule, Row: fullRow, Count: 1, First: first, Last: last}))
	assert.Equal(t, "Test Rule", get(t, f, "finding_info", "title"))
	assert.Equal(t, "A rule for tests.", get(t, f, "finding_info", "desc"))
	assert.Equal(t, []any{"Test Story"}, get(t, f, "finding_info", "types"))
	assert.Equal(t, map[string]any{"name": "Test Rule", "uid": otherRule.ID, "type_id": int64(1), "type": "Rule", "version": "3", "category": "Anomaly"},
		get(t, f, "finding_info", "analytic"))
	assert.Equal(t, "test: "+fullRow.User, f["message"])

	// One attack per tactic and technique; a technique without a parent has
	// no sub_technique.
	attacks, ok := get(t, f, "finding_info", "attacks").([]any)
	require.True(t, ok)
	require.Len(t, attacks, 3)
	for i, want := range []struct{ technique, sub string }{{"T1098", "T1098.001"}, {"T1078", ""}, {"T1098", "T1098.003"}} {
		a := attacks[i].(map[string]any)
		assert.Equal(t, "TA0003", get(t, a, "tactic", "uid"))
		assert.Equal(t, want.technique, get(t, a, "technique", "uid"))
		if want.sub == "" {
			assert.NotContains(t, a, "sub_technique")
		} else {
			assert.Equal(t, want.sub, get(t, a, "sub_technique", "uid"))
		}
	}
}

// A finding's id is in its rule's namespace: the same row and time under
// two rules are two findings.
func TestFindingUIDPerRule(t *testing.T) {
	uid := func(r *rule.Rule) any {
		g := &aggregate.Group{Rule: r, Row: fullRow, Count: 1, First: first, Last: last}
		return get(t, ocsfDetection(t, detectionRecord(t, output.ProfileOCSF, testOptions(), g)), "finding_info", "uid")
	}
	assert.NotEqual(t, uid(rule.ESCU), uid(otherRule))
	assert.Regexp(t, uuidV8, uid(otherRule))
	// A rule whose id is no UUID still has ids of its own.
	notUUID := *noSubRule
	notUUID.ID = "not-a-uuid"
	assert.Regexp(t, uuidV8, uid(&notUUID))
	assert.NotEqual(t, uid(noSubRule), uid(&notUUID))
}
