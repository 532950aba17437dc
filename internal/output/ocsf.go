package output // import "github.com/o365detect/o365detect/internal/output"

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"io"
	"strconv"
	"strings"
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

// Captions of severity_id 1–5 and risk_level_id 0–4, by risk band.
var (
	ocsfSeverity  = [...]string{"Informational", "Low", "Medium", "High", "Critical"}
	ocsfRiskLevel = [...]string{"Info", "Low", "Medium", "High", "Critical"}
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
		kind: findingKindEvent, row: &m.Row, partners: partners,
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
		kind: findingKindDetection, row: &g.Row, partners: g.Partners,
		count: g.Count, first: g.First, last: g.Last, time: created, alert: true,
	})
	lr.Attributes().PutInt(AttrOCSFClassUID, ocsfClassUID)
}

func (w *ocsf) fill(f pcommon.Map, in *finding) {
	row := in.row
	f.EnsureCapacity(32)
	f.PutInt("activity_id", ocsfActivityID)
	f.PutStr("activity_name", "Create")
	f.PutInt("category_uid", ocsfCategoryUID)
	f.PutStr("category_name", "Findings")
	f.PutInt("class_uid", ocsfClassUID)
	f.PutStr("class_name", "Detection Finding")
	f.PutInt("type_uid", ocsfTypeUID)
	f.PutStr("type_name", "Detection Finding: Create")
	f.PutInt("severity_id", int64(w.band)+1)
	f.PutStr("severity", ocsfSeverity[w.band])
	f.PutInt("status_id", ocsfStatusIDNew)
	f.PutStr("status", "New")
	f.PutInt("time", in.time.UnixMilli())
	f.PutInt("start_time", in.first.UnixMilli())
	f.PutInt("end_time", in.last.UnixMilli())
	f.PutInt("duration", in.last.Sub(in.first).Milliseconds())
	f.PutInt("count", in.count)
	f.PutInt("timezone_offset", 0)
	f.PutStr("message", rule.ESCU.Message(row.User))
	f.PutBool("is_alert", in.alert)
	f.PutInt("risk_score", w.riskScore)
	f.PutInt("risk_level_id", int64(w.band))
	f.PutStr("risk_level", ocsfRiskLevel[w.band])

	fi := f.PutEmptyMap("finding_info")
	fi.PutStr("uid", findingUID(in.kind, row, in.first))
	fi.PutStr("title", rule.ESCU.Name)
	fi.PutStr("desc", ruleDescription)
	putStrs(fi, "types", rule.ESCU.AnalyticStory)
	fi.PutInt("first_seen_time", in.first.UnixMilli())
	fi.PutInt("last_seen_time", in.last.UnixMilli())
	fi.PutInt("related_events_count", in.count)
	an := fi.PutEmptyMap("analytic")
	an.PutStr("name", rule.ESCU.Name)
	an.PutStr("uid", rule.ESCU.ID)
	an.PutInt("type_id", ocsfAnalyticRule)
	an.PutStr("type", "Rule")
	an.PutStr("version", rule.ESCU.Version)
	an.PutStr("category", rule.ESCU.Category)
	// One attack per tactic: attack.tactic is a single object (tactics[]
	// is deprecated), so a technique under two tactics is two attacks.
	attacks := fi.PutEmptySlice("attacks")
	attacks.EnsureCapacity(len(attackTactics))
	for _, t := range attackTactics {
		a := attacks.AppendEmpty().SetEmptyMap()
		putAttackObject(a.PutEmptyMap("tactic"), t.id, t.name, t.url)
		putAttackObject(a.PutEmptyMap("technique"), attackTechniqueID, attackTechniqueName, attackTechniqueRef)
		putAttackObject(a.PutEmptyMap("sub_technique"), rule.ESCU.Techniques[0].ID, rule.ESCU.Techniques[0].Name, attackSubtechniqueRef)
		a.PutStr("version", attackVersion)
	}
	if known(row.SignatureID) {
		re := fi.PutEmptySlice("related_events").AppendEmpty().SetEmptyMap()
		re.PutStr("uid", row.SignatureID)
		re.PutStr("type", row.VendorProduct)
	}

	// The evidence: who did it, from where, through which operation.
	obs := pcommon.NewSlice()
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

	// The partner tenants added or deleted: the resources the change was
	// about, and what an analyst checks first.
	if len(in.partners) > 0 {
		res := f.PutEmptySlice("resources")
		res.EnsureCapacity(len(in.partners))
		for _, p := range in.partners {
			r := res.AppendEmpty().SetEmptyMap()
			r.PutStr("uid", p)
			r.PutStr("type", ocsfPartnerType)
			putObservable(obs, "resources.uid", ocsfObservableResourceUID, "Resource UID", p)
		}
	}

	cloud := f.PutEmptyMap("cloud")
	cloud.PutStr("provider", ocsfCloudProvider)
	if known(row.Dest) {
		acct := cloud.PutEmptyMap("account")
		acct.PutStr("uid", row.Dest)
		acct.PutInt("type_id", ocsfM365Tenant)
		acct.PutStr("type", "M365 Tenant")
	}
	if obs.Len() > 0 {
		obs.MoveAndAppendTo(f.PutEmptySlice("observables"))
	}

	md := f.PutEmptyMap("metadata")
	md.PutStr("version", OCSFVersion)
	prod := md.PutEmptyMap("product")
	prod.PutStr("name", ocsfProductName)
	prod.PutStr("vendor_name", ocsfVendorName)
	prod.PutEmptyMap("feature").PutStr("name", ocsfFeatureName)
	putStrs(md, "profiles", "cloud")
}

