package output_test

import (
	"flag"
	"path/filepath"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/golden"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/pdatatest/plogtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/o365detect/o365detect/internal/aggregate"
	"github.com/o365detect/o365detect/internal/output"
	"github.com/o365detect/o365detect/internal/rule"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// The golden fixtures, shared by every profile's tests.
const (
	tenant   = "4a7c8238-5799-4b16-9fc6-9ad8fce5a7d9"
	partner1 = "9f1c2d3e-4b5a-4c6d-8e7f-0a1b2c3d4e5f"
	partner2 = "0d3b7e2c-1f54-4a8e-9c61-5a2f0e9d7b13"
)

var (
	first   = time.Date(2025, 3, 4, 10, 0, 0, 900_000_000, time.UTC)
	last    = time.Date(2025, 3, 4, 11, 0, 0, 0, time.UTC)
	emitted = time.Date(2025, 3, 4, 11, 1, 0, 0, time.UTC)
	opened  = time.Date(2025, 3, 4, 10, 0, 5, 0, time.UTC)
)

var fullRow = rule.Row{
	Dest: tenant, User: "alice@contoso.com", Src: "203.0.113.10", VendorAccount: tenant,
	VendorProduct: "Microsoft Office 365 AzureActiveDirectory",
	Signature:     "Add a partner to cross-tenant access setting.",
	SignatureID:   "5d3e8f0a-2b1c-4e6f-9a7d-1c2b3a4d5e6f",
}

// sparseRow is a row fillnull filled: no tenant, user, source or Id.
var sparseRow = rule.Row{
	Dest: "0", User: "0", Src: "0", VendorAccount: "0",
	VendorProduct: "Microsoft Entra ID",
	Signature:     "Delete partner specific cross-tenant access setting",
	SignatureID:   "0",
}

type goldenCase struct {
	name     string
	row      rule.Row
	partners []string
}

var goldenCases = []goldenCase{
	{"full", fullRow, []string{partner1, partner2}},
	{"sparse", sparseRow, nil},
}

func testOptions() output.Options {
	return output.Options{RiskScore: 50, Splunk: output.SplunkOptions{Index: "risk", Source: output.SearchName, Sourcetype: "stash"}}
}

func newProfile(t *testing.T, name string, opts output.Options) output.Profile {
	t.Helper()
	p, err := output.New(name, opts)
	require.NoError(t, err)
	return p
}

func group(row rule.Row, partners []string) *aggregate.Group {
	return &aggregate.Group{Rule: rule.ESCU, Row: row, Count: 3, First: first, Last: last, Opened: opened, Partners: partners}
}

// goldenLogs is what the processor sends on for one case: a tagged input
// record under its own resource, and a detection record under a copy of it,
// with the timestamps the processor sets.
func goldenLogs(p output.Profile, c goldenCase) plog.Logs {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("service.name", "o365-audit")
	rl.Resource().Attributes().PutStr("com.splunk.index", "o365")
	lr := rl.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	lr.SetTimestamp(pcommon.NewTimestampFromTime(first))
	lr.SetObservedTimestamp(pcommon.NewTimestampFromTime(opened))
	lr.Body().SetStr(`{"Workload":"AzureActiveDirectory","Operation":"` + c.row.Signature + `"}`)
	lr.Attributes().PutStr("log.file.name", "audit.jsonl")
	m := output.Match{Rule: rule.ESCU, Row: c.row, EventTime: first}
	if len(c.partners) > 0 {
		m.Partner = c.partners[0]
	}
	p.Tag(lr.Attributes(), m)

	drl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().CopyTo(drl.Resource())
	sl := drl.ScopeLogs().AppendEmpty()
	sl.Scope().SetName("github.com/o365detect/o365detect/processor/o365detectprocessor")
	d := sl.LogRecords().AppendEmpty()
	d.SetTimestamp(pcommon.NewTimestampFromTime(emitted))
	d.SetObservedTimestamp(pcommon.NewTimestampFromTime(opened))
	p.Detection(d, group(c.row, c.partners))
	return ld
}

// TestGolden pins every profile's output, escu's included, for a complete
// row with two partner tenants and for a row fillnull filled. Rewrite with
// go test ./internal/output/ -run TestGolden -update, then review the diff.
func TestGolden(t *testing.T) {
	for _, profile := range output.Profiles {
		for _, c := range goldenCases {
			t.Run(profile+"_"+c.name, func(t *testing.T) {
				actual := goldenLogs(newProfile(t, profile, testOptions()), c)
				path := filepath.Join("testdata", profile+"_"+c.name+".yaml")
				if *update {
					require.NoError(t, golden.WriteLogs(t, path, actual))
				}
				expected, err := golden.ReadLogs(path)
				require.NoError(t, err)
				require.NoError(t, plogtest.CompareLogs(expected, actual))
				// CompareLogs ignores EventName.
				assert.Empty(t, tagged(actual).EventName())
				assert.Equal(t, output.EventName, detection(actual).EventName())
			})
		}
	}
}

func tagged(ld plog.Logs) plog.LogRecord {
	return ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0)
}

