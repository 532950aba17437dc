package o365detectprocessor

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/o365detect/o365detect/processor/o365detectprocessor/internal/metadatatest"
)

// The matched pair, for building candidates that then break in some way.
const (
	wl = `"Workload":"AzureActiveDirectory"`
	op = `"Operation":"Add a partner to cross-tenant access setting."`
)

// TestHostileInput feeds attacker-shaped and broken records. For each: no
// panic, the record passes through untouched (or, for a decodable match, only
// gains attributes), the processor keeps working, and telemetry counts it.
func TestHostileInput(t *testing.T) {
	hugeActor := `{` + wl + `,` + op + `,"Actor":[` + strings.Repeat(`{"ID":"x","Type":2},`, 10_000) + `{"ID":"User"}]}`
	var wide strings.Builder
	wide.WriteString(`{` + wl + `,` + op)
	for i := range 100_000 {
		wide.WriteString(`,"f`)
		wide.WriteString(strings.Repeat("k", i%7))
		wide.WriteString(`":`)
		wide.WriteString(`"v"`)
	}
	wide.WriteString(`}`)

	type outcome int
	const (
		invalid outcome = iota // candidate, undecodable: counted invalid
		matched                // decodable match: counted matched, tagged
		ignored                // not a candidate: nothing counted
	)
	tests := []struct {
		name string
		body func(lr plog.LogRecord)
		want outcome
		user string // for matched: the expected user
	}{
		{"invalid JSON", strBody(`{` + wl + `,` + op + `,}`), invalid, ""},
		{"truncated JSON", strBody(`{` + wl + `,` + op + `,"Actor":[{"ID":"al`), invalid, ""},
		{"invalid UTF-8", strBody("{" + wl + "," + op + ",\"Actor\":[{\"ID\":\"\xff\xfe\"},{\"ID\":\"User\"}]}"), matched, "\uFFFD\uFFFD"},
		{"10 MB body", strBody(`{` + wl + `,` + op + `,"Pad":"` + strings.Repeat("a", 10<<20) + `","Actor":[{"ID":"big@contoso.com"}]}`), matched, "big@contoso.com"},
		{"10 MB of garbage", strBody(strings.Repeat("{[", 5<<20)), ignored, ""},
		{"10,000-deep nesting", strBody(`{` + wl + `,` + op + `,"x":` + strings.Repeat(`[`, 10_000) + strings.Repeat(`]`, 10_000) + `}`), invalid, ""},
		{"9,998-deep nesting is accepted", strBody(`{` + wl + `,` + op + `,"x":` + strings.Repeat(`[`, 9_998) + strings.Repeat(`]`, 9_998) + `}`), matched, "0"},
		{"Actor as a string", strBody(`{` + wl + `,` + op + `,"Actor":"alice"}`), matched, "0"},
		{"Actor as a number", strBody(`{` + wl + `,` + op + `,"Actor":42}`), matched, "0"},
		{"Actor as an object", strBody(`{` + wl + `,` + op + `,"Actor":{"ID":"alice"}}`), matched, "0"},
		{"Actor null", strBody(`{` + wl + `,` + op + `,"Actor":null}`), matched, "0"},
		{"ID values that are numbers, objects or null", strBody(`{` + wl + `,` + op + `,"Actor":[{"ID":1},{"ID":{"a":1}},{"ID":null},{"ID":"bob@contoso.com"},{"ID":"User"}]}`), matched, "bob@contoso.com"},
		{"null everywhere", strBody(`{"Workload":null,"Operation":null,"Actor":null,"OrganizationId":null,"Id":null}`), ignored, ""},
		{"null everywhere but the match", strBody(`{` + wl + `,` + op + `,"Actor":null,"OrganizationId":null,"Id":null,"ClientIP":null,"ActorIpAddress":null,"CreationTime":null}`), matched, "0"},
		{"duplicate keys: last wins", strBody(`{"Workload":"Exchange",` + op + `,` + wl + `,"Actor":[{"ID":"first"}],"Actor":[{"ID":"last"}]}`), matched, "last"},
		{"duplicate keys: last loses the match", strBody(`{` + wl + `,` + op + `,"Workload":"Exchange"}`), ignored, ""},
		{"a record of 100,000 fields", strBody(wide.String()), matched, "0"},
		{"an Actor of 10,001 elements", strBody(hugeActor), matched, "x"},
		{"int body", func(lr plog.LogRecord) { lr.Body().SetInt(42) }, ignored, ""},
		{"double body", func(lr plog.LogRecord) { lr.Body().SetDouble(4.2) }, ignored, ""},
		{"bool body", func(lr plog.LogRecord) { lr.Body().SetBool(true) }, ignored, ""},
		{"empty body", func(plog.LogRecord) {}, ignored, ""},
		{"empty string body", strBody(""), ignored, ""},
		{"slice body", func(lr plog.LogRecord) { lr.Body().SetEmptySlice().AppendEmpty().SetStr(`{` + wl + `,` + op + `}`) }, ignored, ""},
		{"bytes body holding a match", func(lr plog.LogRecord) { lr.Body().SetEmptyBytes().FromRaw([]byte(`{` + wl + `,` + op + `}`)) }, matched, "0"},
		{"map body with wrong types", func(lr plog.LogRecord) {
			m := lr.Body().SetEmptyMap()
			m.PutInt("Workload", 8)
			m.PutStr("Operation", "Add a partner to cross-tenant access setting.")
			m.PutEmptySlice("Actor").AppendEmpty().SetInt(3)
		}, ignored, ""},
		{"map body with a nested Actor of wrong shapes", func(lr plog.LogRecord) {
			m := lr.Body().SetEmptyMap()
			m.PutStr("Workload", "AzureActiveDirectory")
			m.PutStr("Operation", "Delete partner specific cross-tenant access setting.")
			actors := m.PutEmptySlice("Actor")
			actors.AppendEmpty().SetEmptyMap().PutInt("ID", 7)
			actors.AppendEmpty().SetEmptyMap().PutStr("ID", "carol@contoso.com")
			actors.AppendEmpty().SetEmptyBytes()
		}, matched, "carol@contoso.com"},
		{"array of records", strBody(`[{` + wl + `,` + op + `}]`), ignored, ""},
		{"plain text that mentions the operation", strBody(`Add a partner to cross-tenant access setting. AzureActiveDirectory`), ignored, ""},
		// Lower-casing Ⱥ makes it longer in bytes; the tenant id read from
		// the resource id must not be cut at an offset into a lowered copy.
		{"Entra record whose resource id grows when lower-cased", strBody(`{"records":[{"resourceId":"/tenants/ȺȺȺ","properties":{"activityDisplayName":"Add a partner to cross-tenant access setting","initiatedBy":{"user":{"userPrincipalName":"eve@contoso.com"}}}}]}`), matched, "eve@contoso.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tel := componenttest.NewTelemetry()
			t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
			h := newHarnessWith(t, testConfig(), metadatatest.NewSettings(tel), nil)

			in := plog.NewLogs()
			lr := in.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
			lr.Attributes().PutStr("log.file.name", "audit.jsonl")
			tt.body(lr)
			want := plog.NewLogs()
			in.CopyTo(want)

			require.NotPanics(t, func() {
				require.NoError(t, h.p.ConsumeLogs(context.Background(), in))
			})
			require.Len(t, h.sink.AllLogs(), 1)
			got := h.sink.AllLogs()[0].ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0)
			wantLR := want.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0)
			assert.True(t, wantLR.Body().Equal(got.Body()), "the body is never changed")

			counts := map[string]int64{}
			for _, name := range []string{"matched", "invalid"} {
				m, err := tel.GetMetric("otelcol_processor_o365_detect_records_" + name)
				if err == nil {
					for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
						counts[name] += dp.Value
					}
				}
			}
			switch tt.want {
			case invalid:
				assert.Equal(t, map[string]int64{"invalid": 1}, counts)
				assert.True(t, wantLR.Attributes().Equal(got.Attributes()), "not tagged")
			case ignored:
				assert.Empty(t, counts)
				assert.True(t, wantLR.Attributes().Equal(got.Attributes()), "not tagged")
			case matched:
				assert.Equal(t, map[string]int64{"matched": 1}, counts)
				user, ok := got.Attributes().Get("user")
				require.True(t, ok, "tagged")
				assert.Equal(t, tt.user, user.Str())
			}

			// The processor keeps working afterwards.
			consume(t, h, match("after@contoso.com", "1", "2025-03-04T10:00:00"))
			h.endWindow()
			dets := detections(h.sink)
			require.NotEmpty(t, dets)
			assert.Equal(t, "after@contoso.com", dets[len(dets)-1].Attributes().AsRaw()["user"])
		})
	}
}

func strBody(s string) func(lr plog.LogRecord) {
	return func(lr plog.LogRecord) { lr.Body().SetStr(s) }
}
