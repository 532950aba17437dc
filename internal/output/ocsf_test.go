package output_test

import (
	"encoding/json"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/o365detect/o365detect/internal/aggregate"
	"github.com/o365detect/o365detect/internal/output"
	"github.com/o365detect/o365detect/internal/rule"
)

// uuidV8 is an RFC 9562 UUID of version 8.
var uuidV8 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func ocsfDetection(t *testing.T, lr plog.LogRecord) map[string]any {
	t.Helper()
	require.Equal(t, pcommon.ValueTypeMap, lr.Body().Type(), "the detection body is the finding")
	return lr.Body().Map().AsRaw()
}

func ocsfTagged(t *testing.T, m output.Match) map[string]any {
	t.Helper()
	a := tagAttrs(t, output.ProfileOCSF, testOptions(), m)
	f, ok := a["ocsf"].(map[string]any)
	require.True(t, ok, "a tagged record gains one map attribute, ocsf")
	return f
}

func get(t *testing.T, m map[string]any, path ...string) any {
	t.Helper()
	var v any = m
	for _, p := range path {
		mm, ok := v.(map[string]any)
		require.True(t, ok, "%v is not an object at %q", path, p)
		v, ok = mm[p]
		require.True(t, ok, "missing %v", path)
	}
	return v
}

func TestOCSFRequiredAndClassification(t *testing.T) {
	f := ocsfDetection(t, detectionRecord(t, output.ProfileOCSF, testOptions(), group(fullRow, []string{partner1})))
	// Required by base_event, finding and the cloud profile.
	assert.Equal(t, int64(1), f["activity_id"])
	assert.Equal(t, int64(2), f["category_uid"])
	assert.Equal(t, int64(2004), f["class_uid"])
	assert.Equal(t, int64(200401), f["type_uid"], "type_uid = class_uid*100 + activity_id")
	assert.Equal(t, int64(3), f["severity_id"])
	assert.Equal(t, "Medium", f["severity"])
	assert.Equal(t, emitted.UnixMilli(), f["time"], "time is when the finding was created: the emission")
	assert.Equal(t, "1.5.0", get(t, f, "metadata", "version"))
	assert.Equal(t, "o365detect", get(t, f, "metadata", "product", "name"))
	assert.Equal(t, []any{"cloud"}, get(t, f, "metadata", "profiles"))
	assert.Equal(t, "Microsoft", get(t, f, "cloud", "provider"))
	assert.Regexp(t, uuidV8, get(t, f, "finding_info", "uid"))
	assert.Equal(t, int64(1), get(t, f, "finding_info", "analytic", "type_id"))

	assert.Equal(t, first.UnixMilli(), f["start_time"])
	assert.Equal(t, last.UnixMilli(), f["end_time"])
	assert.Equal(t, int64(3), f["count"])
	assert.Equal(t, int64(3), get(t, f, "finding_info", "related_events_count"))
	assert.Equal(t, int64(50), f["risk_score"])
	assert.Equal(t, int64(2), f["risk_level_id"])
	assert.Equal(t, "Medium", f["risk_level"])
	assert.Equal(t, true, f["is_alert"])
	assert.Equal(t, int64(1), f["status_id"])
	assert.Equal(t, rule.ESCU.Message(fullRow.User), f["message"])
	assert.Equal(t, tenant, get(t, f, "cloud", "account", "uid"))
	assert.Equal(t, int64(17), get(t, f, "cloud", "account", "type_id"), "M365 Tenant")
}

// A technique under two tactics is two attack objects: attack.tactic holds
// one tactic.
func TestOCSFAttacks(t *testing.T) {
	f := ocsfDetection(t, detectionRecord(t, output.ProfileOCSF, testOptions(), group(fullRow, nil)))
	attacks, ok := get(t, f, "finding_info", "attacks").([]any)
	require.True(t, ok)
	require.Len(t, attacks, 2)
	var tactics []any
	for _, a := range attacks {
		am := a.(map[string]any)
		tactics = append(tactics, get(t, am, "tactic", "uid"))
		assert.Equal(t, "T1484", get(t, am, "technique", "uid"))
		assert.Equal(t, "Domain or Tenant Policy Modification", get(t, am, "technique", "name"))
		assert.Equal(t, "T1484.002", get(t, am, "sub_technique", "uid"))
		assert.Equal(t, "Trust Modification", get(t, am, "sub_technique", "name"))
		assert.Equal(t, rule.ESCU.Reference, get(t, am, "sub_technique", "src_url"))
		assert.NotContains(t, am, "tactics", "tactics[] is deprecated")
	}
	assert.Equal(t, []any{"TA0005", "TA0004"}, tactics)
}

func TestOCSFPartnersAndEvidence(t *testing.T) {
	f := ocsfDetection(t, detectionRecord(t, output.ProfileOCSF, testOptions(), group(fullRow, []string{partner1, partner2})))
	assert.Equal(t, []any{
		map[string]any{"uid": partner1, "type": "Tenant"},
		map[string]any{"uid": partner2, "type": "Tenant"},
	}, f["resources"])
	assert.Equal(t, []any{map[string]any{
		"actor":        map[string]any{"user": map[string]any{"name": "alice@contoso.com"}},
		"src_endpoint": map[string]any{"ip": "203.0.113.10"},
		"api":          map[string]any{"operation": fullRow.Signature, "service": map[string]any{"name": fullRow.VendorProduct}},
	}}, f["evidences"])
	var values []any
	for _, o := range f["observables"].([]any) {
		values = append(values, o.(map[string]any)["value"])
	}
	assert.Equal(t, []any{"alice@contoso.com", "203.0.113.10", partner1, partner2}, values)

	// fillnull's "0" is no value: no evidence, account, resource or related
	// event is made of it.
	f = ocsfDetection(t, detectionRecord(t, output.ProfileOCSF, testOptions(), group(sparseRow, nil)))
	assert.Equal(t, []any{map[string]any{
		"api": map[string]any{"operation": sparseRow.Signature, "service": map[string]any{"name": "Microsoft Entra ID"}},
	}}, f["evidences"])
	for _, k := range []string{"resources", "observables"} {
		assert.NotContains(t, f, k)
	}
	assert.Equal(t, map[string]any{"provider": "Microsoft"}, f["cloud"])
	assert.NotContains(t, f["finding_info"], "related_events")
}

