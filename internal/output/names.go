// Package output writes the detection's results onto log records: the tags
// added to a matching input record and the detection record of each group,
// in one of several vocabularies (profiles). Every attribute name is defined
// once: the default escu profile's here, each other profile's in its own
// file.
package output // import "github.com/o365detect/o365detect/internal/output"

// EventName is the LogRecord EventName of every detection record.
const EventName = "o365_detect.detection"

// The ESCU result row. These names are the search's output fields, verbatim.
const (
	AttrCount         = "count"
	AttrFirstTime     = "firstTime"
	AttrLastTime      = "lastTime"
	AttrDest          = "dest"
	AttrUser          = "user"
	AttrSrc           = "src"
	AttrVendorAccount = "vendor_account"
	AttrVendorProduct = "vendor_product"
	AttrSignature     = "signature"
	AttrSignatureID   = "signature_id"
)

// The rule's identity, under the OpenTelemetry semantic conventions.
const (
	AttrRuleName        = "security_rule.name"
	AttrRuleUUID        = "security_rule.uuid"
	AttrRuleVersion     = "security_rule.version"
	AttrRuleCategory    = "security_rule.category"
	AttrRuleReference   = "security_rule.reference"
	AttrRuleRulesetName = "security_rule.ruleset.name"
)

// ATT&CK and risk have no semantic-convention home; they carry the names of
// Splunk's risk events (Risk data model), where an ESCU result lands.
const (
	AttrMitreTechniqueID = "annotations.mitre_attack.mitre_technique_id"
	AttrAnalyticStory    = "annotations.analytic_story"
	AttrRiskObject       = "risk_object"
	AttrRiskObjectType   = "risk_object_type"
	AttrRiskScore        = "risk_score"
	AttrRiskMessage      = "risk_message"
)

// AttrRules holds, on a record that several rules report, one map of tags
// per rule, in catalogue order; the record's own attributes carry the
// first rule's.
const AttrRules = "o365_detect.rules"
