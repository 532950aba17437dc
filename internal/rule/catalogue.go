package rule // import "github.com/o365detect/o365detect/internal/rule"

import (
	"strings"

	"github.com/o365detect/o365detect/internal/record"
)

// Catalogue holds every rule, in the order their tags and detection
// records are written.
var Catalogue = []*Rule{
	ESCU,
	SentinelOrganizationAdded, SentinelOrganizationDeleted,
	SentinelInboundCollaboration, SentinelOutboundCollaboration,
	SentinelInboundDirect, SentinelOutboundDirect,
	SyncInboundEnabled, AutoRedemptionEnabled, InboundTrustAccepted, DefaultSettingsChanged,
}

// The Entra activities the rules match, as Microsoft's audit activity
// reference spells them.
const (
	activityAddPartner    = EntraActivityAdd
	activityDeletePartner = EntraActivityDelete
	activityUpdatePartner = "Update a partner cross-tenant access setting"
	activityCreateSync    = "Create a partner cross-tenant identity sync setting"
	activityUpdateSync    = "Update a partner cross-tenant identity sync setting"
	activityUpdateDefault = "Update the company default cross-tenant access setting"
	activityResetDefault  = "Reset the cross-tenant access default setting"
)

// ATT&CK entries the rules use.
var (
	domainPolicyModification = &Technique{ID: "T1484", Name: "Domain or Tenant Policy Modification"}
	trustModification        = &Technique{ID: "T1484.002", Name: "Trust Modification", Parent: domainPolicyModification}
	validAccounts            = &Technique{ID: "T1078", Name: "Valid Accounts"}
	cloudAccounts            = &Technique{ID: "T1078.004", Name: "Cloud Accounts", Parent: validAccounts}
	createAccount            = &Technique{ID: "T1136", Name: "Create Account"}
	createCloudAccount       = &Technique{ID: "T1136.003", Name: "Cloud Account", Parent: createAccount}
	accountDiscovery         = &Technique{ID: "T1087", Name: "Account Discovery"}
	cloudAccountDiscovery    = &Technique{ID: "T1087.004", Name: "Cloud Account", Parent: accountDiscovery}
	accountManipulation      = &Technique{ID: "T1098", Name: "Account Manipulation"}
	modifyAuthProcess        = &Technique{ID: "T1556", Name: "Modify Authentication Process"}
	conditionalAccess        = &Technique{ID: "T1556.009", Name: "Conditional Access Policies", Parent: modifyAuthProcess}
	trustedRelationship      = &Technique{ID: "T1199", Name: "Trusted Relationship"}

	initialAccess       = Tactic{ID: "TA0001", Name: "Initial Access"}
	persistence         = Tactic{ID: "TA0003", Name: "Persistence"}
	privilegeEscalation = Tactic{ID: "TA0004", Name: "Privilege Escalation"}
	defenseEvasion      = Tactic{ID: "TA0005", Name: "Defense Evasion"}
	credentialAccess    = Tactic{ID: "TA0006", Name: "Credential Access"}
	discovery           = Tactic{ID: "TA0007", Name: "Discovery"}
)

// ESCU is Splunk ESCU's "O365 Cross-Tenant Access Change", v7.
var ESCU = &Rule{
	Key:      "escu",
	Name:     "O365 Cross-Tenant Access Change",
	ID:       "7c0fa490-12b0-4d0b-b9f5-e101d1e0e06f",
	Version:  "7",
	Category: "TTP",
	Description: "The following analytic identifies when cross-tenant access/synchronization policies are changed in an Azure tenant. " +
		"Adversaries have been observed altering victim cross-tenant policies as a method of lateral movement or maintaining persistent access to compromised environments. " +
		"These policies should be considered sensitive and monitored for changes and/or loose configuration.",
	Authors:        []string{"Steven Dick"},
	Reference:      "https://attack.mitre.org/techniques/T1484/002/",
	Ruleset:        "Splunk ESCU",
	SearchName:     "ESCU - O365 Cross-Tenant Access Change - Rule",
	AnalyticStory:  "Azure Active Directory Persistence",
	Techniques:     []Technique{*trustModification},
	Tactics:        []Tactic{defenseEvasion, privilegeEscalation},
	RiskObjectType: "user",
	Message: func(user string) string {
		return "The user [" + user + "] changed the Azure cross-tenant access settings"
	},
	Severity:   "medium",
	RiskScore:  50,
	References: []string{"https://research.splunk.com/cloud/7c0fa490-12b0-4d0b-b9f5-e101d1e0e06f/"},
	Activities: []string{activityAddPartner, activityDeletePartner},
	condition: func(c change, _ *DetectorOptions) (string, bool) {
		return pickPartner(c.partnerNew, c.partnerOld, record.EqualFoldASCII(strings.TrimSuffix(c.activity, "."), activityDeletePartner)), true
	},
}

