package e2e

import (
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/o365detect/o365detect/internal/output"
)

// What each profile writes, read back from the store. The values come from
// the oracle (testdata/o365/expected.jsonl) and the rule's published
// identity; the ecs and splunk names are those of ECS and of Splunk ES risk
// events, which the backends index by.

// The ATT&CK sub-technique ESCU assigns the rule.
const mitreTechnique = "T1484.002"

// Where Splunk ES keeps risk events: the splunk profile's defaults.
const (
	esRiskIndex      = "risk"
	esRiskSourcetype = "stash"
)

// esSearchName is ESCU's correlation search for the rule, which ES writes as
// the source of its risk events.
const esSearchName = "ESCU - " + ruleName + " - Rule"

// riskScore is the default risk score, which the example configs keep.
const riskScore = 50

// profileCheck reads one profile's fields from stored records.
type profileCheck struct {
	// tagged checks an input record that matches the rule against its
	// oracle row; untagged one that does not match.
	tagged   func(t *testing.T, id string, r outRecord, e expectedLine)
	untagged func(t *testing.T, id string, r outRecord)
	// detections checks the detection records against the oracle groups.
	detections func(t *testing.T, view storedView, stored []storedRecord, want map[row]group)
}

var escuCheck = profileCheck{
	tagged: func(t *testing.T, id string, r outRecord, e expectedLine) {
		checkRow(t, id, r, e)
		checkStrAttr(t, id, r.Attributes(), output.AttrRuleUUID, ruleUUID)
		checkStrAttr(t, id, r.Attributes(), output.AttrMitreTechniqueID, mitreTechnique)
	},
	untagged: func(t *testing.T, id string, r outRecord) {
		checkAbsent(t, id, r, output.AttrRuleUUID, output.AttrRiskObject)
	},
	detections: func(t *testing.T, view storedView, stored []storedRecord, want map[row]group) {
		checkDetections(t, records(view, stored), want, riskScore, storedInt)
	},
}

var splunkCheck = profileCheck{
	tagged: func(t *testing.T, id string, r outRecord, e expectedLine) {
		checkRow(t, id, r, e)
		checkStrAttr(t, id, r.Attributes(), output.AttrSearchName, esSearchName)
		checkStrAttr(t, id, r.Attributes(), output.AttrMitreTechniqueID, mitreTechnique)
	},
	untagged: func(t *testing.T, id string, r outRecord) {
		checkAbsent(t, id, r, output.AttrSearchName, output.AttrRiskObject)
	},
	detections: checkSplunkDetections,
}

var ecsCheck = profileCheck{
	tagged: func(t *testing.T, id string, r outRecord, e expectedLine) {
		checkECS(t, id, r, ecsRowFields(e.row, "event"))
	},
	untagged: func(t *testing.T, id string, r outRecord) {
		checkAbsent(t, id, r, "event.kind", "rule.uuid", "user.name")
	},
	detections: checkECSDetections,
}

func records(view storedView, stored []storedRecord) []outRecord {
	out := make([]outRecord, 0, len(stored))
	for _, r := range stored {
		out = append(out, view.record(r))
	}
	return out
}

func checkRow(t *testing.T, id string, r outRecord, e expectedLine) {
	t.Helper()
	if got := rowOf(r.Attributes()); got != e.row {
		t.Errorf("%s: stored row\n got %+v\nwant %+v", id, got, e.row)
	}
	checkStrAttr(t, id, r.Attributes(), output.AttrRiskObject, e.User)
	checkStrAttr(t, id, r.Attributes(), output.AttrRiskScore, strconv.Itoa(riskScore))
}

func checkAbsent(t *testing.T, id string, r outRecord, keys ...string) {
	t.Helper()
	for _, k := range keys {
		if v, ok := r.Attributes().Get(k); ok {
			t.Errorf("%s does not match the rule but has %s = %q", id, k, v.AsString())
		}
	}
}

// checkSplunkDetections checks the ES risk events: one per oracle group,
// with the ESCU row, its count and times, and the risk fields.
func checkSplunkDetections(t *testing.T, view storedView, stored []storedRecord, want map[row]group) {
	t.Helper()
	seen := map[row]bool{}
	for _, d := range records(view, stored) {
		attrs := d.Attributes()
		r := rowOf(attrs)
		id := fmt.Sprintf("risk event for signature_id %q", r.SignatureID)
		g, ok := want[r]
		if !ok {
			t.Errorf("%s has a row no expected group has: %+v", id, r)
			continue
		}
		if seen[r] {
			t.Errorf("%s: stored more than once", id)
		}
		seen[r] = true
		for k, v := range map[string]string{
			output.AttrCount:            strconv.FormatInt(g.Count, 10),
			output.AttrFirstTime:        g.FirstTime,
			output.AttrLastTime:         g.LastTime,
			output.AttrRiskObject:       g.User,
			output.AttrRiskObjectType:   "user",
			output.AttrRiskScore:        strconv.Itoa(riskScore),
			output.AttrRiskMessage:      d.Body().AsString(),
			output.AttrSearchName:       esSearchName,
			output.AttrMitreTechniqueID: mitreTechnique,
		} {
			checkStrAttr(t, id, attrs, k, v)
		}
		if !strings.Contains(d.Body().AsString(), g.User) {
			t.Errorf("%s: event %q does not name the user %q", id, d.Body().AsString(), g.User)
		}
	}
	checkAllSeen(t, want, seen)
}

