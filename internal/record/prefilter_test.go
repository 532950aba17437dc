package record_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/o365detect/o365detect/internal/record"
	"github.com/o365detect/o365detect/internal/repotest"
	"github.com/o365detect/o365detect/internal/rule"
)

// ruleActivities returns the Entra activities the rules match; a
// Management Activity operation is an activity with a period.
func ruleActivities(t *testing.T) []string {
	var out []string
	for _, r := range rule.Catalogue {
		out = append(out, r.Activities...)
	}
	require.NotEmpty(t, out)
	return out
}

var folds = []func(string) string{strings.ToLower, strings.ToUpper, func(s string) string { return s }}

// TestPrefilterAgreesWithRule: the prefilters keep their own copy of what
// the rules' values share; a record holding a rule's values, in any case
// and in every shape, must pass them, so the copy cannot drift from the
// rules.
func TestPrefilterAgreesWithRule(t *testing.T) {
	activities := ruleActivities(t)
	ops := []string{rule.OperationAdd, rule.OperationDelete}
	for _, a := range activities {
		// A KQL rule matches the activity as a phrase, within a longer
		// value too.
		ops = append(ops, a+".", a, "Note: "+a+" (preview)")
	}
	for _, op := range ops {
		for _, fold := range folds {
			s := `{"Workload":"` + fold(rule.Workload) + `","Operation":"` + fold(op) + `"}`
			assert.True(t, record.MayMatch(s), s)
		}
	}
	for _, activity := range activities {
		for _, fold := range folds {
			s := `{"activityDisplayName":"` + fold(activity) + `"}`
			assert.True(t, record.MayMatchEntra(s), s)
			for _, m := range []map[string]any{
				{"activityDisplayName": fold(activity)},
				{"azure.properties": map[string]any{}, "azure.operation.name": fold(activity)},
				{"properties": map[string]any{}, "operation.name": fold(activity)},
				{"azure.category": "AuditLogs", "activityDisplayName": fold(activity)},
			} {
				lr := plog.NewLogRecord()
				require.NoError(t, lr.Attributes().FromRaw(m))
				_, status := record.NewReader("Id").ReadEntra(lr, pcommon.NewResource(), nil, false)
				assert.Equal(t, record.Decoded, status, "%v", m)
			}
		}
	}
}

// TestESCUStillExact: a record the widened prefilter passes is read, and
// ESCU's rule still compares the exact operation.
func TestESCUStillExact(t *testing.T) {
	var rec record.Record
	rd := record.NewReader("Id")
	require.Equal(t, record.Decoded, rd.ReadJSON(`{"Workload":"AzureActiveDirectory","Operation":"Update a partner cross-tenant access setting."}`, &rec))
	assert.False(t, rule.Match(&rec))
	require.Equal(t, record.Decoded, rd.ReadJSON(`{"Workload":"AzureActiveDirectory","Operation":"add a partner to CROSS-TENANT access setting."}`, &rec))
	assert.True(t, rule.Match(&rec))
}

func TestMayMatchIsNecessary(t *testing.T) {
	// Every text the full decoder finds a candidate in must pass the
	// prefilter.
	candidates := []string{
		userRecord,
		`{"Workload" : "AZUREACTIVEDIRECTORY" , "Operation"	:	"delete PARTNER specific cross-tenant access setting."}`,
		`{"Operation":"Add a partner to cross\u002Dtenant access setting.","Workload":"AzureActiveDirectory"}`,
		`{"Workload":"Exchange","Workload":"AzureActiveDirectory","Operation":"Add a partner to cross-tenant access setting."}`,
		`{"Workload":"AzureActiveDirectory","Operation":"Add a partner to cross-tenant access setting"}`,
		`{"Workload":"AzureActiveDirectory","Operation":" Add a partner to cross-tenant access setting."}`,
		`{"Workload":"AzureActiveDirectory","Operation":"Update a partner cross-tenant access setting."}`,
		`{"Workload":"AzureActiveDirectory","Operation":"Cross-Tenant"}`,
		`{"Workload":"AzureActiveDirectory","Operation":"a\"cross-tenant\\"}`,
		`{"Workload":"AzureActiveDirectory","Operation":"\\cross-tenant"}`,
		`{"Workload":"AzureActiveDirectory","Operation":"cross\u002Dtenant"}`,
		`{"Workload":"AzureActiveDirectory","Operation":"\u0063ross-tenant"}`,
		`{"Workload":"AzureActiveDirectory","Operation":"x","Operation":"cross-tenant"}`,
		`{"Workload":"AzureActiveDirectory","x":{"Operation":"decoy"},"Operation":"cross-tenant"}`,
	}
	for _, s := range candidates {
		assert.True(t, record.MayMatch(s), s)
	}
	notCandidates := []string{
		`{"Workload":"Exchange","Operation":"Add a partner to cross-tenant access setting."}`,
		`{"workload":"AzureActiveDirectory","Operation":"Add a partner to cross-tenant access setting."}`,
		`{"Workload":"AzureActiveDirectory","operation":"Add a partner to cross-tenant access setting."}`,
		`{"Workload":"AzureActiveDirectory","Operation":"Update user."}`,
		`{"Workload":"AzureActiveDirectory","Operation":"cross tenant"}`,
		`{"Workload":"AzureActiveDirectory","Operation":"crosstenant"}`,
		`{"Workload":"AzureActiveDirectory","Operation":"cross-tenan"}`,
		`{"Workload":"AzureActiveDirectory","Operation":"ross-tenant"}`,
		`{"Workload":"AzureActiveDirectory","Operation":"cross` + "\u2010" + `tenant"}`,
		`{"Workload":"AzureActiveDirectory","Operation":"cross\u2010tenant"}`,
		`{"Workload":"AzureActiveDirectory","Operation":["cross-tenant"]}`,
		`{"Workload":"AzureActiveDirectory","Operation":"Update policy.","x":"cross-tenant"}`,
		`{"Workload":"AzureActiveDirectory","Operation":"a\\","x":"cross-tenant"}`,
		`{"Workload":"AzureActiveDirectory","Operation":"cross-`,
	}
	for _, s := range notCandidates {
		assert.False(t, record.MayMatch(s), s)
	}
}

