package rule // import "github.com/o365detect/o365detect/internal/rule"

// Rule is a detection's identity and how its results are reported. It is
// declared once per detection; every output profile writes it from here.
type Rule struct {
	// Key is the rule's name in the processor's rules setting.
	Key string
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
	// Severity is the rule's severity as its source states it, and
	// RiskScore the score of that severity's band.
	Severity  string
	RiskScore int
	// References are where the rule and its reasoning are published.
	References []string

	// What the rule matches: Activities are the Entra activity names (a
	// Management Activity Operation adds a period); a record with one of
	// them is handed to condition, which says whether it is a result and
	// which partner tenant it concerns ("" when none).
	Activities []string
	// kqlHas matches the activity as KQL's has does (a phrase of whole
	// terms, in any case) rather than as a whole value in any case.
	kqlHas bool
	// index is the rule's position in Catalogue.
	index     int
	condition func(c change, o *DetectorOptions) (partner string, ok bool)
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

// ByID returns the rule with the given id, or nil when there is none.
func ByID(id string) *Rule {
	for _, r := range Catalogue {
		if r.ID == id {
			return r
		}
	}
	return nil
}

// ByKey returns the rule configured as key, or nil when there is none.
func ByKey(key string) *Rule {
	for _, r := range Catalogue {
		if r.Key == key {
			return r
		}
	}
	return nil
}

// MaxRules bounds the catalogue, so that per-rule counts fit in arrays.
const MaxRules = 16

// Index returns r's position in the catalogue, or -1.
func Index(r *Rule) int {
	if r == nil || r.index >= len(Catalogue) || Catalogue[r.index] != r {
		return -1
	}
	return r.index
}

// The catalogue numbers its rules once, so that per-rule counts are found
// without a search for every hit.
func init() {
	for i, r := range Catalogue {
		r.index = i
	}
}
