package rule

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/o365detect/o365detect/internal/record"
)

func TestCatalogueIsWellFormed(t *testing.T) {
	keys, ids := map[string]bool{}, map[string]bool{}
	for _, r := range Catalogue {
		assert.NotEmpty(t, r.Key)
		assert.False(t, keys[r.Key], "key %s twice", r.Key)
		assert.False(t, ids[r.ID], "id %s twice", r.ID)
		keys[r.Key], ids[r.ID] = true, true
		assert.Regexp(t, `^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`, r.ID, r.Key)
		assert.NotEmpty(t, r.Name, r.Key)
		assert.NotEmpty(t, r.Version, r.Key)
		assert.NotEmpty(t, r.Techniques, r.Key)
		assert.NotEmpty(t, r.Tactics, r.Key)
		assert.NotEmpty(t, r.Activities, r.Key)
		assert.NotNil(t, r.condition, r.Key)
		assert.Contains(t, r.Message("alice"), "alice", r.Key)
		assert.Same(t, r, ByID(r.ID))
		assert.Same(t, r, ByKey(r.Key))
		for _, a := range r.Activities {
			assert.Contains(t, a, "cross-tenant", "the prefilters let through only records whose activity holds cross-tenant")
		}
	}
	assert.Nil(t, ByKey("nope"))
}

func TestHasPhrase(t *testing.T) {
	const phrase = "Add a partner to cross-tenant access setting"
	for _, tt := range []struct {
		s    string
		want bool
	}{
		{"Add a partner to cross-tenant access setting", true},
		{"add a partner to CROSS-TENANT access setting", true},
		{"Add a partner to cross-tenant access setting.", true},
		{"Prefix: Add a partner to cross-tenant access setting (v2)", true},
		{"Add a partner to cross-tenant access settings", false},
		{"XAdd a partner to cross-tenant access setting", false},
		{"Add a partner to cross tenant access setting", false},
		{"Add a partner", false},
		{"", false},
		{"Add a partner to cross-tenant access settingé", false},
	} {
		assert.Equal(t, tt.want, hasPhrase(tt.s, phrase), "%q", tt.s)
	}
}

func TestKQLTrimQuotes(t *testing.T) {
	for in, want := range map[string]string{
		`"abc"`: "abc", `abc`: "abc", `""abc""`: `"abc"`, `"`: "", ``: "", `"abc`: "abc", `{"a":1}`: `{"a":1}`,
	} {
		assert.Equal(t, want, kqlTrimQuotes(in), "%q", in)
	}
}

func TestSettingTrue(t *testing.T) {
	for _, tt := range []struct {
		name  string
		value string
		isKey bool
		want  bool
	}{
		{"object", `{"isSyncAllowed":true}`, false, true},
		{"object, false", `{"isSyncAllowed":false}`, false, false},
		{"nested, another case", `{"userSyncInbound":{"IsSyncAllowed":"True"}}`, false, true},
		{"JSON in a JSON string", `"{\"isSyncAllowed\":true}"`, false, true},
		{"an array of one", `{"isSyncAllowed":["true"]}`, false, true},
		{"another key", `{"isMfaAccepted":true}`, false, false},
		{"the setting itself", `true`, true, true},
		{"the setting itself, quoted", `"true"`, true, true},
		{"the setting itself, in brackets", `["true"]`, true, true},
		{"the setting itself, false", `false`, true, false},
		{"a bare true that is not the setting", `true`, false, false},
		{"not JSON", `yes`, true, false},
		{"empty", ``, false, false},
	} {
		assert.Equal(t, tt.want, settingTrue(tt.value, "isSyncAllowed", tt.isKey), tt.name)
	}
}

// fixture is one candidate record, in the form the conditions read.
type fixture struct {
	activity string
	entra    bool
	props    []record.Property
}

func prop(target, name, oldValue, newValue string) record.Property {
	return record.Property{TargetType: target, Name: name, OldValue: oldValue, NewValue: newValue}
}