func putAttackObject(m pcommon.Map, uid, name, url string) {
	m.PutStr("uid", uid)
	m.PutStr("name", name)
	m.PutStr("src_url", url)
}

func putObservable(obs pcommon.Slice, name string, typeID int64, typeName, value string) {
	o := obs.AppendEmpty().SetEmptyMap()
	o.PutStr("name", name)
	o.PutInt("type_id", typeID)
	o.PutStr("type", typeName)
	o.PutStr("value", value)
}

// Kinds of finding, part of a finding's identity: the finding for one
// tagged record and the aggregated detection starting at the same record
// are different findings.
const (
	findingKindDetection = "detection"
	findingKindEvent     = "event"
)

// escuNamespace is the ESCU detection id as 16 bytes, the namespace of
// finding ids.
var escuNamespace = func() []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(rule.ESCU.ID, "-", ""))
	if err != nil || len(b) != 16 {
		panic("output: rule.ESCU.ID is not a UUID: " + rule.ESCU.ID)
	}
	return b
}()

// findingUID identifies a finding: a name-based UUID (version 8, built from
// SHA-256 as in RFC 9562 appendix B.2) of the kind, the seven row fields and
// the first event time, in the ESCU detection's namespace. It is the same
// for the same finding on every run and every collector: a detection emitted
// again after a crash carries the id it had.
func findingUID(kind string, row *rule.Row, first time.Time) string {
	h := sha256.New()
	h.Write(escuNamespace)
	for _, s := range [...]string{
		kind, row.Dest, row.User, row.Src, row.VendorAccount, row.VendorProduct, row.Signature, row.SignatureID,
		strconv.FormatInt(first.UnixNano(), 10),
	} {
		writeField(h, s)
	}
	var sum [sha256.Size]byte
	b := h.Sum(sum[:0])[:16]
	b[6] = b[6]&0x0f | 0x80 // version 8
	b[8] = b[8]&0x3f | 0x80 // variant 10
	var out [36]byte
	hex.Encode(out[0:8], b[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], b[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], b[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], b[8:10])
	out[23] = '-'
	hex.Encode(out[24:36], b[10:16])
	return string(out[:])
}

// writeField writes s length-prefixed, so that field boundaries cannot
// shift between rows.
func writeField(h hash.Hash, s string) {
	var n [binary.MaxVarintLen64]byte
	h.Write(n[:binary.PutUvarint(n[:], uint64(len(s)))])
	_, _ = io.WriteString(h, s)
}
