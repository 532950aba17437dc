package output // import "github.com/o365detect/o365detect/internal/output"

import (
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
// requires it on every event. Every field written is defined in every
// release since 8.0, so the version moves only when the field set is checked
// against a newer one.
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

// ecsRuleKeys are ECS's rule.* fields. ECS wants rule.id unique within the
// product that detects and rule.uuid unique across products; a rule's id,
// a UUID, is both.
var ecsRuleKeys = ruleKeys{
	name: ecsRuleName, id: ecsRuleID, uuid: ecsRuleUUID, version: ecsRuleVersion, category: ecsRuleCategory,
	description: ecsRuleDescription, reference: ecsRuleReference, ruleset: ecsRuleRuleset, authors: ecsRuleAuthor,
}

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
	w.put(attrs, m.Rule, &m.Row)
	if m.Partner != "" {
		attrs.PutStr(ecsCustomPartnerTenantID, m.Partner)
	}
}

func (w *ecs) Detection(lr plog.LogRecord, g *aggregate.Group) {
	markDetection(lr)
	// The body becomes ECS message, which the External Alerts rule uses as
	// the alert's name.
	lr.Body().SetStr(g.Rule.Message(g.Row.User))
	attrs := lr.Attributes()
	attrs.EnsureCapacity(ecsDetectionAttributes)
	attrs.PutStr(ecsEventKind, ecsKindAlert)
	attrs.PutStr(ecsEventID, findingUID(&dataOf(g.Rule).namespace, findingKindDetection, &g.Row, g.First))
	attrs.PutStr(ecsEventStart, ecsTime(g.First))
	attrs.PutStr(ecsEventEnd, ecsTime(g.Last))
	attrs.PutInt(ecsEventDuration, g.Last.Sub(g.First).Nanoseconds())
	attrs.PutInt(ecsCustomCount, g.Count)
	w.put(attrs, g.Rule, &g.Row)
	if len(g.Partners) > 0 {
		putStrs(attrs, ecsCustomPartnerTenantID, g.Partners...)
	}
}

// put writes the fields shared by tagged and detection records.
func (w *ecs) put(attrs pcommon.Map, r *rule.Rule, row *rule.Row) {
	attrs.PutStr(ecsVersionField, ecsVersion)
	putStrs(attrs, ecsEventCategory, ecsCategoryIAM, ecsCategoryConfig)
	putStrs(attrs, ecsEventType, ecsTypeChange)
	attrs.PutStr(ecsEventAction, row.Signature)
	// The row has no result status, so the outcome is not known here.
	attrs.PutStr(ecsEventOutcome, ecsOutcomeUnknown)
	attrs.PutDouble(ecsRiskScore, w.riskScore)
	attrs.PutInt(ecsSeverity, w.severity)

	putRuleIdentity(attrs, &ecsRuleKeys, r)

	attack := &dataOf(r).attack
	attrs.PutStr(ecsThreatFramework, ecsFrameworkMitre)
	putAttackFields(attrs, ecsTacticID, ecsTacticName, ecsTacticReference, attack.tactics)
	putAttackFields(attrs, ecsTechniqueID, ecsTechniqueName, ecsTechniqueReference, attack.techniques)
	// ECS leaves out a field that has no value rather than write it empty,
	// as for the row's fields below.
	if len(attack.subtechniques) > 0 {
		putAttackFields(attrs, ecsSubtechniqueID, ecsSubtechniqueName, ecsSubtechniqueReference, attack.subtechniques)
	}

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
