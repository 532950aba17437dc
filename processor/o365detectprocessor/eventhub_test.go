package o365detectprocessor

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/pdatatest/plogtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/o365detect/o365detect/internal/output"
	"github.com/o365detect/o365detect/internal/record/recordtest"
)

// translations are the Event Hub receiver's shapes with one log record per
// diagnostic record (see recordtest for what each is written from).
var translations = []struct {
	name  string
	build func([]byte) (plog.Logs, error)
}{
	{"format azure", recordtest.FormatAzure},
	{"semantic conventions", recordtest.SemanticConventions},
	{"azure_encoding", recordtest.AzureEncoding},
}

// recordEdit changes a diagnostic record and its directoryAudit
// (properties), so that the shapes are compared on records with the fields
// they must move or fall back from.
type recordEdit struct {
	name string
	edit func(rec, props map[string]any)
}

var recordEdits = []recordEdit{
	{"as written", func(_, _ map[string]any) {}},
	{"no activityDateTime", func(_, p map[string]any) { delete(p, "activityDateTime") }},
	{"unreadable activityDateTime", func(_, p map[string]any) {
		if p != nil {
			p["activityDateTime"] = "not a time"
		}
	}},
	{"no tenantId", func(r, _ map[string]any) { delete(r, "tenantId") }},
	{"a resourceId of another tenant", func(r, _ map[string]any) {
		r["resourceId"] = "/tenants/0e1f2a3b-0000-4c5d-8e6f-7a8b9c0d1e2f/providers/Microsoft.aadiam"
	}},
	{"no ipAddress, no correlationId in the audit", func(_, p map[string]any) {
		delete(p, "correlationId")
		if by, ok := p["initiatedBy"].(map[string]any); ok {
			if u, ok := by["user"].(map[string]any); ok {
				delete(u, "ipAddress")
			}
		}
	}},
	{"no id", func(_, p map[string]any) { delete(p, "id") }},
}

// messages returns the Entra test messages with edit applied to each
// record: each message as a list of its records' JSON texts.
func messages(t *testing.T, edit recordEdit) [][]string {
	t.Helper()
	var out [][]string
	for _, name := range []string{"eventhub.jsonl", "eventhub_other.jsonl"} {
		for _, line := range readEntraLines(t, name) {
			dec := json.NewDecoder(bytes.NewReader([]byte(line)))
			dec.UseNumber()
			var msg struct{ Records []map[string]any }
			require.NoError(t, dec.Decode(&msg))
			var recs []string
			for _, r := range msg.Records {
				props, _ := r["properties"].(map[string]any)
				edit.edit(r, props)
				b, err := json.Marshal(r)
				require.NoError(t, err)
				recs = append(recs, string(b))
			}
			out = append(out, recs)
		}
	}
	return out
}

func envelope(recs ...string) []byte {
	b := []byte(`{"records":[`)
	for i, r := range recs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, r...)
	}
	return append(b, "]}"...)
}

// outcome is what a batch gave: the records passed through, and each
// detection record with its resource, as canonical JSON.
type outcome struct {
	passed     plog.Logs
	detections []string
}

func runBatch(t *testing.T, profile string, ld plog.Logs) outcome {
	t.Helper()
	cfg := testConfig()
	cfg.Profile = profile
	h := newHarness(t, cfg)
	require.NoError(t, h.p.ConsumeLogs(context.Background(), ld))
	h.endWindow()
	return outcome{passed: ld, detections: detectionViews(t, h.sink, true)}
}

// detectionViews renders every detection record the sink received (with
// its resource when withResource) as JSON, sorted: a detection record is
// the same when its view is.
func detectionViews(t *testing.T, sink *consumertest.LogsSink, withResource bool) []string {
	t.Helper()
	var out []string
	for _, ld := range sink.AllLogs() {
		for _, rl := range ld.ResourceLogs().All() {
			for _, sl := range rl.ScopeLogs().All() {
				for _, lr := range sl.LogRecords().All() {
					if lr.EventName() != output.EventName {
						continue
					}
					v := map[string]any{
						"attributes": lr.Attributes().AsRaw(),
						"body":       lr.Body().AsRaw(),
						"severity":   fmt.Sprint(lr.SeverityNumber(), lr.SeverityText()),
						"timestamp":  lr.Timestamp().String(),
						"observed":   lr.ObservedTimestamp().String(),
						"scope":      sl.Scope().Name(),
					}
					if withResource {
						v["resource"] = rl.Resource().Attributes().AsRaw()
					}
					b, err := json.Marshal(v)
					require.NoError(t, err)
					out = append(out, string(b))
				}
			}
		}
	}
	slices.Sort(out)
	return out
}