func TestMayMatchEntra(t *testing.T) {
	assert.True(t, record.MayMatchEntra(`{"activityDisplayName" : "ADD A PARTNER TO CROSS-TENANT ACCESS SETTING"}`))
	assert.True(t, record.MayMatchEntra(`{"x":{"activityDisplayName":"delete partner specific cross-tenant access setting"}}`))
	assert.True(t, record.MayMatchEntra(`{"activityDisplayName":"Add a partner to cross-tenant access setting."}`), "the rules compare the exact name")
	assert.True(t, record.MayMatchEntra(`{"activityDisplayName":"x","activityDisplayName":"cross-tenant"}`))
	assert.True(t, record.MayMatchEntra(`{"activityDisplayName":"cross\u002dtenant"}`))
	assert.False(t, record.MayMatchEntra(`{"ActivityDisplayName":"Add a partner to cross-tenant access setting"}`), "keys are case-sensitive")
	assert.False(t, record.MayMatchEntra(`{"displayName":"Add a partner to cross-tenant access setting"}`))
	assert.False(t, record.MayMatchEntra(`{"activityDisplayName":"Update user","targetResources":[{"displayName":"cross-tenant"}]}`))
	assert.False(t, record.MayMatchEntra(`{"activityDisplayName":"Update user\\","x":"cross-tenant"}`))
}

// TestNonCandidatesStayRejected: the realistic records no rule can match,
// the benchmarks' non-matching ones, are still rejected by the prefilters
// without allocating, in every shape they are measured in.
func TestNonCandidatesStayRejected(t *testing.T) {
	nonMatching, candidates, _ := splitSample(t)
	require.NotEmpty(t, nonMatching)
	require.NotEmpty(t, candidates)
	rd := record.NewReader("Id")
	var rec record.Record
	for _, l := range nonMatching {
		assert.Equal(t, record.NotCandidate, rd.ReadJSON(l, &rec), l)
		lr := plog.NewLogRecord()
		lr.Body().SetStr(l)
		_, status := rd.ReadEntra(lr, pcommon.NewResource(), nil, false)
		assert.Equal(t, record.NotCandidate, status, l)
	}
	for _, l := range candidates {
		assert.NotEqual(t, record.NotCandidate, rd.ReadJSON(l, &rec), l)
	}
	allocs := testing.AllocsPerRun(10, func() {
		for _, l := range nonMatching {
			rd.ReadJSON(l, &rec)
		}
	})
	assert.Zero(t, allocs, "ReadJSON")

	res := pcommon.NewResource()
	var out []record.EntraRecord
	for _, lrs := range []plog.LogRecordSlice{azureNonMatching(t), attributeRecords(t)} {
		require.Positive(t, lrs.Len())
		for _, lr := range lrs.All() {
			var status record.Status
			out, status = rd.ReadEntra(lr, res, out[:0], true)
			assert.Equal(t, record.NotCandidate, status)
		}
		allocs := testing.AllocsPerRun(10, func() {
			for _, lr := range lrs.All() {
				out, _ = rd.ReadEntra(lr, res, out[:0], true)
			}
		})
		assert.Zero(t, allocs, "ReadEntra")
	}
	for _, name := range []string{"eventhub_other.jsonl"} {
		for _, l := range repotest.Lines(t, "entra", name) {
			n, _ := entraCandidates(l)
			lr := plog.NewLogRecord()
			lr.Body().SetStr(l)
			_, status := rd.ReadEntra(lr, res, nil, false)
			assert.Equal(t, n == 0, status == record.NotCandidate, l)
		}
	}
}

func TestEqualFoldASCII(t *testing.T) {
	assert.True(t, record.EqualFoldASCII("AzureActiveDirectory", "azureACTIVEdirectory"))
	assert.False(t, record.EqualFoldASCII("azureactivedirectory", "azureactivedirectorY "))
	// strings.EqualFold folds the Kelvin sign to k; Splunk's ASCII values never hold it.
	assert.False(t, record.EqualFoldASCII("\u212a", "k"))
	assert.False(t, record.EqualFoldASCII("[", "{"))
}
