package output // import "github.com/o365detect/o365detect/internal/output"

import (
	"net/netip"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/o365detect/o365detect/internal/aggregate"
	"github.com/o365detect/o365detect/internal/rule"
)

// The ecs profile writes Elastic Common Schema fields as flat dotted
// attribute keys, which Elastic's OTLP intake (as passthrough attributes)
// and the elasticsearch exporter's ecs mapping mode (as document fields)
// both expose under their ECS names. ECS list fields (normalize: array) are
// written as slices.
//
// A tagged input record is an event (event.kind: event): it is the audit
// record of one change. The detection record is the alert (event.kind:
// alert): what Elastic Security's "External Alerts" rule
// (query event.kind:alert, severity from event.severity, risk score from
// event.risk_score, name from message) turns into a Security alert. Tagging
// the raw records as alerts too would raise one alert per record on top of
// the aggregated one.
const (
	ecsVersionField  = "ecs.version"
	ecsEventKind     = "event.kind"
	ecsEventCategory = "event.category"
	ecsEventType     = "event.type"
	ecsEventAction   = "event.action"
	ecsEventOutcome  = "event.outcome"
	ecsEventID       = "event.id"
	ecsEventStart    = "event.start"
	ecsEventEnd      = "event.end"
	ecsEventDuration = "event.duration"
	ecsRiskScore     = "event.risk_score"
	ecsSeverity      = "event.severity"

	ecsRuleName        = "rule.name"
	ecsRuleID          = "rule.id"
	ecsRuleUUID        = "rule.uuid"
	ecsRuleVersion     = "rule.version"
	ecsRuleCategory    = "rule.category"
	ecsRuleDescription = "rule.description"
	ecsRuleReference   = "rule.reference"
	ecsRuleRuleset     = "rule.ruleset"
	ecsRuleAuthor      = "rule.author"

	ecsThreatFramework       = "threat.framework"
	ecsTacticID              = "threat.tactic.id"
	ecsTacticName            = "threat.tactic.name"
	ecsTacticReference       = "threat.tactic.reference"
	ecsTechniqueID           = "threat.technique.id"
	ecsTechniqueName         = "threat.technique.name"
	ecsTechniqueReference    = "threat.technique.reference"
	ecsSubtechniqueID        = "threat.technique.subtechnique.id"
	ecsSubtechniqueName      = "threat.technique.subtechnique.name"
	ecsSubtechniqueReference = "threat.technique.subtechnique.reference"

	ecsUserName       = "user.name"
	ecsSourceAddress  = "source.address"
	ecsSourceIP       = "source.ip"
	ecsSourcePort     = "source.port"
	ecsCloudProvider  = "cloud.provider"
	ecsCloudAccountID = "cloud.account.id"
	ecsOrganizationID = "organization.id"

	// ECS has no field for an aggregate's record count nor for the tenant
	// a change targets, so these are custom fields in the project's own
	// namespace.
	ecsCustomCount           = "o365detect.count"
	ecsCustomPartnerTenantID = "o365detect.partner_tenant.id"
)

// ecsVersion is the ECS release the fields above were checked against; ECS
// requires it on every event. It is 9.4.0, the release current when the
// schema was read (its main branch then said 9.5.0-dev, which is no
// release). Every field written is defined in every release since 8.0, so
// the version moves only when the field set is checked against a newer one.
const ecsVersion = "9.4.0"

// ECS values.
const (
	ecsKindAlert           = "alert"
	ecsKindEvent           = "event"
	ecsCategoryIAM         = "iam"
	ecsCategoryConfig      = "configuration"
	ecsTypeChange          = "change"
	ecsOutcomeUnknown      = "unknown"
	ecsProviderAzure       = "azure"
	ecsFrameworkMitre      = "MITRE ATT&CK"
	ecsDetectionAttributes = 41 // capacity hint
)

type ecs struct {
	riskScore float64
	severity  int64
}

func newECS(opts Options) *ecs {
	return &ecs{riskScore: float64(opts.RiskScore), severity: riskBandOf(opts.RiskScore).elasticSeverity()}
}

func (w *ecs) Tag(attrs pcommon.Map, m Match) {
	// One growth of the attribute slice instead of one per doubling.
	attrs.EnsureCapacity(attrs.Len() + 35)
	attrs.PutStr(ecsEventKind, ecsKindEvent)
	w.put(attrs, &m.Row)
	if m.Partner != "" {
		attrs.PutStr(ecsCustomPartnerTenantID, m.Partner)
	}
}

