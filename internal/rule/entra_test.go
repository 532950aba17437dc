package rule_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/o365detect/o365detect/internal/record"
	"github.com/o365detect/o365detect/internal/rule"
)

func TestMatchEntra(t *testing.T) {
	for activity, want := range map[string]bool{
		"Add a partner to cross-tenant access setting":         true,
		"delete PARTNER specific cross-tenant access setting":  true,
		"Add a partner to cross-tenant access setting.":        false,
		"Update a partner cross-tenant access setting":         false,
		" Delete partner specific cross-tenant access setting": false,
	} {
		e := record.EntraRecord{Activity: str(activity)}
		assert.Equal(t, want, rule.MatchEntra(&e), activity)
	}
	assert.False(t, rule.MatchEntra(&record.EntraRecord{Activity: record.Value{Kind: record.Composite}}))
}

func TestNewEntraRow(t *testing.T) {
	e := record.EntraRecord{
		Activity: str("Add a partner to cross-tenant access setting"), TenantID: "t",
		UPN: "", ServicePrincipalID: "sp", IPAddress: "", CallerIP: "198.51.100.1",
		ID: "", CorrelationID: "corr",
	}
	assert.Equal(t, rule.Row{Dest: "t", User: "sp", Src: "198.51.100.1", VendorAccount: "t", VendorProduct: "Microsoft Entra ID",
		Signature: "Add a partner to cross-tenant access setting", SignatureID: "corr"}, rule.NewEntraRow(&e, true))
	assert.Equal(t, "0", rule.NewEntraRow(&e, false).SignatureID)
	e.UPN, e.IPAddress, e.ID = "alice@contoso.com", "203.0.113.1", "Directory_x"
	row := rule.NewEntraRow(&e, true)
	assert.Equal(t, "alice@contoso.com", row.User)
	assert.Equal(t, "203.0.113.1", row.Src)
	assert.Equal(t, "Directory_x", row.SignatureID)
	assert.Equal(t, "0", rule.NewEntraRow(&record.EntraRecord{Activity: str("x")}, true).Dest)
	// The reader leaves a UPN that is not a string empty, like a missing one.
	assert.Equal(t, "0", rule.NewEntraRow(&record.EntraRecord{Activity: str("x")}, true).User, "no UPN and no service principal")
}

func TestEntraPartnerTenant(t *testing.T) {
	del := record.EntraRecord{Activity: str("Delete partner specific cross-tenant access setting"), PartnerTenantNew: "n", PartnerTenantOld: "o"}
	assert.Equal(t, "o", rule.EntraPartnerTenant(&del))
	add := record.EntraRecord{Activity: str("Add a partner to cross-tenant access setting"), PartnerTenantNew: "n"}
	assert.Equal(t, "n", rule.EntraPartnerTenant(&add))
}