// TestEventHubShapes: every shape the Event Hub receiver delivers gives the
// same tags, rows and detection records as the diagnostic record's JSON, in
// every output profile. The JSON path is run on each record as a string
// body under the resource its translation has, so that even the detection
// records' resources agree; the raw shape is compared with its message as a
// string body, as eventhub.jsonl is read.
func TestEventHubShapes(t *testing.T) {
	for _, edit := range recordEdits {
		msgs := messages(t, edit)
		for _, profile := range output.Profiles {
			for _, tr := range translations {
				t.Run(edit.name+"/"+profile+"/"+tr.name, func(t *testing.T) {
					shaped, jsonPath := plog.NewLogs(), plog.NewLogs()
					for _, msg := range msgs {
						for _, rec := range msg {
							ld, err := tr.build(envelope(rec))
							require.NoError(t, err)
							require.Equal(t, 1, ld.LogRecordCount())
							rl := ld.ResourceLogs().At(0)
							jrl := jsonPath.ResourceLogs().AppendEmpty()
							rl.Resource().CopyTo(jrl.Resource())
							jrl.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty().Body().SetStr(rec)
							rl.MoveTo(shaped.ResourceLogs().AppendEmpty())
						}
					}
					before := plog.NewLogs()
					shaped.CopyTo(before)
					got, want := runBatch(t, profile, shaped), runBatch(t, profile, jsonPath)
					passed, tagged, err := recordtest.WithTags(before, want.passed)
					require.NoError(t, err)
					assert.Equal(t, 3, tagged, "the three changes are tagged")
					require.NoError(t, plogtest.CompareLogs(passed, got.passed))
					assert.Len(t, want.detections, 3)
					assert.Equal(t, want.detections, got.detections)

					// Whole messages, several records per log batch, give the
					// same detection records.
					whole := plog.NewLogs()
					for _, msg := range msgs {
						ld, err := tr.build(envelope(msg...))
						require.NoError(t, err)
						ld.ResourceLogs().MoveAndAppendTo(whole.ResourceLogs())
					}
					assert.Equal(t, want.detections, runBatch(t, profile, whole).detections)
				})
			}
			t.Run(edit.name+"/"+profile+"/format raw", func(t *testing.T) {
				enqueued := testNow.Add(time.Hour)
				for _, asString := range []bool{false, true} {
					raw, jsonPath := plog.NewLogs(), plog.NewLogs()
					for _, msg := range msgs {
						ld := recordtest.Raw(envelope(msg...), enqueued)
						if asString {
							body := ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Body()
							body.SetStr(string(body.Bytes().AsRaw()))
						}
						ld.ResourceLogs().MoveAndAppendTo(raw.ResourceLogs())
						jsonPath.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty().Body().SetStr(string(envelope(msg...)))
					}
					before := plog.NewLogs()
					raw.CopyTo(before)
					got, want := runBatch(t, profile, raw), runBatch(t, profile, jsonPath)
					passed, tagged, err := recordtest.WithTags(before, want.passed)
					require.NoError(t, err)
					assert.Equal(t, 2, tagged, "two messages hold changes")
					require.NoError(t, plogtest.CompareLogs(passed, got.passed))
					assert.Equal(t, want.detections, got.detections, "string body: %v", asString)
				}
			})
		}
	}
}

// TestEventHubEnvelopeAgreesWithRecords: the envelope as one string body
// (the eventhub.jsonl path) gives the detection records that its records
// as separate bodies give, so that the shapes above are compared with what
// the processor makes of the Event Hub's JSON today.
func TestEventHubEnvelopeAgreesWithRecords(t *testing.T) {
	msgs := messages(t, recordEdits[0])
	envelopes, records := plog.NewLogs(), plog.NewLogs()
	for _, msg := range msgs {
		envelopes.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty().Body().SetStr(string(envelope(msg...)))
		for _, rec := range msg {
			records.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty().Body().SetStr(rec)
		}
	}
	want := runBatch(t, output.ProfileOCSF, envelopes).detections
	assert.Len(t, want, 3)
	assert.Equal(t, want, runBatch(t, output.ProfileOCSF, records).detections)
}

