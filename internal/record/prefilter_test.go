package record_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/o365detect/o365detect/internal/record"
	"github.com/o365detect/o365detect/internal/rule"
)

// TestPrefilterAgreesWithRule: the prefilters keep their own copies of the
// values the rule matches; a record holding the rule's values, in any
// case, must pass them, so the copies cannot drift from the rule.
func TestPrefilterAgreesWithRule(t *testing.T) {
	for _, op := range []string{rule.OperationAdd, rule.OperationDelete} {
		for _, fold := range []func(string) string{strings.ToLower, strings.ToUpper, func(s string) string { return s }} {
			s := `{"Workload":"` + fold(rule.Workload) + `","Operation":"` + fold(op) + `"}`
			assert.True(t, record.MayMatch(s), s)
		}
	}
	for _, activity := range []string{rule.EntraActivityAdd, rule.EntraActivityDelete} {
		for _, fold := range []func(string) string{strings.ToLower, strings.ToUpper, func(s string) string { return s }} {
			s := `{"activityDisplayName":"` + fold(activity) + `"}`
			assert.True(t, record.MayMatchEntra(s), s)
		}
	}
}

func TestMayMatchIsNecessary(t *testing.T) {
	// Every text the full decoder matches must pass the prefilter.
	matching := []string{
		userRecord,
		`{"Workload" : "AZUREACTIVEDIRECTORY" , "Operation"	:	"delete PARTNER specific cross-tenant access setting."}`,
		`{"Operation":"Add a partner to cross\u002Dtenant access setting.","Workload":"AzureActiveDirectory"}`,
		`{"Workload":"Exchange","Workload":"AzureActiveDirectory","Operation":"Add a partner to cross-tenant access setting."}`,
	}
	for _, s := range matching {
		assert.True(t, record.MayMatch(s), s)
	}
	notMatching := []string{
		`{"Workload":"Exchange","Operation":"Add a partner to cross-tenant access setting."}`,
		`{"Workload":"AzureActiveDirectory","Operation":"Add a partner to cross-tenant access setting"}`,
		`{"Workload":"AzureActiveDirectory","Operation":" Add a partner to cross-tenant access setting."}`,
		`{"Workload":"AzureActiveDirectory","Operation":"Update a partner cross-tenant access setting."}`,
		`{"workload":"AzureActiveDirectory","Operation":"Add a partner to cross-tenant access setting."}`,
	}
	for _, s := range notMatching {
		assert.False(t, record.MayMatch(s), s)
	}
}

func TestMayMatchEntra(t *testing.T) {
	assert.True(t, record.MayMatchEntra(`{"activityDisplayName" : "ADD A PARTNER TO CROSS-TENANT ACCESS SETTING"}`))
	assert.True(t, record.MayMatchEntra(`{"x":{"activityDisplayName":"delete partner specific cross-tenant access setting"}}`))
	assert.False(t, record.MayMatchEntra(`{"activityDisplayName":"Add a partner to cross-tenant access setting."}`), "the Entra name has no period")
	assert.False(t, record.MayMatchEntra(`{"ActivityDisplayName":"Add a partner to cross-tenant access setting"}`), "keys are case-sensitive")
	assert.False(t, record.MayMatchEntra(`{"displayName":"Add a partner to cross-tenant access setting"}`))
}

func TestEqualFoldASCII(t *testing.T) {
	assert.True(t, record.EqualFoldASCII("AzureActiveDirectory", "azureACTIVEdirectory"))
	assert.False(t, record.EqualFoldASCII("azureactivedirectory", "azureactivedirectorY "))
	// strings.EqualFold folds the Kelvin sign to k; Splunk's ASCII values never hold it.
	assert.False(t, record.EqualFoldASCII("\u212a", "k"))
	assert.False(t, record.EqualFoldASCII("[", "{"))
}
