package output_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/o365detect/o365detect/internal/output"
	"github.com/o365detect/o365detect/internal/rule"
)

var hecKeys = []string{"com.splunk.index", "com.splunk.source", "com.splunk.sourcetype"}

func TestSplunkHECRoutingOnlyOnDetections(t *testing.T) {
	tag := tagAttrs(t, output.ProfileSplunk, testOptions(), output.Match{Rule: rule.ESCU, Row: fullRow, Partner: partner1})
	for _, k := range hecKeys {
		assert.NotContains(t, tag, k, "a tagged record keeps its own index")
	}
	det := detectionRecord(t, output.ProfileSplunk, testOptions(), group(fullRow, nil)).Attributes().AsRaw()
	assert.Equal(t, "risk", det["com.splunk.index"])
	assert.Equal(t, "ESCU - O365 Cross-Tenant Access Change - Rule", det["com.splunk.source"])
	assert.Equal(t, "stash", det["com.splunk.sourcetype"])

	// Unset options write nothing, leaving the exporter's settings.
	opts := testOptions()
	opts.Splunk = output.SplunkOptions{Index: "risk"}
	det = detectionRecord(t, output.ProfileSplunk, opts, group(fullRow, nil)).Attributes().AsRaw()
	assert.Equal(t, "risk", det["com.splunk.index"])
	assert.NotContains(t, det, "com.splunk.source")
	assert.NotContains(t, det, "com.splunk.sourcetype")
}

func TestSplunkRiskEvent(t *testing.T) {
	lr := detectionRecord(t, output.ProfileSplunk, testOptions(), group(fullRow, []string{partner1, partner2}))
	det := lr.Attributes().AsRaw()
	want := map[string]any{
		"count": int64(3), "firstTime": "2025-03-04T10:00:00", "lastTime": "2025-03-04T11:00:00",
		"dest": tenant, "user": "alice@contoso.com", "src": "203.0.113.10", "vendor_account": tenant,
		"vendor_product": fullRow.VendorProduct, "signature": fullRow.Signature, "signature_id": fullRow.SignatureID,
		"risk_object": "alice@contoso.com", "risk_object_type": "user", "risk_score": int64(50),
		"risk_message": "The user [alice@contoso.com] changed the Azure cross-tenant access settings",
		"annotations.mitre_attack.mitre_technique_id": "T1484.002",
		"annotations.mitre_attack.mitre_tactic_id":    []any{"TA0005", "TA0004"},
		"annotations.analytic_story":                  "Azure Active Directory Persistence",
		"search_name":                                 "ESCU - O365 Cross-Tenant Access Change - Rule",
		"threat_object":                               []any{partner1, partner2},
		"threat_object_type":                          []any{"other", "other"},
		"com.splunk.index":                            "risk",
		"com.splunk.source":                           "ESCU - O365 Cross-Tenant Access Change - Rule",
		"com.splunk.sourcetype":                       "stash",
	}
	assert.Equal(t, want, det)
	// HEC drops an event without a body.
	assert.Equal(t, rule.ESCU.Message(fullRow.User), lr.Body().Str())
	assert.Equal(t, plog.SeverityNumberWarn, lr.SeverityNumber())
}

func TestSplunkTaggedThreatObject(t *testing.T) {
	tag := tagAttrs(t, output.ProfileSplunk, testOptions(), output.Match{Rule: rule.ESCU, Row: fullRow, Partner: partner1})
	assert.Equal(t, partner1, tag["threat_object"], "one record, one partner: a single value")
	assert.Equal(t, "other", tag["threat_object_type"])
	assert.Equal(t, "ESCU - O365 Cross-Tenant Access Change - Rule", tag["search_name"])
	for _, k := range []string{"count", "firstTime", "lastTime"} {
		assert.NotContains(t, tag, k)
	}

	tag = tagAttrs(t, output.ProfileSplunk, testOptions(), output.Match{Rule: rule.ESCU, Row: fullRow})
	assert.NotContains(t, tag, "threat_object")
	assert.NotContains(t, tag, "threat_object_type")
	det := detectionRecord(t, output.ProfileSplunk, testOptions(), group(fullRow, nil)).Attributes().AsRaw()
	assert.NotContains(t, det, "threat_object")
	assert.NotContains(t, det, "threat_object_type")
}

// fillnull's "0" stays: the splunk profile is ESCU's result as Splunk has it.
func TestSplunkKeepsFillnull(t *testing.T) {
	det := detectionRecord(t, output.ProfileSplunk, testOptions(), group(sparseRow, nil)).Attributes().AsRaw()
	assert.Equal(t, "0", det["risk_object"])
	assert.Equal(t, "0", det["src"])
	assert.Equal(t, "0", det["dest"])
}

// The escu profile writes no partner and no HEC routing: ESCU v7 declares no
// threat objects, and only the splunk profile routes.
func TestESCUHasNoPartnerOrRouting(t *testing.T) {
	det := detectionRecord(t, output.ProfileESCU, testOptions(), group(fullRow, []string{partner1})).Attributes().AsRaw()
	tag := tagAttrs(t, output.ProfileESCU, testOptions(), output.Match{Rule: rule.ESCU, Row: fullRow, Partner: partner1})
	for _, a := range []map[string]any{det, tag} {
		for _, k := range append([]string{"threat_object", "threat_object_type", "search_name", "annotations.mitre_attack.mitre_tactic_id"}, hecKeys...) {
			assert.NotContains(t, a, k)
		}
		for _, v := range a {
			assert.NotEqual(t, partner1, v)
		}
	}
}