func (w *ecs) Detection(lr plog.LogRecord, g *aggregate.Group) {
	markDetection(lr)
	// The body becomes ECS message, which the External Alerts rule uses as
	// the alert's name.
	lr.Body().SetStr(rule.ESCU.Message(g.Row.User))
	attrs := lr.Attributes()
	attrs.EnsureCapacity(ecsDetectionAttributes)
	attrs.PutStr(ecsEventKind, ecsKindAlert)
	attrs.PutStr(ecsEventID, findingUID(findingKindDetection, &g.Row, g.First))
	attrs.PutStr(ecsEventStart, ecsTime(g.First))
	attrs.PutStr(ecsEventEnd, ecsTime(g.Last))
	attrs.PutInt(ecsEventDuration, g.Last.Sub(g.First).Nanoseconds())
	attrs.PutInt(ecsCustomCount, g.Count)
	w.put(attrs, &g.Row)
	if len(g.Partners) > 0 {
		putStrs(attrs, ecsCustomPartnerTenantID, g.Partners...)
	}
}

// put writes the fields shared by tagged and detection records.
func (w *ecs) put(attrs pcommon.Map, row *rule.Row) {
	attrs.PutStr(ecsVersionField, ecsVersion)
	putStrs(attrs, ecsEventCategory, ecsCategoryIAM, ecsCategoryConfig)
	putStrs(attrs, ecsEventType, ecsTypeChange)
	attrs.PutStr(ecsEventAction, row.Signature)
	// The row has no result status, so the outcome is not known here.
	attrs.PutStr(ecsEventOutcome, ecsOutcomeUnknown)
	attrs.PutDouble(ecsRiskScore, w.riskScore)
	attrs.PutInt(ecsSeverity, w.severity)

	attrs.PutStr(ecsRuleName, rule.ESCU.Name)
	attrs.PutStr(ecsRuleID, rule.ESCU.ID)
	attrs.PutStr(ecsRuleUUID, rule.ESCU.ID)
	attrs.PutStr(ecsRuleVersion, rule.ESCU.Version)
	attrs.PutStr(ecsRuleCategory, rule.ESCU.Category)
	attrs.PutStr(ecsRuleDescription, ruleDescription)
	attrs.PutStr(ecsRuleReference, rule.ESCU.Reference)
	attrs.PutStr(ecsRuleRuleset, rule.ESCU.Ruleset)
	putStrs(attrs, ecsRuleAuthor, ruleAuthor)

	attrs.PutStr(ecsThreatFramework, ecsFrameworkMitre)
	ids, names, refs := attrs.PutEmptySlice(ecsTacticID), attrs.PutEmptySlice(ecsTacticName), attrs.PutEmptySlice(ecsTacticReference)
	for _, t := range attackTactics {
		ids.AppendEmpty().SetStr(t.id)
		names.AppendEmpty().SetStr(t.name)
		refs.AppendEmpty().SetStr(t.url)
	}
	putStrs(attrs, ecsTechniqueID, attackTechniqueID)
	putStrs(attrs, ecsTechniqueName, attackTechniqueName)
	putStrs(attrs, ecsTechniqueReference, attackTechniqueRef)
	putStrs(attrs, ecsSubtechniqueID, rule.ESCU.Techniques[0].ID)
	putStrs(attrs, ecsSubtechniqueName, rule.ESCU.Techniques[0].Name)
	putStrs(attrs, ecsSubtechniqueReference, attackSubtechniqueRef)

	// fillnull's "0" is not a value in ECS, where a missing field means
	// unknown: a user.name of "0" would become an entity in Elastic's entity
	// risk scoring, and source.ip is mapped as an ip.
	if known(row.User) {
		attrs.PutStr(ecsUserName, row.User)
	}
	if known(row.Src) {
		attrs.PutStr(ecsSourceAddress, row.Src)
		if ip, port, ok := parseIP(row.Src); ok {
			attrs.PutStr(ecsSourceIP, ip)
			if port != 0 {
				attrs.PutInt(ecsSourcePort, port)
			}
		}
	}
	// The tenant (OrganizationId) is organization.id, where Elastic's own
	// o365 integration puts it, and cloud.account.id, ECS's "cloud account
	// or organization id used to identify different entities in a
	// multi-tenant environment".
	attrs.PutStr(ecsCloudProvider, ecsProviderAzure)
	if known(row.Dest) {
		attrs.PutStr(ecsCloudAccountID, row.Dest)
		attrs.PutStr(ecsOrganizationID, row.Dest)
	}
}