// hitOf runs r on f as the detector would: the activity, then the
// condition.
func hitOf(r *Rule, f fixture, o *DetectorOptions) (string, bool) {
	c := change{activity: f.activity, props: f.props, entra: f.entra}
	for _, p := range f.props {
		if p.Name == "tenantId" {
			c.partnerNew, c.partnerOld = kqlTrimQuotes(p.NewValue), kqlTrimQuotes(p.OldValue)
		}
	}
	if f.entra && !r.matchesActivity(f.activity) || !f.entra && !r.matchesOperation(f.activity) {
		return "", false
	}
	return r.condition(c, o)
}

func TestRules(t *testing.T) {
	const (
		partner = "9a2b7c1d-0000-4000-8000-00000000beef"
		quoted  = `"` + partner + `"`
		inbound = `{"usersAndGroups":{"accessType":1,"targets":[{"target":"AllUsers","targetType":1}]}}`
		blocked = `{"usersAndGroups":{"accessType":2,"targets":[{"target":"AllUsers","targetType":1}]}}`
	)
	addEntra := fixture{"Add a partner to cross-tenant access setting", true, []record.Property{prop("Policy", "tenantId", "", quoted)}}
	delEntra := fixture{"Delete partner specific cross-tenant access setting", true, []record.Property{prop("Policy", "tenantId", quoted, "")}}
	update := func(entra bool, props ...record.Property) fixture {
		a := "Update a partner cross-tenant access setting"
		if !entra {
			a += "."
		}
		return fixture{a, entra, props}
	}
	opts := &DetectorOptions{ExpectedPartnerTenants: []string{"11111111-1111-4111-8111-111111111111", "aaaaaaaa-1111-4111-8111-111111111111"}}
	for _, tt := range []struct {
		name        string
		rule        *Rule
		f           fixture
		want        bool
		wantPartner string
	}{
		{"ESCU: add", ESCU, addEntra, true, partner},
		{"ESCU: update is not its", ESCU, update(true, prop("Policy", "b2bCollaborationInbound", blocked, inbound)), false, ""},
		{"ESCU: UAL add", ESCU, fixture{"Add a partner to cross-tenant access setting.", false, addEntra.props}, true, partner},
		{"ESCU: UAL without the period", ESCU, fixture{"Add a partner to cross-tenant access setting", false, addEntra.props}, false, ""},

		{"Added: a partner", SentinelOrganizationAdded, addEntra, true, partner},
		{"Added: any case of activity and property", SentinelOrganizationAdded, fixture{"ADD A PARTNER TO CROSS-TENANT ACCESS SETTING", true, []record.Property{prop("policy", "TENANTID", "", quoted)}}, true, partner},
		{"Added: the UAL form (has ignores the period)", SentinelOrganizationAdded, fixture{"Add a partner to cross-tenant access setting.", false, []record.Property{prop("", "tenantId", "", quoted)}}, true, partner},
		{"Added: an expected tenant", SentinelOrganizationAdded, fixture{addEntra.activity, true, []record.Property{prop("Policy", "tenantId", "", `"11111111-1111-4111-8111-111111111111"`)}}, false, ""},
		{"Added: an expected tenant in another case (!in is case-sensitive)", SentinelOrganizationAdded, fixture{addEntra.activity, true, []record.Property{prop("Policy", "tenantId", "", `"AAAAAAAA-1111-4111-8111-111111111111"`)}}, true, "AAAAAAAA-1111-4111-8111-111111111111"},
		{"Added: on another target type", SentinelOrganizationAdded, fixture{addEntra.activity, true, []record.Property{prop("ServicePrincipal", "tenantId", "", quoted)}}, false, ""},
		{"Added: no tenantId property", SentinelOrganizationAdded, fixture{addEntra.activity, true, []record.Property{prop("Policy", "displayName", "", `"x"`)}}, false, ""},
		{"Added: a delete is not an add", SentinelOrganizationAdded, delEntra, false, ""},

		{"Deleted: a partner", SentinelOrganizationDeleted, delEntra, true, partner},
		{"Deleted: no list filters it", SentinelOrganizationDeleted, fixture{delEntra.activity, true, []record.Property{prop("Policy", "tenantId", `"11111111-1111-4111-8111-111111111111"`, "")}}, true, "11111111-1111-4111-8111-111111111111"},
		{"Deleted: on another target type", SentinelOrganizationDeleted, fixture{delEntra.activity, true, []record.Property{prop("User", "tenantId", quoted, "")}}, false, ""},

		{"Inbound collaboration: changed", SentinelInboundCollaboration, update(true, prop("Policy", "b2bCollaborationInbound", blocked, inbound)), true, ""},
		{"Inbound collaboration: set for the first time", SentinelInboundCollaboration, update(true, prop("Policy", "b2bCollaborationInbound", "", inbound)), true, ""},
		{"Inbound collaboration: old equals new", SentinelInboundCollaboration, update(true, prop("Policy", "b2bCollaborationInbound", inbound, inbound)), false, ""},
		{"Inbound collaboration: quotes only", SentinelInboundCollaboration, update(true, prop("Policy", "b2bCollaborationInbound", `"`+inbound+`"`, inbound)), false, ""},
		{"Inbound collaboration: another property", SentinelInboundCollaboration, update(true, prop("Policy", "b2bCollaborationOutbound", blocked, inbound)), false, ""},
		{"Inbound collaboration: another target type", SentinelInboundCollaboration, update(true, prop("Application", "b2bCollaborationInbound", blocked, inbound)), false, ""},
		{"Inbound collaboration: the name in another case", SentinelInboundCollaboration, update(true, prop("Policy", "B2BCOLLABORATIONINBOUND", blocked, inbound)), true, ""},
		{"Inbound collaboration: a case change is a change (!= is case-sensitive)", SentinelInboundCollaboration, update(true, prop("Policy", "b2bCollaborationInbound", `{"a":"X"}`, `{"a":"x"}`)), true, ""},
		{"Inbound collaboration: the UAL form", SentinelInboundCollaboration, update(false, prop("", "b2bCollaborationInbound", blocked, inbound)), true, ""},
		{"Inbound collaboration: with its partner", SentinelInboundCollaboration, update(true, prop("Policy", "tenantId", quoted, quoted), prop("Policy", "b2bCollaborationInbound", blocked, inbound)), true, partner},
		{"Outbound collaboration: changed", SentinelOutboundCollaboration, update(true, prop("Policy", "b2bCollaborationOutbound", blocked, inbound)), true, ""},
		{"Outbound collaboration: the inbound one is not its", SentinelOutboundCollaboration, update(true, prop("Policy", "b2bCollaborationInbound", blocked, inbound)), false, ""},
		{"Inbound direct: changed", SentinelInboundDirect, update(true, prop("Policy", "b2bDirectConnectInbound", blocked, inbound)), true, ""},
		{"Inbound direct: collaboration is not its", SentinelInboundDirect, update(true, prop("Policy", "b2bCollaborationInbound", blocked, inbound)), false, ""},
		{"Outbound direct: changed", SentinelOutboundDirect, update(true, prop("Policy", "b2bDirectConnectOutbound", blocked, inbound)), true, ""},
		{"Outbound direct: unchanged", SentinelOutboundDirect, update(true, prop("Policy", "b2bDirectConnectOutbound", inbound, inbound)), false, ""},

		{"Sync: created with inbound sync on", SyncInboundEnabled, fixture{"Create a partner cross-tenant identity sync setting", true, []record.Property{prop("", "userSyncInbound", "", `{"isSyncAllowed":true}`)}}, true, ""},
		{"Sync: turned on", SyncInboundEnabled, fixture{"Update a partner cross-tenant identity sync setting", true, []record.Property{prop("", "userSyncInbound", `{"isSyncAllowed":false}`, `{"isSyncAllowed":true}`)}}, true, ""},
		{"Sync: the setting named with its path", SyncInboundEnabled, fixture{"Update a partner cross-tenant identity sync setting", true, []record.Property{prop("", "userSyncInbound.isSyncAllowed", `"false"`, `"true"`)}}, true, ""},
		{"Sync: already on", SyncInboundEnabled, fixture{"Update a partner cross-tenant identity sync setting", true, []record.Property{prop("", "userSyncInbound", `{"isSyncAllowed":true}`, `{"isSyncAllowed":true}`)}}, false, ""},
		{"Sync: turned off", SyncInboundEnabled, fixture{"Update a partner cross-tenant identity sync setting", true, []record.Property{prop("", "userSyncInbound", `{"isSyncAllowed":true}`, `{"isSyncAllowed":false}`)}}, false, ""},
		{"Sync: the UAL form", SyncInboundEnabled, fixture{"Create a partner cross-tenant identity sync setting.", false, []record.Property{prop("", "userSyncInbound", "", `{"isSyncAllowed":true}`)}}, true, ""},
		{"Sync: another activity", SyncInboundEnabled, update(true, prop("", "userSyncInbound", "", `{"isSyncAllowed":true}`)), false, ""},

		{"Auto redemption: turned on", AutoRedemptionEnabled, update(true, prop("Policy", "automaticUserConsentSettings", `{"inboundAllowed":false,"outboundAllowed":false}`, `{"inboundAllowed":true,"outboundAllowed":false}`)), true, ""},
		{"Auto redemption: outbound only", AutoRedemptionEnabled, update(true, prop("Policy", "automaticUserConsentSettings", `{"inboundAllowed":false}`, `{"inboundAllowed":false,"outboundAllowed":true}`)), false, ""},
		{"Auto redemption: the UAL form", AutoRedemptionEnabled, update(false, prop("", "automaticUserConsentSettings", `{"inboundAllowed":null}`, `{"inboundAllowed":true}`)), true, ""},

		{"Inbound trust: MFA accepted", InboundTrustAccepted, update(true, prop("Policy", "inboundTrust", `{"isMfaAccepted":false}`, `{"isMfaAccepted":true}`)), true, ""},
		{"Inbound trust: compliant devices accepted on the default", InboundTrustAccepted, fixture{"Update the company default cross-tenant access setting", true, []record.Property{prop("Policy", "inboundTrust", "", `{"isCompliantDeviceAccepted":true}`)}}, true, ""},
		{"Inbound trust: hybrid joined devices", InboundTrustAccepted, update(true, prop("Policy", "inboundTrust", `{"isHybridAzureADJoinedDeviceAccepted":false}`, `{"isHybridAzureADJoinedDeviceAccepted":true}`)), true, ""},
		{"Inbound trust: tightened", InboundTrustAccepted, update(true, prop("Policy", "inboundTrust", `{"isMfaAccepted":true}`, `{"isMfaAccepted":false}`)), false, ""},

		{"Default: updated", DefaultSettingsChanged, fixture{"Update the company default cross-tenant access setting", true, nil}, true, ""},
		{"Default: reset", DefaultSettingsChanged, fixture{"Reset the cross-tenant access default setting", true, nil}, true, ""},
		{"Default: reset, UAL form", DefaultSettingsChanged, fixture{"Reset the cross-tenant access default setting.", false, nil}, true, ""},
		{"Default: a partner update is not the default", DefaultSettingsChanged, update(true), false, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			partner, ok := hitOf(tt.rule, tt.f, opts)
			require.Equal(t, tt.want, ok)
			assert.Equal(t, tt.wantPartner, partner)
		})
	}
}

func TestCatalogueFitsMaxRules(t *testing.T) {
	require.LessOrEqual(t, len(Catalogue), MaxRules)
	for i, r := range Catalogue {
		assert.Equal(t, i, Index(r))
	}
	assert.Equal(t, -1, Index(&Rule{}))
}