func detection(ld plog.Logs) plog.LogRecord {
	return ld.ResourceLogs().At(1).ScopeLogs().At(0).LogRecords().At(0)
}

func tagAttrs(t *testing.T, profile string, opts output.Options, m output.Match) map[string]any {
	t.Helper()
	attrs := pcommon.NewMap()
	newProfile(t, profile, opts).Tag(attrs, m)
	return attrs.AsRaw()
}

func detectionRecord(t *testing.T, profile string, opts output.Options, g *aggregate.Group) plog.LogRecord {
	t.Helper()
	lr := plog.NewLogRecord()
	lr.SetTimestamp(pcommon.NewTimestampFromTime(emitted))
	newProfile(t, profile, opts).Detection(lr, g)
	return lr
}

func TestECSKinds(t *testing.T) {
	tag := tagAttrs(t, output.ProfileECS, testOptions(), output.Match{Rule: rule.ESCU, Row: fullRow, Partner: partner1, EventTime: first})
	det := detectionRecord(t, output.ProfileECS, testOptions(), group(fullRow, []string{partner1, partner2})).Attributes().AsRaw()

	assert.Equal(t, "event", tag["event.kind"], "a tagged record is an event")
	assert.Equal(t, "alert", det["event.kind"], "the detection is the alert")
	for _, a := range []map[string]any{tag, det} {
		assert.Equal(t, []any{"iam", "configuration"}, a["event.category"])
		assert.Equal(t, []any{"change"}, a["event.type"])
		assert.Equal(t, fullRow.Signature, a["event.action"])
		assert.Equal(t, "unknown", a["event.outcome"])
		assert.Equal(t, []any{"TA0005", "TA0004"}, a["threat.tactic.id"])
		assert.Equal(t, []any{"Defense Evasion", "Privilege Escalation"}, a["threat.tactic.name"])
		assert.Equal(t, []any{"https://attack.mitre.org/tactics/TA0005/", "https://attack.mitre.org/tactics/TA0004/"}, a["threat.tactic.reference"])
		assert.Equal(t, []any{"T1484"}, a["threat.technique.id"])
		assert.Equal(t, []any{"https://attack.mitre.org/techniques/T1484/"}, a["threat.technique.reference"])
		assert.Equal(t, []any{"T1484.002"}, a["threat.technique.subtechnique.id"])
		assert.Equal(t, []any{rule.ESCU.Reference}, a["threat.technique.subtechnique.reference"])
		assert.Equal(t, "MITRE ATT&CK", a["threat.framework"])
		assert.Equal(t, rule.ESCU.ID, a["rule.id"])
		assert.Equal(t, rule.ESCU.ID, a["rule.uuid"])
		assert.Equal(t, []any{"Steven Dick"}, a["rule.author"])
		assert.Equal(t, float64(50), a["event.risk_score"], "event.risk_score is a float in ECS")
		assert.Equal(t, int64(47), a["event.severity"], "47 is Elastic's medium")
		assert.Equal(t, "azure", a["cloud.provider"])
		assert.Equal(t, tenant, a["cloud.account.id"])
		assert.Equal(t, tenant, a["organization.id"])
		assert.Equal(t, "alice@contoso.com", a["user.name"])
		assert.Equal(t, "203.0.113.10", a["source.ip"])
	}
	assert.Equal(t, partner1, tag["o365detect.partner_tenant.id"], "a tagged record has its own partner")
	assert.Equal(t, []any{partner1, partner2}, det["o365detect.partner_tenant.id"], "a detection lists every partner")
	for _, k := range []string{"event.start", "event.end", "event.duration", "event.id", "o365detect.count"} {
		assert.NotContains(t, tag, k, "only the aggregate has %s", k)
	}
	assert.Equal(t, "2025-03-04T10:00:00.9Z", det["event.start"])
	assert.Equal(t, "2025-03-04T11:00:00Z", det["event.end"])
	assert.Equal(t, last.Sub(first).Nanoseconds(), det["event.duration"])
	assert.Equal(t, int64(3), det["o365detect.count"])
}