// ecsTime renders an event time as an ECS date: RFC 3339 in UTC with Z and
// the fraction kept (Elasticsearch dates hold milliseconds or nanoseconds).
func ecsTime(t time.Time) string {
	return t.UTC().Format(time.RFC3339Nano)
}

// The following are shared by the ecs, splunk and ocsf profiles.

// ruleDescription is the ESCU v7 description of the detection.
const ruleDescription = "The following analytic identifies when cross-tenant access/synchronization policies are changed in an Azure tenant. " +
	"Adversaries have been observed altering victim cross-tenant policies as a method of lateral movement or maintaining persistent access to compromised environments. " +
	"These policies should be considered sensitive and monitored for changes and/or loose configuration."

// ruleAuthor is the ESCU detection's author.
const ruleAuthor = "Steven Dick"

// The ATT&CK mapping of the detection's only technique, T1484.002. It
// follows ATT&CK Enterprise v18.1, the last release before v19 split
// Defense Evasion: from v15 (which renamed T1484 "Domain or Tenant Policy
// Modification") to v18, T1484 and its sub-techniques sit under Defense
// Evasion and Privilege Escalation.
const (
	attackVersion       = "18.1"
	attackTechniqueID   = "T1484"
	attackTechniqueName = "Domain or Tenant Policy Modification"
	attackBaseURL       = "https://attack.mitre.org/"
)

type attackTactic struct{ id, name, url string }

func newAttackTactic(id, name string) attackTactic {
	return attackTactic{id: id, name: name, url: attackTacticURL(id)}
}

// attackTactics are T1484's tactics, in the order ATT&CK lists them.
var attackTactics = [...]attackTactic{
	newAttackTactic("TA0005", "Defense Evasion"),
	newAttackTactic("TA0004", "Privilege Escalation"),
}

// The ATT&CK pages of the technique and the sub-technique, built once
// rather than for every record written.
var (
	attackTechniqueRef    = attackTechniqueURL(attackTechniqueID)
	attackSubtechniqueRef = attackTechniqueURL(rule.ESCU.Techniques[0].ID)
)

// attackTechniqueURL is the ATT&CK page of a technique or sub-technique:
// T1484 → …/techniques/T1484/, T1484.002 → …/techniques/T1484/002/.
func attackTechniqueURL(id string) string {
	return attackBaseURL + "techniques/" + strings.ReplaceAll(id, ".", "/") + "/"
}

// attackTacticURL is the ATT&CK page of a tactic.
func attackTacticURL(id string) string {
	return attackBaseURL + "tactics/" + id + "/"
}

// riskBand is the severity band of an RBA risk score, as contentctl derives
// an ESCU detection's severity from it (rba.py): 0–20 informational, 21–40
// low, 41–60 medium, 61–80 high, 81–100 critical.
type riskBand int

const (
	bandInformational riskBand = iota
	bandLow
	bandMedium
	bandHigh
	bandCritical
)

func riskBandOf(score int) riskBand {
	switch {
	case score <= 20:
		return bandInformational
	case score <= 40:
		return bandLow
	case score <= 60:
		return bandMedium
	case score <= 80:
		return bandHigh
	default:
		return bandCritical
	}
}

// elasticSeverity is the event.severity that Elastic's External Alerts rule
// maps to the band's alert severity (21 low, 47 medium, 73 high, 99
// critical). Elastic has no informational severity; that band maps to low.
func (b riskBand) elasticSeverity() int64 {
	return [...]int64{21, 21, 47, 73, 99}[b]
}

// known reports whether a row value is a value: not empty and not
// fillnull's "0".
func known(s string) bool {
	return s != "" && s != rule.Fill
}

// parseIP reads src as an IP address, with or without a port ("1.2.3.4",
// "2001:db8::1", "1.2.3.4:50000", "[2001:db8::1]:50000"), and returns it in
// canonical form. A zoned IPv6 address is not accepted: Elasticsearch's ip
// type has no zones.
func parseIP(src string) (ip string, port int64, ok bool) {
	if a, err := netip.ParseAddr(src); err == nil {
		if a.Zone() != "" {
			return "", 0, false
		}
		return a.String(), 0, true
	}
	if ap, err := netip.ParseAddrPort(src); err == nil && ap.Addr().Zone() == "" {
		return ap.Addr().String(), int64(ap.Port()), true
	}
	return "", 0, false
}

// putStrs writes a string slice attribute.
func putStrs(attrs pcommon.Map, key string, vals ...string) {
	s := attrs.PutEmptySlice(key)
	s.EnsureCapacity(len(vals))
	for _, v := range vals {
		s.AppendEmpty().SetStr(v)
	}
}
