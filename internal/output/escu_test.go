package output_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/o365detect/o365detect/internal/aggregate"
	"github.com/o365detect/o365detect/internal/output"
	"github.com/o365detect/o365detect/internal/rule"
)

var row = rule.Row{Dest: "org", User: "alice@contoso.com", Src: "203.0.113.10", VendorAccount: "org",
	VendorProduct: "Microsoft Office 365 AzureActiveDirectory", Signature: "Add a partner to cross-tenant access setting.", SignatureID: "id-1"}

var ruleAndRisk = map[string]any{
	"security_rule.name":                          "O365 Cross-Tenant Access Change",
	"security_rule.uuid":                          "7c0fa490-12b0-4d0b-b9f5-e101d1e0e06f",
	"security_rule.version":                       "7",
	"security_rule.category":                      "TTP",
	"security_rule.reference":                     "https://attack.mitre.org/techniques/T1484/002/",
	"security_rule.ruleset.name":                  "Splunk ESCU",
	"annotations.mitre_attack.mitre_technique_id": "T1484.002",
	"annotations.analytic_story":                  "Azure Active Directory Persistence",
	"risk_object":                                 "alice@contoso.com",
	"risk_object_type":                            "user",
	"risk_score":                                  int64(42),
	"risk_message":                                "The user [alice@contoso.com] changed the Azure cross-tenant access settings",
}

func rowAttrs() map[string]any {
	return map[string]any{
		"dest": "org", "user": "alice@contoso.com", "src": "203.0.113.10", "vendor_account": "org",
		"vendor_product": "Microsoft Office 365 AzureActiveDirectory",
		"signature":      "Add a partner to cross-tenant access setting.", "signature_id": "id-1",
	}
}

func TestTagKeepsOtherAttributes(t *testing.T) {
	attrs := pcommon.NewMap()
	attrs.PutStr("log.file.name", "audit.jsonl")
	escuProfile(t).Tag(attrs, output.Match{Rule: rule.ESCU, Row: row, Partner: "partner-tenant"})

	want := rowAttrs()
	for k, v := range ruleAndRisk {
		want[k] = v
	}
	want["log.file.name"] = "audit.jsonl"
	assert.Equal(t, want, attrs.AsRaw())
}

func TestDetection(t *testing.T) {
	g := &aggregate.Group{Rule: rule.ESCU, Row: row, Count: 3, Partners: []string{"partner-tenant"},
		First: time.Date(2025, 3, 4, 10, 0, 0, 900_000_000, time.UTC), Last: time.Date(2025, 3, 4, 11, 0, 0, 0, time.UTC)}
	lr := plog.NewLogRecord()
	escuProfile(t).Detection(lr, g)

	want := rowAttrs()
	for k, v := range ruleAndRisk {
		want[k] = v
	}
	want["count"] = int64(3)
	want["firstTime"] = "2025-03-04T10:00:00"
	want["lastTime"] = "2025-03-04T11:00:00"
	assert.Equal(t, want, lr.Attributes().AsRaw())
	assert.Equal(t, output.EventName, lr.EventName())
	assert.Equal(t, "The user [alice@contoso.com] changed the Azure cross-tenant access settings", lr.Body().Str())
	assert.Equal(t, plog.SeverityNumberWarn, lr.SeverityNumber())
}

func escuProfile(t *testing.T) output.Profile {
	p, err := output.New(output.ProfileESCU, output.Options{RiskScore: 42})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestUnknownProfile(t *testing.T) {
	_, err := output.New("cef", output.Options{RiskScore: 50})
	assert.ErrorContains(t, err, `unknown profile "cef"`)
}

// The row's attribute names are the rule's row fields.
func TestRowAttributeNames(t *testing.T) {
	assert.Equal(t, rule.RowFields, [rule.RowFieldCount]string{
		output.AttrDest, output.AttrUser, output.AttrSrc, output.AttrVendorAccount,
		output.AttrVendorProduct, output.AttrSignature, output.AttrSignatureID,
	})
}
