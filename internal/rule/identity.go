package rule // import "github.com/o365detect/o365detect/internal/rule"

// Rule is a detection's identity and how its results are reported. It is
// declared once per detection; every output profile writes it from here.
type Rule struct {
	// Name, ID and Version are the rule's as its source ships it.
	Name    string
	ID      string
	Version string
	// Category is the detection type (ESCU's TTP, Anomaly, ...).
	Category    string
	Description string
	Authors     []string
	// Reference is the rule's main reference: for ESCU, the ATT&CK page
	// of its technique.
	Reference string
	// Ruleset is where the rule comes from: "Splunk ESCU", ...
	Ruleset string
	// SearchName is the Splunk search_name of a result, which ES uses to
	// name the rule that raised a risk event.
	SearchName    string
	AnalyticStory string
	// Techniques are the rule's ATT&CK techniques and Tactics their tactics,
	// in the order ATT&CK lists them.
	Techniques []Technique
	Tactics    []Tactic
	// RiskObjectType is what the risk object is: "user" for a row's user.
	RiskObjectType string
	// Message is the RBA risk message for a row's user.
	Message func(user string) string
}

// Technique is an ATT&CK technique or sub-technique. A sub-technique names
// its parent; a technique leaves Parent empty.
type Technique struct {
	ID, Name string
	Parent   *Technique
}

// Tactic is an ATT&CK tactic.
type Tactic struct {
	ID, Name string
}

// ATTACKVersion is the ATT&CK Enterprise release the mappings follow: v18.1,
// the last before v19 split Defense Evasion. From v15 (which renamed T1484
// "Domain or Tenant Policy Modification") to v18, T1484 and its
// sub-techniques sit under Defense Evasion and Privilege Escalation.
const ATTACKVersion = "18.1"

// ATT&CK entries the rules use.
var (
	domainPolicyModification = &Technique{ID: "T1484", Name: "Domain or Tenant Policy Modification"}
	trustModification        = &Technique{ID: "T1484.002", Name: "Trust Modification", Parent: domainPolicyModification}

	defenseEvasion      = Tactic{ID: "TA0005", Name: "Defense Evasion"}
	privilegeEscalation = Tactic{ID: "TA0004", Name: "Privilege Escalation"}
)

// ESCU is Splunk ESCU's "O365 Cross-Tenant Access Change", v7.
var ESCU = &Rule{
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
}

// catalogue holds every rule this version has, so that state written under
// a rule's id (the journal) finds the rule again.
var catalogue = []*Rule{ESCU}

// ByID returns the rule with the given id, or nil when there is none.
func ByID(id string) *Rule {
	for _, r := range catalogue {
		if r.ID == id {
			return r
		}
	}
	return nil
}
