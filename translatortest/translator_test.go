// Package translatortest runs o365_detect on the log records that the
// contrib azure_event_hub receiver makes of Entra ID diagnostic records,
// made by the receiver's own translator (pkg/translator/azure), and checks
// that they give what the same records give as JSON.
//
// It is a module of its own, as bench/ is, so that the translator and its
// dependencies stay out of the processor's import graph, and it holds test
// files only, so that nothing in it is an input of the collector's build.
package translatortest

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/pdatatest/plogtest"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/translator/azure"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/processor/processortest"
	"go.uber.org/zap"

	"github.com/o365detect/o365detect/internal/output"
	"github.com/o365detect/o365detect/internal/record/recordtest"
	"github.com/o365detect/o365detect/internal/repotest"
	"github.com/o365detect/o365detect/processor/o365detectprocessor"
)

// translate is format: azure exactly as the receiver calls it: the
// translator with the receiver's version, a logger and no extra time
// formats.
func translate(t *testing.T, msg []byte) plog.Logs {
	t.Helper()
	u := azure.ResourceLogsUnmarshaler{Version: "v0.158.0", Logger: zap.NewNop()}
	ld, err := u.UnmarshalLogs(msg)
	require.NoError(t, err)
	return ld
}

// raw is format: raw as the receiver builds it: one log record per
// message, the message bytes as its body, the enqueued time as its
// Timestamp, the AMQP application properties (none here) as attributes.
func raw(msg []byte, enqueued time.Time) plog.Logs {
	ld := plog.NewLogs()
	lr := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	lr.Body().SetEmptyBytes().Append(msg...)
	lr.SetTimestamp(pcommon.NewTimestampFromTime(enqueued))
	return ld
}

// recordEdit changes a diagnostic record and its directoryAudit
// (properties): the translator is also run on records whose fields it must
// move, or that the detection must fall back from.
type recordEdit struct {
	name string
	edit func(rec, props map[string]any)
}

var recordEdits = []recordEdit{
	{"as written", func(_, _ map[string]any) {}},
	{"no activityDateTime", func(_, p map[string]any) { delete(p, "activityDateTime") }},
	{"unreadable activityDateTime", func(_, p map[string]any) { p["activityDateTime"] = "not a time" }},
	{"no tenantId", func(r, _ map[string]any) { delete(r, "tenantId") }},
	{"a resourceId of another tenant", func(r, _ map[string]any) {
		r["resourceId"] = "/tenants/0e1f2a3b-0000-4c5d-8e6f-7a8b9c0d1e2f/providers/Microsoft.aadiam"
	}},
	{"no ipAddress in the audit", func(_, p map[string]any) {
		if by, ok := p["initiatedBy"].(map[string]any); ok {
			if u, ok := by["user"].(map[string]any); ok {
				delete(u, "ipAddress")
			}
		}
	}},
}

// messages returns the Entra test messages ({"records":[...]}) with edit
// applied to every record, and each message's records as JSON texts:
// cross-tenant changes beside other AuditLogs and SignInLogs records, as
// Microsoft's diagnostic settings stream them.
func messages(t *testing.T, edit recordEdit) (msgs []string, records [][]string) {
	t.Helper()
	for _, name := range []string{"eventhub.jsonl", "eventhub_other.jsonl"} {
		for _, line := range repotest.Lines(t, "entra", name) {
			dec := json.NewDecoder(strings.NewReader(line))
			dec.UseNumber()
			var m struct{ Records []map[string]any }
			require.NoError(t, dec.Decode(&m))
			var recs []string
			for _, r := range m.Records {
				props, ok := r["properties"].(map[string]any)
				require.True(t, ok, "every test record has properties")
				edit.edit(r, props)
				b, err := json.Marshal(r)
				require.NoError(t, err)
				recs = append(recs, string(b))
			}
			msgs = append(msgs, `{"records":[`+strings.Join(recs, ",")+`]}`)
			records = append(records, recs)
		}
	}
	return msgs, records
}

// result is what one batch gave: the records passed through and the
// detection records.
type result struct {
	passed     plog.Logs
	detections []string
}

// run sends ld through an o365_detect built by its public factory, with
// the given output profile and defaults otherwise, and shuts it down, which
// emits every open group.
func run(t *testing.T, profile string, ld plog.Logs) result {
	t.Helper()
	ctx := context.Background()
	f := o365detectprocessor.NewFactory()
	cfg := f.CreateDefaultConfig().(*o365detectprocessor.Config)
	cfg.Profile = profile
	sink := new(consumertest.LogsSink)
	p, err := f.CreateLogs(ctx, processortest.NewNopSettings(f.Type()), cfg, sink)
	require.NoError(t, err)
	require.NoError(t, p.Start(ctx, componenttest.NewNopHost()))
	require.NoError(t, p.ConsumeLogs(ctx, ld))
	require.NoError(t, p.Shutdown(ctx))
	return result{passed: ld, detections: detectionViews(t, sink)}
}

// detectionViews renders each detection record with its resource and
// scope as JSON, sorted. Timestamp (the emission) and ObservedTimestamp
// (the arrival) are processing times and left out, and so is the one
// processing time in a body, the OCSF finding's time (its creation).
func detectionViews(t *testing.T, sink *consumertest.LogsSink) []string {
	t.Helper()
	var out []string
	for _, ld := range sink.AllLogs() {
		for _, rl := range ld.ResourceLogs().All() {
			for _, sl := range rl.ScopeLogs().All() {
				for _, lr := range sl.LogRecords().All() {
					if lr.EventName() != output.EventName {
						continue
					}
					body := lr.Body().AsRaw()
					if finding, ok := body.(map[string]any); ok {
						delete(finding, "time")
					}
					b, err := json.Marshal(map[string]any{
						"resource":   rl.Resource().Attributes().AsRaw(),
						"scope":      sl.Scope().Name(),
						"attributes": lr.Attributes().AsRaw(),
						"body":       body,
						"severity":   fmt.Sprint(lr.SeverityNumber(), lr.SeverityText()),
					})
					require.NoError(t, err)
					out = append(out, string(b))
				}
			}
		}
	}
	slices.Sort(out)
	return out
}