// TestEntraUser: an initiatedBy.user.userPrincipalName that is not a string
// is read as none, as a non-string Actor ID is on the Management Activity
// path: the user is then the app's service principal, else the fillnull 0.
func TestEntraUser(t *testing.T) {
	tests := []struct {
		name, initiatedBy, user string
	}{
		{"a string", `{"user":{"userPrincipalName":"alice@contoso.com"},"app":{"servicePrincipalId":"sp"}}`, "alice@contoso.com"},
		{"a number, with an app", `{"user":{"userPrincipalName":42},"app":{"servicePrincipalId":"sp"}}`, "sp"},
		{"an object, with an app", `{"user":{"userPrincipalName":{"v":"alice@contoso.com"}},"app":{"servicePrincipalId":"sp"}}`, "sp"},
		{"an array, no app", `{"user":{"userPrincipalName":["alice@contoso.com"]},"app":null}`, "0"},
		{"a boolean, no app", `{"user":{"userPrincipalName":true}}`, "0"},
		{"empty, with an app", `{"user":{"userPrincipalName":""},"app":{"servicePrincipalId":"sp"}}`, "sp"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := `{"time":"2025-03-04T10:15:30Z","resourceId":"/tenants/t/providers/Microsoft.aadiam","operationName":"Add a partner to cross-tenant access setting","category":"AuditLogs","tenantId":"t",` +
				`"properties":{"activityDisplayName":"Add a partner to cross-tenant access setting","initiatedBy":` + tt.initiatedBy + `}}`
			inputs := map[string]plog.Logs{"JSON": logsOf(t, []string{rec}, shapeString)}
			for _, tr := range translations {
				ld, err := tr.build(envelope(rec))
				require.NoError(t, err)
				inputs[tr.name] = ld
			}
			for name, ld := range inputs {
				h := newHarness(t, testConfig())
				require.NoError(t, h.p.ConsumeLogs(context.Background(), ld))
				h.endWindow()
				d := detections(h.sink)
				require.Len(t, d, 1, name)
				assert.Equal(t, tt.user, d[0].Attributes().AsRaw()["user"], name)
			}
		})
	}
}

// TestEntraEventTime: the event time is activityDateTime, else the
// diagnostic record's own time (also when activityDateTime is there but
// unreadable), and only then the log record's timestamps.
func TestEntraEventTime(t *testing.T) {
	const later = "2025-03-06T12:00:00Z" // the log record's Timestamp
	tests := []struct {
		name, fields, first string
	}{
		{"activityDateTime", `"time":"2025-03-04T10:15:30Z","properties":{"activityDateTime":"2025-03-04T10:15:29Z",`, "2025-03-04T10:15:29"},
		{"unreadable activityDateTime: the record's time", `"time":"2025-03-04T10:15:30Z","properties":{"activityDateTime":"not a time",`, "2025-03-04T10:15:30"},
		{"activityDateTime not a string: the record's time", `"time":"2025-03-04T10:15:30Z","properties":{"activityDateTime":20250304,`, "2025-03-04T10:15:30"},
		{"no activityDateTime: the record's time", `"time":"2025-03-04T10:15:30Z","properties":{`, "2025-03-04T10:15:30"},
		{"neither readable: the Timestamp", `"time":"soon","properties":{"activityDateTime":"not a time",`, "2025-03-06T12:00:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := `{"records":[{` + tt.fields + `"activityDisplayName":"Add a partner to cross-tenant access setting"}}]}`
			ld := logsOf(t, []string{body}, shapeString)
			ts, err := time.Parse(time.RFC3339, later)
			require.NoError(t, err)
			ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).SetTimestamp(pcommon.NewTimestampFromTime(ts))
			h := newHarness(t, testConfig())
			require.NoError(t, h.p.ConsumeLogs(context.Background(), ld))
			h.endWindow()
			d := detections(h.sink)
			require.Len(t, d, 1)
			assert.Equal(t, tt.first, d[0].Attributes().AsRaw()["firstTime"])
		})
	}
}
