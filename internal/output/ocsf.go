package output // import "github.com/o365detect/o365detect/internal/output"

import (
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/o365detect/o365detect/internal/aggregate"
	"github.com/o365detect/o365detect/internal/rule"
)

// The ocsf profile writes OCSF Detection Findings (class 2004), schema
// version OCSFVersion, with the cloud profile.
//
// The detection record's body is the finding, as a map. Its only attribute
// is AttrOCSFClassUID, for routing (for example a routing connector sending
// each class to its own table); everything else is in the body.
//
// A tagged input record keeps its body and gains one map attribute,
// AttrOCSF: a finding for that record alone (count 1, start, end and time
// the record's event time, is_alert false: the aggregated detection is the
// alert).
const (
	OCSFVersion      = "1.5.0"
	AttrOCSF         = "ocsf"
	AttrOCSFClassUID = "ocsf.class_uid"
)

// Classification of a Detection Finding: Create.
const (
	ocsfCategoryUID  = 2
	ocsfClassUID     = 2004
	ocsfActivityID   = 1
	ocsfTypeUID      = ocsfClassUID*100 + ocsfActivityID
	ocsfStatusIDNew  = 1
	ocsfAnalyticRule = 1
	// ocsfM365Tenant is account.type_id "M365 Tenant".
	ocsfM365Tenant = 17
	// Observable type_ids.
	ocsfObservableIP          = 2
	ocsfObservableUserName    = 4
	ocsfObservableResourceUID = 10
)

// The producer, in metadata.product.
const (
	ocsfProductName = "o365detect"
	ocsfVendorName  = "o365detect"
	ocsfFeatureName = "o365_detect"
)

// ocsfCloudProvider is cloud.provider: O365 and Entra ID are Microsoft's
// services rather than Azure subscriptions.
const ocsfCloudProvider = "Microsoft"

// ocsfPartnerType is resources[].type of the partner tenant.
const ocsfPartnerType = "Tenant"

type ocsf struct {
	riskScore int64
	band      riskBand
}

func newOCSF(opts Options) *ocsf {
	return &ocsf{riskScore: int64(opts.RiskScore), band: riskBandOf(opts.RiskScore)}
}

// finding is what a Detection Finding is made of.
type finding struct {
	kind        string
	rule        *rule.Rule
	row         *rule.Row
	partners    []string
	count       int64
	first, last time.Time
	// time is the finding's time: when it was created.
	time  time.Time
	alert bool
}

func (w *ocsf) Tag(attrs pcommon.Map, m Match) {
	var partners []string
	if m.Partner != "" {
		partners = []string{m.Partner}
	}
	w.fill(attrs.PutEmptyMap(AttrOCSF), &finding{
		kind: findingKindEvent, rule: m.Rule, row: &m.Row, partners: partners,
		count: 1, first: m.EventTime, last: m.EventTime, time: m.EventTime,
	})
}

// Detection writes the finding created now: time is the record's Timestamp,
// the emission time the caller sets before calling it, or the group's last
// event time when that is unset.
func (w *ocsf) Detection(lr plog.LogRecord, g *aggregate.Group) {
	markDetection(lr)
	created := g.Last
	if ts := lr.Timestamp(); ts != 0 {
		created = ts.AsTime()
	}
	w.fill(lr.Body().SetEmptyMap(), &finding{
		kind: findingKindDetection, rule: g.Rule, row: &g.Row, partners: g.Partners,
		count: g.Count, first: g.First, last: g.Last, time: created, alert: true,
	})
	lr.Attributes().PutInt(AttrOCSFClassUID, ocsfClassUID)
}

// fill writes in as a Detection Finding. The order of the parts is the
// order of the finding's keys, which the golden files pin.
func (w *ocsf) fill(f pcommon.Map, in *finding) {
	f.EnsureCapacity(32)
	putClassification(f)
	f.PutInt("severity_id", w.band.ocsfSeverityID())
	f.PutStr("severity", w.band.ocsfSeverity())
	f.PutInt("status_id", ocsfStatusIDNew)
	f.PutStr("status", "New")
	putTimes(f, in)
	f.PutStr("message", in.rule.Message(in.row.User))
	f.PutBool("is_alert", in.alert)
	w.putRisk(f)
	d := dataOf(in.rule)
	putFindingInfo(f.PutEmptyMap("finding_info"), d, in)
	// The observables are gathered from the evidences and resources as
	// they are written.
	obs := pcommon.NewSlice()
	putEvidences(f, obs, in.row)
	putResources(f, obs, in.partners)
	putCloud(f.PutEmptyMap("cloud"), in.row)
	if obs.Len() > 0 {
		obs.MoveAndAppendTo(f.PutEmptySlice("observables"))
	}
	putMetadata(f.PutEmptyMap("metadata"))
}

func putClassification(f pcommon.Map) {
	f.PutInt("activity_id", ocsfActivityID)
	f.PutStr("activity_name", "Create")
	f.PutInt("category_uid", ocsfCategoryUID)
	f.PutStr("category_name", "Findings")
	f.PutInt("class_uid", ocsfClassUID)
	f.PutStr("class_name", "Detection Finding")
	f.PutInt("type_uid", ocsfTypeUID)
	f.PutStr("type_name", "Detection Finding: Create")
}