// sentinelRule declares one of Microsoft Sentinel's cross-tenant access
// settings rules (solution "Microsoft Entra ID", v1.1.1): they share their
// metadata and their entity columns.
func sentinelRule(key, name, id, file, what string, activity string, condition func(c change, o *DetectorOptions) (string, bool)) *Rule {
	return &Rule{
		Key:      key,
		Name:     name,
		ID:       id,
		Version:  "1.1.1",
		Category: "Scheduled",
		Description: "Organizations are added in the Cross-tenant Access Settings to control communication inbound or outbound for users and applications. " +
			"This detection notifies when " + what,
		Authors:        []string{"Microsoft"},
		Reference:      "https://github.com/Azure/Azure-Sentinel/blob/master/Solutions/Microsoft%20Entra%20ID/Analytic%20Rules/" + file,
		Ruleset:        "Microsoft Sentinel",
		SearchName:     name,
		AnalyticStory:  "Microsoft Entra ID",
		Techniques:     []Technique{*cloudAccounts, *createCloudAccount, *cloudAccountDiscovery},
		Tactics:        []Tactic{initialAccess, persistence, discovery},
		RiskObjectType: "user",
		Message: func(user string) string {
			return name + " by [" + user + "]"
		},
		Severity:   "medium",
		RiskScore:  50,
		References: []string{"https://github.com/Azure/Azure-Sentinel/tree/master/Solutions/Microsoft%20Entra%20ID/Analytic%20Rules"},
		Activities: []string{activity},
		kqlHas:     true,
		condition:  condition,
	}
}

// The six Sentinel rules. Each keeps the rows of its query's two
// mv-applies: a target of type Policy (=~), a modified property by name
// (=~), its values through trim('"', tostring(...)).
var (
	SentinelOrganizationAdded = sentinelRule("sentinel_organization_added",
		"Cross-tenant Access Settings Organization Added", "757e6a79-6d23-4ae6-9845-4dac170656b5",
		"Cross-tenantAccessSettingsOrganizationAdded.yaml",
		"an Organization is added other than the list that is supposed to exist from the Microsoft Entra ID Cross-tenant Access Settings.",
		activityAddPartner,
		func(c change, o *DetectorOptions) (string, bool) {
			p := c.property("tenantId")
			if p == nil {
				return "", false
			}
			added := kqlTrimQuotes(p.NewValue)
			for _, expected := range o.ExpectedPartnerTenants {
				if added == expected { // !in is case-sensitive
					return "", false
				}
			}
			return added, true
		})
	SentinelOrganizationDeleted = sentinelRule("sentinel_organization_deleted",
		"Cross-tenant Access Settings Organization Deleted", "eb8a9c1c-f532-4630-817c-1ecd8a60ed80",
		"Cross-tenantAccessSettingsOrganizationDeleted.yaml",
		"an Organization is deleted from the Microsoft Entra ID Cross-tenant Access Settings.",
		activityDeletePartner,
		func(c change, _ *DetectorOptions) (string, bool) {
			p := c.property("tenantId")
			if p == nil {
				return "", false
			}
			return kqlTrimQuotes(p.OldValue), true
		})
	SentinelInboundCollaboration = sentinelSettingsRule("sentinel_inbound_collaboration_changed",
		"Cross-tenant Access Settings Organization Inbound Collaboration Settings Changed", "c895c5b9-0fc6-40ce-9830-e8818862f2d5",
		"Cross-tenantAccessSettingsOrganizationInboundCollaborationSettingsChanged.yaml",
		"Organization Inbound Collaboration Settings are changed", "b2bCollaborationInbound")
	SentinelOutboundCollaboration = sentinelSettingsRule("sentinel_outbound_collaboration_changed",
		"Cross-tenant Access Settings Organization Outbound Collaboration Settings Changed", "229f71ba-d83b-42a5-b83b-11a641049ed1",
		"Cross-tenantAccessSettingsOrganizationOutboundCollaborationSettingsChanged.yaml",
		"Organization Outbound Collaboration Settings are changed", "b2bCollaborationOutbound")
	SentinelInboundDirect = sentinelSettingsRule("sentinel_inbound_direct_changed",
		"Cross-tenant Access Settings Organization Inbound Direct Settings Changed", "276d5190-38de-4eb2-9933-b3b72f4a5737",
		"Cross-tenantAccessSettingsOrganizationInboundDirectSettingsChanged.yaml",
		"Organization Inbound Direct Settings are changed", "b2bDirectConnectInbound")
	SentinelOutboundDirect = sentinelSettingsRule("sentinel_outbound_direct_changed",
		"Cross-tenant Access Settings Organization Outbound Direct Settings Changed", "0101e08d-99cd-4a97-a9e0-27649c4369ad",
		"Cross-tenantAccessSettingsOrganizationOutboundDirectSettingsChanged.yaml",
		"Organization Outbound Direct Settings are changed", "b2bDirectConnectOutbound")
)