// ECS requires ecs.version on every event: on each tagged and each detection
// record, filled row or not. The value is the release the field set follows.
func TestECSVersion(t *testing.T) {
	for _, c := range goldenCases {
		t.Run(c.name, func(t *testing.T) {
			tag := tagAttrs(t, output.ProfileECS, testOptions(), output.Match{Rule: rule.ESCU, Row: c.row, EventTime: first})
			det := detectionRecord(t, output.ProfileECS, testOptions(), group(c.row, c.partners)).Attributes().AsRaw()
			assert.Equal(t, "9.4.0", tag["ecs.version"], "tagged record")
			assert.Equal(t, "9.4.0", det["ecs.version"], "detection record")
		})
	}
	// Only the ecs profile speaks ECS.
	for _, profile := range output.Profiles {
		if profile == output.ProfileECS {
			continue
		}
		assert.NotContains(t, tagAttrs(t, profile, testOptions(), output.Match{Rule: rule.ESCU, Row: fullRow}), "ecs.version", profile)
	}
}

func TestECSSource(t *testing.T) {
	for _, tc := range []struct {
		src  string
		want map[string]any // source.* fields; nil values must be absent
	}{
		{"0", map[string]any{"source.address": nil, "source.ip": nil, "source.port": nil}},
		{"", map[string]any{"source.address": nil, "source.ip": nil, "source.port": nil}},
		{"not-an-ip", map[string]any{"source.address": "not-an-ip", "source.ip": nil, "source.port": nil}},
		{"203.0.113.10", map[string]any{"source.address": "203.0.113.10", "source.ip": "203.0.113.10", "source.port": nil}},
		{"203.0.113.10:51234", map[string]any{"source.address": "203.0.113.10:51234", "source.ip": "203.0.113.10", "source.port": int64(51234)}},
		{"2001:DB8::1", map[string]any{"source.address": "2001:DB8::1", "source.ip": "2001:db8::1", "source.port": nil}},
		{"[2001:db8::1]:443", map[string]any{"source.address": "[2001:db8::1]:443", "source.ip": "2001:db8::1", "source.port": int64(443)}},
		{"fe80::1%eth0", map[string]any{"source.address": "fe80::1%eth0", "source.ip": nil, "source.port": nil}},
	} {
		t.Run(tc.src, func(t *testing.T) {
			row := fullRow
			row.Src = tc.src
			a := tagAttrs(t, output.ProfileECS, testOptions(), output.Match{Rule: rule.ESCU, Row: row})
			for k, v := range tc.want {
				if v == nil {
					assert.NotContains(t, a, k)
				} else {
					assert.Equal(t, v, a[k], k)
				}
			}
		})
	}
}

// A row fillnull filled has no user, tenant or source in ECS, and no partner
// means no partner field.
func TestECSFillnullOmitted(t *testing.T) {
	det := detectionRecord(t, output.ProfileECS, testOptions(), group(sparseRow, nil)).Attributes().AsRaw()
	for _, k := range []string{"user.name", "source.address", "source.ip", "cloud.account.id", "organization.id", "o365detect.partner_tenant.id"} {
		assert.NotContains(t, det, k)
	}
	assert.Equal(t, "azure", det["cloud.provider"])
	tag := tagAttrs(t, output.ProfileECS, testOptions(), output.Match{Rule: rule.ESCU, Row: fullRow})
	assert.NotContains(t, tag, "o365detect.partner_tenant.id")
}

func TestECSSeverityFollowsRiskScore(t *testing.T) {
	for score, want := range map[int]int64{1: 21, 20: 21, 21: 21, 40: 21, 41: 47, 50: 47, 60: 47, 61: 73, 80: 73, 81: 99, 100: 99} {
		a := tagAttrs(t, output.ProfileECS, output.Options{RiskScore: score}, output.Match{Rule: rule.ESCU, Row: fullRow})
		assert.Equal(t, want, a["event.severity"], "risk score %d", score)
		assert.Equal(t, float64(score), a["event.risk_score"])
	}
}

func TestECSTagKeepsOtherAttributes(t *testing.T) {
	attrs := pcommon.NewMap()
	attrs.PutStr("log.file.name", "audit.jsonl")
	newProfile(t, output.ProfileECS, testOptions()).Tag(attrs, output.Match{Rule: rule.ESCU, Row: fullRow})
	v, ok := attrs.Get("log.file.name")
	require.True(t, ok)
	assert.Equal(t, "audit.jsonl", v.Str())
}

func TestECSDetectionBodyAndID(t *testing.T) {
	g := group(fullRow, nil)
	lr := detectionRecord(t, output.ProfileECS, testOptions(), g)
	// The body becomes ECS message, the External Alerts rule's alert name.
	assert.Equal(t, rule.ESCU.Message(fullRow.User), lr.Body().Str())
	assert.Equal(t, plog.SeverityNumberWarn, lr.SeverityNumber())

	// event.id is the OCSF finding uid of the same detection.
	ocsf := detectionRecord(t, output.ProfileOCSF, testOptions(), g)
	fi, _ := ocsf.Body().Map().Get("finding_info")
	uid, _ := fi.Map().Get("uid")
	id, _ := lr.Attributes().Get("event.id")
	assert.Equal(t, uid.Str(), id.Str())
}
