package o365detectprocessor

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/o365detect/o365detect/internal/output"
	"github.com/o365detect/o365detect/internal/repotest"
	"github.com/o365detect/o365detect/internal/rule"
)

// ruleCase is one line of testdata/rules/expected.jsonl.
type ruleCase struct {
	Line  int      `json:"line"`
	Case  string   `json:"case"`
	Rules []string `json:"rules"`
}

func ruleCases(t *testing.T) (lines []string, cases []ruleCase) {
	lines = repotest.Lines(t, "rules", "changes.jsonl")
	for _, l := range repotest.Lines(t, "rules", "expected.jsonl") {
		var c ruleCase
		require.NoError(t, json.Unmarshal([]byte(l), &c))
		cases = append(cases, c)
	}
	require.Len(t, cases, len(lines))
	return lines, cases
}

func allRulesConfig() *Config {
	cfg := testConfig()
	cfg.Rules = rule.Keys(rule.Catalogue)
	cfg.ExpectedPartnerTenants = []string{"11111111-2222-4333-8444-555555555555"}
	return cfg
}

// TestEveryRuleOnItsChanges runs each written change alone with every rule
// on, in each input shape a Management Activity record can take (Entra
// records are string bodies), and checks which rules report it: one
// detection record per rule, and the record tagged with the first.
func TestEveryRuleOnItsChanges(t *testing.T) {
	lines, cases := ruleCases(t)
	for i, c := range cases {
		t.Run(c.Case, func(t *testing.T) {
			h := newHarness(t, allRulesConfig())
			ld := logsOf(t, lines[i:i+1], shapeString)
			require.NoError(t, h.p.ConsumeLogs(context.Background(), ld))
			h.endWindow()
			var got []string
			for _, d := range detections(h.sink) {
				id, _ := d.Attributes().Get(output.AttrRuleUUID)
				r := rule.ByID(id.Str())
				require.NotNil(t, r, "detection of an unknown rule %q", id.Str())
				got = append(got, r.Key)
			}
			if len(c.Rules) == 0 {
				assert.Empty(t, got)
			} else {
				assert.Equal(t, c.Rules, got, "one detection record per rule, in catalogue order")
			}
			tagged := h.sink.AllLogs()[0].ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Attributes()
			name, ok := tagged.Get(output.AttrRuleName)
			if len(c.Rules) == 0 {
				assert.False(t, ok, "untagged")
				assert.Equal(t, 1, tagged.Len(), "only the file name it came with")
				return
			}
			require.True(t, ok)
			assert.Equal(t, rule.ByKey(c.Rules[0]).Name, name.Str(), "tagged with the first rule")
			sets, ok := tagged.Get(output.AttrRules)
			if len(c.Rules) == 1 {
				assert.False(t, ok, "one rule, one tag set")
				return
			}
			require.True(t, ok, "one tag set per rule")
			require.Equal(t, len(c.Rules), sets.Slice().Len())
			for j, key := range c.Rules {
				set := sets.Slice().At(j).Map()
				name, _ := set.Get(output.AttrRuleName)
				assert.Equal(t, rule.ByKey(key).Name, name.Str())
				user, _ := set.Get(output.AttrUser)
				top, _ := tagged.Get(output.AttrUser)
				assert.Equal(t, top.Str(), user.Str(), "the same row under each rule")
			}
		})
	}
}

// TestRulesOffByDefault: with the default rules setting only ESCU reports,
// and every other change passes through untouched.
func TestRulesOffByDefault(t *testing.T) {
	lines, cases := ruleCases(t)
	h := newHarness(t, testConfig())
	require.NoError(t, h.p.ConsumeLogs(context.Background(), logsOf(t, lines, shapeString)))
	h.endWindow()
	want := 0
	for _, c := range cases {
		if len(c.Rules) > 0 && c.Rules[0] == rule.ESCU.Key {
			want++
		}
	}
	dets := detections(h.sink)
	require.Len(t, dets, want)
	for _, d := range dets {
		id, _ := d.Attributes().Get(output.AttrRuleUUID)
		assert.Equal(t, rule.ESCU.ID, id.Str())
	}
	lrs := h.sink.AllLogs()[0].ResourceLogs().At(0).ScopeLogs().At(0).LogRecords()
	for i, c := range cases {
		_, tagged := lrs.At(i).Attributes().Get(output.AttrRuleName)
		assert.Equal(t, len(c.Rules) > 0 && c.Rules[0] == rule.ESCU.Key, tagged, c.Case)
	}
}

// TestRulesInManagementActivityShapes: a Management Activity change is
// read the same from a map body and from attributes.
func TestRulesInManagementActivityShapes(t *testing.T) {
	lines, cases := ruleCases(t)
	for i, c := range cases {
		var rec map[string]any
		require.NoError(t, json.Unmarshal([]byte(lines[i]), &rec))
		if _, ok := rec["Workload"]; !ok {
			continue
		}
		for _, sh := range []shape{shapeMap, shapeAttributes} {
			t.Run(c.Case+"/"+string(sh), func(t *testing.T) {
				h := newHarness(t, allRulesConfig())
				require.NoError(t, h.p.ConsumeLogs(context.Background(), logsOf(t, lines[i:i+1], sh)))
				h.endWindow()
				assert.Len(t, detections(h.sink), len(c.Rules))
			})
		}
	}
}

// TestRulesGolden pins every rule's detection records in every profile.
func TestRulesGolden(t *testing.T) {
	lines, _ := ruleCases(t)
	for _, profile := range output.Profiles {
		t.Run(profile, func(t *testing.T) {
			cfg := allRulesConfig()
			cfg.Profile = profile
			h := newHarness(t, cfg)
			require.NoError(t, h.p.ConsumeLogs(context.Background(), logsOf(t, lines, shapeString)))
			h.endWindow()
			all := h.sink.AllLogs()
			require.Len(t, all, 2)
			compareGolden(t, filepath.Join("testdata", "golden", "rules_"+profile+"_detections.yaml"), all[1], true)
		})
	}
}