// sentinelSettingsRule is one of the four "settings changed" rules: the
// named property's old and new values differ (case-sensitively) after
// trim('"').
func sentinelSettingsRule(key, name, id, file, what, property string) *Rule {
	return sentinelRule(key, name, id, file, what+` for "Users & Groups" and for "Applications".`, activityUpdatePartner,
		func(c change, _ *DetectorOptions) (string, bool) {
			for i := range c.props {
				p := &c.props[i]
				if c.onPolicy(p) && strings.EqualFold(p.Name, property) && kqlTrimQuotes(p.OldValue) != kqlTrimQuotes(p.NewValue) {
					return c.partner(), true
				}
			}
			return "", false
		})
}

// ourRule declares a rule of this project's own.
func ourRule(key, name, id, message string, techniques []Technique, tactics []Tactic, activities []string, condition func(c change, o *DetectorOptions) (string, bool)) *Rule {
	return &Rule{
		Key:            key,
		Name:           name,
		ID:             id,
		Version:        "1",
		Category:       "TTP",
		Description:    message + ".",
		Authors:        []string{"o365detect"},
		Reference:      "https://attack.mitre.org/techniques/T1484/002/",
		Ruleset:        "o365detect",
		SearchName:     "o365detect - " + name + " - Rule",
		AnalyticStory:  "Azure Active Directory Persistence",
		Techniques:     techniques,
		Tactics:        tactics,
		RiskObjectType: "user",
		Message: func(user string) string {
			return "The user [" + user + "] " + strings.ToLower(message[:1]) + message[1:]
		},
		Severity:  "medium",
		RiskScore: 50,
		References: []string{
			"https://learn.microsoft.com/en-us/entra/identity/monitoring-health/reference-audit-activities",
			"https://learn.microsoft.com/en-us/entra/identity/multi-tenant-organizations/cross-tenant-synchronization-overview",
			"https://thehackernews.com/2023/08/emerging-attacker-exploit-microsoft.html",
			"https://www.crowdstrike.com/blog/crowdstrike-defends-against-azure-cross-tenant-synchronization-attacks/",
			"https://www.vectra.ai/blog/microsoft-cross-tenant-synchronization",
		},
		Activities: activities,
		condition:  condition,
	}
}

// Cross-tenant synchronization and the settings around it, which ESCU's
// references describe attackers changing and no peer detects.
var (
	SyncInboundEnabled = ourRule("sync_inbound_enabled",
		"O365 Cross-Tenant Inbound User Sync Enabled", "a51f911d-9cdf-481d-a7c0-3b35be42f065",
		"Turned on inbound user synchronization from a partner tenant",
		[]Technique{*trustModification, *createCloudAccount, *accountManipulation},
		[]Tactic{defenseEvasion, privilegeEscalation, persistence},
		[]string{activityCreateSync, activityUpdateSync},
		settingTurnedOn("userSyncInbound", "isSyncAllowed"))
	AutoRedemptionEnabled = ourRule("auto_redemption_enabled",
		"O365 Cross-Tenant Automatic Redemption Enabled", "78005963-85b5-4fb4-9d9f-f7c26eadf58c",
		"Turned on automatic redemption of invitations from a partner tenant",
		[]Technique{*trustModification, *accountManipulation},
		[]Tactic{defenseEvasion, privilegeEscalation, persistence},
		[]string{activityUpdatePartner},
		settingTurnedOn("automaticUserConsentSettings", "inboundAllowed"))
	InboundTrustAccepted = ourRule("inbound_trust_accepted",
		"O365 Cross-Tenant Inbound Trust Accepted", "b2c51bdb-63c0-4a0f-beae-1324f92b5567",
		"Accepted MFA or device claims from a partner tenant",
		[]Technique{*trustModification, *conditionalAccess},
		[]Tactic{defenseEvasion, privilegeEscalation, credentialAccess, persistence},
		[]string{activityUpdatePartner, activityUpdateDefault},
		settingTurnedOn("inboundTrust", "isMfaAccepted", "isCompliantDeviceAccepted", "isHybridAzureADJoinedDeviceAccepted"))
	DefaultSettingsChanged = ourRule("default_settings_changed",
		"O365 Cross-Tenant Default Settings Changed", "7017d2fa-cb88-405f-82ab-01d3608610eb",
		"Changed or reset the default cross-tenant access settings",
		[]Technique{*trustModification, *trustedRelationship},
		[]Tactic{defenseEvasion, privilegeEscalation, initialAccess},
		[]string{activityUpdateDefault, activityResetDefault},
		func(c change, _ *DetectorOptions) (string, bool) { return "", true })
)

// settingTurnedOn is the condition that one of keys went from off to on in
// the property named object (or object.key, or key).
func settingTurnedOn(object string, keys ...string) func(c change, _ *DetectorOptions) (string, bool) {
	return func(c change, _ *DetectorOptions) (string, bool) {
		for i := range c.props {
			p := &c.props[i]
			for _, key := range keys {
				if isSettingProperty(p.Name, object, key) && turnedOn(p, key) {
					return c.partner(), true
				}
			}
		}
		return "", false
	}
}

func isSettingProperty(name, object, key string) bool {
	return strings.EqualFold(name, object) || strings.EqualFold(name, key) || strings.EqualFold(name, object+"."+key)
}