func checkAllSeen(t *testing.T, want map[row]group, seen map[row]bool) {
	t.Helper()
	var missing []string
	for r, g := range want {
		if !seen[r] {
			missing = append(missing, fmt.Sprintf("%s (user %s, count %d)", r.SignatureID, r.User, g.Count))
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("%d of %d expected detections not stored: %v", len(missing), len(want), missing)
	}
}

// ecsField is one ECS field a record must carry ("" value: must not carry).
type ecsField struct{ name, value string }

// ecsRowFields are the ECS fields of a row; kind is event or alert. ECS
// leaves out what ESCU's fillnull sets to 0.
func ecsRowFields(r row, kind string) []ecsField {
	orNone := func(v string) string {
		if v == "0" {
			return ""
		}
		return v
	}
	f := []ecsField{
		{"event.kind", kind},
		{"event.action", r.Signature},
		{"rule.uuid", ruleUUID},
		{"rule.id", ruleUUID},
		{"rule.name", ruleName},
		{"threat.technique.subtechnique.id", compactJSON([]string{mitreTechnique})},
		{"event.risk_score", strconv.Itoa(riskScore)},
		{"cloud.provider", "azure"},
		{"organization.id", orNone(r.Dest)},
		{"cloud.account.id", orNone(r.Dest)},
		{"user.name", orNone(r.User)},
		{"source.address", orNone(r.Src)},
	}
	ip := ""
	if net.ParseIP(r.Src) != nil {
		ip = r.Src
	}
	return append(f, ecsField{"source.ip", ip})
}

func checkECS(t *testing.T, id string, r outRecord, fields []ecsField) {
	t.Helper()
	attrs := r.Attributes()
	for _, f := range fields {
		if f.value == "" {
			if v, ok := attrs.Get(f.name); ok {
				t.Errorf("%s: %s = %q, want no such field", id, f.name, v.AsString())
			}
			continue
		}
		checkStrAttr(t, id, attrs, f.name, f.value)
	}
	if v, ok := attrs.Get("ecs.version"); !ok || v.Str() == "" {
		t.Errorf("%s: no ecs.version", id)
	}
}

// ecsKey is what tells the sample's groups apart in ECS, which has no field
// for signature_id.
func ecsKey(attrs pcommon.Map) string {
	s := func(k string) string {
		if v, ok := attrs.Get(k); ok {
			return v.AsString()
		}
		return ""
	}
	return strings.Join([]string{s("event.action"), s("user.name"), s("source.address"), s("organization.id")}, "|")
}

// checkECSDetections checks the Elastic alerts: one per oracle group, with
// its fields, count and event times.
func checkECSDetections(t *testing.T, view storedView, stored []storedRecord, want map[row]group) {
	t.Helper()
	byKey := map[string][]outRecord{}
	for _, d := range records(view, stored) {
		k := ecsKey(d.Attributes())
		byKey[k] = append(byKey[k], d)
	}
	keys := 0
	for _, g := range want {
		probe := pcommon.NewMap()
		for _, f := range ecsRowFields(g.row, "alert") {
			if f.value != "" {
				probe.PutStr(f.name, f.value)
			}
		}
		k := ecsKey(probe)
		ds := byKey[k]
		id := fmt.Sprintf("alert for %s by %s", g.Signature, g.User)
		if len(ds) != 1 {
			t.Errorf("%s: %d stored, want 1", id, len(ds))
			continue
		}
		keys++
		d := ds[0]
		checkECS(t, id, d, ecsRowFields(g.row, "alert"))
		attrs := d.Attributes()
		checkStrAttr(t, id, attrs, "o365detect.count", strconv.FormatInt(g.Count, 10))
		checkECSTimes(t, id, attrs, g)
		if !strings.Contains(d.Body().AsString(), g.User) {
			t.Errorf("%s: message %q does not name the user", id, d.Body().AsString())
		}
	}
	if len(stored) != keys {
		t.Errorf("%d alerts stored, want %d (one per group)", len(stored), len(want))
	}
}

// checkECSTimes checks event.start and event.end (RFC 3339, the full event
// time) against the oracle's first and last times (to the second) and
// event.duration against their distance.
func checkECSTimes(t *testing.T, id string, attrs pcommon.Map, g group) {
	t.Helper()
	parse := func(k, want string) time.Time {
		v, ok := attrs.Get(k)
		if !ok {
			t.Errorf("%s: no %s", id, k)
			return time.Time{}
		}
		ts, err := time.Parse(time.RFC3339Nano, v.Str())
		if err != nil {
			t.Errorf("%s: %s = %q: %v", id, k, v.Str(), err)
			return ts
		}
		if got := ts.UTC().Format("2006-01-02T15:04:05"); got != want {
			t.Errorf("%s: %s = %q, want the second %s", id, k, v.Str(), want)
		}
		return ts
	}
	start := parse("event.start", g.FirstTime)
	end := parse("event.end", g.LastTime)
	checkStrAttr(t, id, attrs, "event.duration", strconv.FormatInt(end.Sub(start).Nanoseconds(), 10))
}