func copyOf(ld plog.Logs) plog.Logs {
	c := plog.NewLogs()
	ld.CopyTo(c)
	return c
}

// TestFormatAzure: the translator's log records (empty bodies, azure.*
// attributes, the directoryAudit in azure.properties) give, in every output
// profile, the tags, detection records and pass-through that the same
// diagnostic records give as JSON string bodies. The JSON path runs each
// record under the resource the translator gave it, so that the detection
// records' resources agree too.
func TestFormatAzure(t *testing.T) {
	for _, edit := range recordEdits {
		msgs, records := messages(t, edit)
		for _, profile := range output.Profiles {
			t.Run(edit.name+"/"+profile, func(t *testing.T) {
				translated, jsonPath := plog.NewLogs(), plog.NewLogs()
				for _, recs := range records {
					for _, rec := range recs {
						ld := translate(t, []byte(`{"records":[`+rec+`]}`))
						require.Equal(t, 1, ld.LogRecordCount())
						rl := ld.ResourceLogs().At(0)
						jrl := jsonPath.ResourceLogs().AppendEmpty()
						rl.Resource().CopyTo(jrl.Resource())
						jrl.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty().Body().SetStr(rec)
						rl.MoveTo(translated.ResourceLogs().AppendEmpty())
					}
				}
				before := copyOf(translated)
				got, want := run(t, profile, translated), run(t, profile, jsonPath)

				passed, tagged, err := recordtest.WithTags(before, want.passed)
				require.NoError(t, err)
				assert.Equal(t, 3, tagged, "the three cross-tenant changes are tagged")
				require.NoError(t, plogtest.CompareLogs(passed, got.passed), "pass-through: every record as translated, plus the JSON path's tags")
				require.Len(t, want.detections, 3)
				assert.Equal(t, want.detections, got.detections)

				// The messages as the receiver gets them, several records
				// each. Each message's records share one resource, so the
				// translation keeps them in the order of the records above.
				whole := plog.NewLogs()
				for _, msg := range msgs {
					translate(t, []byte(msg)).ResourceLogs().MoveAndAppendTo(whole.ResourceLogs())
				}
				wholePassed, _, err := recordtest.WithTags(copyOf(whole), want.passed)
				require.NoError(t, err)
				wholeGot := run(t, profile, whole)
				require.NoError(t, plogtest.CompareLogs(wholePassed, wholeGot.passed))
				assert.Equal(t, want.detections, wholeGot.detections)
			})
		}
	}
}

// TestFormatRaw: a message delivered whole as a bytes body (or a string)
// gives what the same message gives as a string body, which is how
// eventhub.jsonl is read; and that is what the records give one by one.
func TestFormatRaw(t *testing.T) {
	msgs, records := messages(t, recordEdits[0])
	enqueued := time.Date(2025, 3, 7, 9, 0, 0, 0, time.UTC)
	for _, profile := range output.Profiles {
		for _, asString := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/string body %v", profile, asString), func(t *testing.T) {
				rawLogs, jsonPath := plog.NewLogs(), plog.NewLogs()
				for _, msg := range msgs {
					ld := raw([]byte(msg), enqueued)
					if asString {
						body := ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Body()
						body.SetStr(string(body.Bytes().AsRaw()))
					}
					ld.ResourceLogs().MoveAndAppendTo(rawLogs.ResourceLogs())
					jsonPath.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty().Body().SetStr(msg)
				}
				before := copyOf(rawLogs)
				got, want := run(t, profile, rawLogs), run(t, profile, jsonPath)
				passed, tagged, err := recordtest.WithTags(before, want.passed)
				require.NoError(t, err)
				assert.Equal(t, 2, tagged, "two of the messages hold changes")
				require.NoError(t, plogtest.CompareLogs(passed, got.passed))
				require.Len(t, want.detections, 3)
				assert.Equal(t, want.detections, got.detections)

				// The records one by one, in the same (empty) resource.
				single := plog.NewLogs()
				for _, recs := range records {
					for _, rec := range recs {
						single.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty().Body().SetStr(rec)
					}
				}
				assert.Equal(t, want.detections, run(t, profile, single).detections)
			})
		}
	}
}

// TestRecordtestFormatAzure: the root module's tests build format: azure
// records with recordtest.FormatAzure, written from the translator's
// source; it must build what the translator builds.
func TestRecordtestFormatAzure(t *testing.T) {
	for _, edit := range recordEdits {
		msgs, records := messages(t, edit)
		// And one message holding every record, AuditLogs and SignInLogs
		// mixed.
		var all []string
		for _, recs := range records {
			all = append(all, recs...)
		}
		msgs = append(msgs, `{"records":[`+strings.Join(all, ",")+`]}`)
		for _, msg := range msgs {
			want := translate(t, []byte(msg))
			got, err := recordtest.FormatAzure([]byte(msg))
			require.NoError(t, err)
			// The scope's version is the receiver's build version, which
			// the builder has no use for.
			require.NoError(t, plogtest.CompareLogs(want, got, plogtest.IgnoreScopeLogsVersion()), edit.name)
		}
	}
}