func TestOCSFTagged(t *testing.T) {
	eventTime := time.Date(2025, 3, 4, 10, 15, 30, 0, time.UTC)
	f := ocsfTagged(t, output.Match{Rule: rule.ESCU, Row: fullRow, Partner: partner1, EventTime: eventTime})
	assert.Equal(t, int64(1), f["count"])
	assert.Equal(t, eventTime.UnixMilli(), f["time"])
	assert.Equal(t, eventTime.UnixMilli(), f["start_time"])
	assert.Equal(t, eventTime.UnixMilli(), f["end_time"])
	assert.Equal(t, false, f["is_alert"], "the aggregated detection is the alert")
	assert.Equal(t, []any{map[string]any{"uid": partner1, "type": "Tenant"}}, f["resources"])
	assert.Equal(t, []any{map[string]any{"uid": fullRow.SignatureID, "type": fullRow.VendorProduct}}, get(t, f, "finding_info", "related_events"))

	// Only the ocsf attribute is added; the body is not touched.
	lr := plog.NewLogRecord()
	lr.Body().SetStr("raw")
	lr.Attributes().PutStr("log.file.name", "audit.jsonl")
	newProfile(t, output.ProfileOCSF, testOptions()).Tag(lr.Attributes(), output.Match{Rule: rule.ESCU, Row: fullRow})
	assert.Equal(t, "raw", lr.Body().Str())
	assert.Equal(t, 2, lr.Attributes().Len())
	assert.NotContains(t, lr.Attributes().AsRaw(), "ocsf.class_uid")
}

func TestOCSFDetectionAttributes(t *testing.T) {
	lr := detectionRecord(t, output.ProfileOCSF, testOptions(), group(fullRow, nil))
	assert.Equal(t, map[string]any{"ocsf.class_uid": int64(2004)}, lr.Attributes().AsRaw())

	// Without an emission time, time falls back to the last event time.
	lr = plog.NewLogRecord()
	newProfile(t, output.ProfileOCSF, testOptions()).Detection(lr, group(fullRow, nil))
	assert.Equal(t, last.UnixMilli(), lr.Body().Map().AsRaw()["time"])
}

func TestOCSFFindingUID(t *testing.T) {
	uid := func(lr plog.LogRecord) string {
		fi, _ := lr.Body().Map().Get("finding_info")
		v, _ := fi.Map().Get("uid")
		return v.Str()
	}
	det := func(row rule.Row, g func(*aggregate.Group)) string {
		gr := group(row, nil)
		if g != nil {
			g(gr)
		}
		return uid(detectionRecord(t, output.ProfileOCSF, testOptions(), gr))
	}
	base := det(fullRow, nil)
	// Stable: not random, not tied to emission time, count or last time.
	assert.Equal(t, base, det(fullRow, nil))
	assert.Equal(t, base, det(fullRow, func(g *aggregate.Group) { g.Count, g.Last = 9, last.Add(time.Hour) }))
	// Pinned, so that a change in how it is built shows.
	assert.Equal(t, "92827443-3907-8e57-832d-ee75d5cc0321", base)
	// Different rows and first times are different findings.
	other := fullRow
	other.User = "bob@contoso.com"
	assert.NotEqual(t, base, det(other, nil))
	assert.NotEqual(t, base, det(fullRow, func(g *aggregate.Group) { g.First = first.Add(time.Nanosecond) }))
	// Field boundaries count: moving a character between fields changes it.
	a, b := fullRow, fullRow
	a.Dest, a.User = "ab", "c"
	b.Dest, b.User = "a", "bc"
	assert.NotEqual(t, det(a, nil), det(b, nil))
	// A tagged record's finding is not the detection's, even for a group of
	// that one record.
	tag := ocsfTagged(t, output.Match{Rule: rule.ESCU, Row: fullRow, EventTime: first})
	assert.NotEqual(t, base, get(t, tag, "finding_info", "uid"))
	assert.Regexp(t, uuidV8, get(t, tag, "finding_info", "uid"))
}

// The finding serializes to the JSON an OCSF consumer reads.
func TestOCSFJSON(t *testing.T) {
	f := ocsfDetection(t, detectionRecord(t, output.ProfileOCSF, testOptions(), group(fullRow, []string{partner1})))
	b, err := json.Marshal(f)
	require.NoError(t, err)
	var back struct {
		ClassUID    int   `json:"class_uid"`
		Time        int64 `json:"time"`
		FindingInfo struct {
			UID     string `json:"uid"`
			Title   string `json:"title"`
			Attacks []struct {
				Tactic struct {
					UID string `json:"uid"`
				} `json:"tactic"`
				Version string `json:"version"`
			} `json:"attacks"`
		} `json:"finding_info"`
		Resources []struct {
			UID string `json:"uid"`
		} `json:"resources"`
	}
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, 2004, back.ClassUID)
	assert.Equal(t, "O365 Cross-Tenant Access Change", back.FindingInfo.Title)
	assert.Len(t, back.FindingInfo.Attacks, 2)
	assert.Equal(t, partner1, back.Resources[0].UID)
}