func putTimes(f pcommon.Map, in *finding) {
	f.PutInt("time", in.time.UnixMilli())
	f.PutInt("start_time", in.first.UnixMilli())
	f.PutInt("end_time", in.last.UnixMilli())
	f.PutInt("duration", in.last.Sub(in.first).Milliseconds())
	f.PutInt("count", in.count)
	f.PutInt("timezone_offset", 0)
}

func (w *ocsf) putRisk(f pcommon.Map) {
	f.PutInt("risk_score", w.riskScore)
	f.PutInt("risk_level_id", w.band.ocsfRiskLevelID())
	f.PutStr("risk_level", w.band.ocsfRiskLevel())
}

// putFindingInfo writes finding_info: the finding's identity, the analytic
// (the rule) and its ATT&CK mapping.
func putFindingInfo(fi pcommon.Map, d *ruleData, in *finding) {
	r, row := in.rule, in.row
	fi.PutStr("uid", findingUID(&d.namespace, in.kind, row, in.first))
	fi.PutStr("title", r.Name)
	fi.PutStr("desc", r.Description)
	putStrs(fi, "types", r.AnalyticStory)
	fi.PutInt("first_seen_time", in.first.UnixMilli())
	fi.PutInt("last_seen_time", in.last.UnixMilli())
	fi.PutInt("related_events_count", in.count)
	an := fi.PutEmptyMap("analytic")
	an.PutStr("name", r.Name)
	an.PutStr("uid", r.ID)
	an.PutInt("type_id", ocsfAnalyticRule)
	an.PutStr("type", "Rule")
	an.PutStr("version", r.Version)
	an.PutStr("category", r.Category)
	putAttacks(fi.PutEmptySlice("attacks"), &d.attack)
	if known(row.SignatureID) {
		re := fi.PutEmptySlice("related_events").AppendEmpty().SetEmptyMap()
		re.PutStr("uid", row.SignatureID)
		re.PutStr("type", row.VendorProduct)
	}
}

// putAttacks writes one attack per tactic and technique: attack.tactic is a
// single object (tactics[] is deprecated), so a technique under two tactics
// is two attacks.
func putAttacks(attacks pcommon.Slice, m *attackMapping) {
	attacks.EnsureCapacity(len(m.tactics) * len(m.pairs))
	for _, t := range m.tactics {
		for _, p := range m.pairs {
			a := attacks.AppendEmpty().SetEmptyMap()
			putAttackObject(a.PutEmptyMap("tactic"), t)
			putAttackObject(a.PutEmptyMap("technique"), p.technique)
			if p.sub != nil {
				putAttackObject(a.PutEmptyMap("sub_technique"), *p.sub)
			}
			a.PutStr("version", rule.ATTACKVersion)
		}
	}
}

// putEvidences writes the evidence: who did it, from where, through which
// operation.
func putEvidences(f pcommon.Map, obs pcommon.Slice, row *rule.Row) {
	ev := pcommon.NewMap()
	if known(row.User) {
		ev.PutEmptyMap("actor").PutEmptyMap("user").PutStr("name", row.User)
		putObservable(obs, "evidences.actor.user.name", ocsfObservableUserName, "User Name", row.User)
	}
	if ip, port, ok := parseIP(row.Src); ok {
		ep := ev.PutEmptyMap("src_endpoint")
		ep.PutStr("ip", ip)
		if port != 0 {
			ep.PutInt("port", port)
		}
		putObservable(obs, "evidences.src_endpoint.ip", ocsfObservableIP, "IP Address", ip)
	}
	if known(row.Signature) {
		api := ev.PutEmptyMap("api")
		api.PutStr("operation", row.Signature)
		api.PutEmptyMap("service").PutStr("name", row.VendorProduct)
	}
	if ev.Len() > 0 {
		ev.MoveTo(f.PutEmptySlice("evidences").AppendEmpty().SetEmptyMap())
	}
}

// putResources writes the partner tenants added or deleted: the resources
// the change was about, and what an analyst checks first.
func putResources(f pcommon.Map, obs pcommon.Slice, partners []string) {
	if len(partners) == 0 {
		return
	}
	res := f.PutEmptySlice("resources")
	res.EnsureCapacity(len(partners))
	for _, p := range partners {
		r := res.AppendEmpty().SetEmptyMap()
		r.PutStr("uid", p)
		r.PutStr("type", ocsfPartnerType)
		putObservable(obs, "resources.uid", ocsfObservableResourceUID, "Resource UID", p)
	}
}

func putCloud(cloud pcommon.Map, row *rule.Row) {
	cloud.PutStr("provider", ocsfCloudProvider)
	if known(row.Dest) {
		acct := cloud.PutEmptyMap("account")
		acct.PutStr("uid", row.Dest)
		acct.PutInt("type_id", ocsfM365Tenant)
		acct.PutStr("type", "M365 Tenant")
	}
}

func putMetadata(md pcommon.Map) {
	md.PutStr("version", OCSFVersion)
	prod := md.PutEmptyMap("product")
	prod.PutStr("name", ocsfProductName)
	prod.PutStr("vendor_name", ocsfVendorName)
	prod.PutEmptyMap("feature").PutStr("name", ocsfFeatureName)
	putStrs(md, "profiles", "cloud")
}

func putObservable(obs pcommon.Slice, name string, typeID int64, typeName, value string) {
	o := obs.AppendEmpty().SetEmptyMap()
	o.PutStr("name", name)
	o.PutInt("type_id", typeID)
	o.PutStr("type", typeName)
	o.PutStr("value", value)
}
