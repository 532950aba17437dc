package record_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/o365detect/o365detect/internal/record"
	"github.com/o365detect/o365detect/internal/record/recordtest"
	"github.com/o365detect/o365detect/internal/rule"
)

// translations are the Event Hub receiver's ways of turning a message into
// log records.
var translations = []struct {
	name  string
	build func([]byte) (plog.Logs, error)
}{
	{"format azure", recordtest.FormatAzure},
	{"semantic conventions", recordtest.SemanticConventions},
	{"azure_encoding", recordtest.AzureEncoding},
}

// diagnosticRecords returns the records of the test messages, each as its
// own JSON text.
func diagnosticRecords(t *testing.T) []string {
	var out []string
	for _, name := range []string{"eventhub.jsonl", "eventhub_other.jsonl"} {
		for _, msg := range entraLines(t, name) {
			var m struct{ Records []json.RawMessage }
			require.NoError(t, json.Unmarshal([]byte(msg), &m))
			for _, r := range m.Records {
				out = append(out, string(r))
			}
		}
	}
	return out
}

// readTranslated reads the one log record a translation makes of a message
// holding rec alone.
func readTranslated(t *testing.T, build func([]byte) (plog.Logs, error), rec string) ([]record.EntraRecord, record.Status) {
	t.Helper()
	ld, err := build([]byte(`{"records":[` + rec + `]}`))
	require.NoError(t, err)
	require.Equal(t, 1, ld.LogRecordCount())
	rl := ld.ResourceLogs().At(0)
	return record.NewReader("Id").ReadEntra(rl.ScopeLogs().At(0).LogRecords().At(0), rl.Resource(), nil, false)
}

// TestReadEntraTranslationsAgree: every translation of a diagnostic record
// reads as its JSON does, except that the record's time is the Timestamp's
// now; and no translation of a record that no rule can match (one of no
// cross-tenant activity) is decoded.
func TestReadEntraTranslationsAgree(t *testing.T) {
	matched, candidates := 0, 0
	for _, rec := range diagnosticRecords(t) {
		lr := plog.NewLogRecord()
		lr.Body().SetStr(rec)
		want, status := record.NewReader("Id").ReadEntra(lr, pcommon.NewResource(), nil, false)
		candidate := status == record.Decoded && len(want) == 1 && hasCrossTenant(want[0].Activity.Text)
		if candidate {
			candidates++
			if rule.MatchEntra(&want[0]) {
				matched++
			}
			want[0].RecordTime = ""
		}
		for _, tr := range translations {
			got, status := readTranslated(t, tr.build, rec)
			if !candidate {
				assert.Equal(t, record.NotCandidate, status, "%s of %.120s", tr.name, rec)
				continue
			}
			require.Equal(t, record.Decoded, status, tr.name)
			assert.Equal(t, want, got, tr.name)
		}
	}
	assert.Equal(t, 3, matched, "the test messages hold three changes ESCU matches")
	assert.Equal(t, 5, candidates, "and five cross-tenant activities")
}

func TestReadEntraTranslationCases(t *testing.T) {
	const (
		add     = "Add a partner to cross-tenant access setting"
		tenant  = "5f2b8c1d-3e4a-4b6c-9d7e-0a1b2c3d4e5f"
		otherID = "/tenants/AbC/providers/Microsoft.aadiam"
	)
	audit := func(activity any) map[string]any {
		return map[string]any{"activityDisplayName": activity, "id": "Directory_x"}
	}
	formatAzure := func(op any, activity any) map[string]any {
		return map[string]any{"azure.category": "AuditLogs", "azure.operation.name": op, "azure.properties": audit(activity)}
	}
	tests := []struct {
		name     string
		attrs    map[string]any // empty body
		body     map[string]any // map body, when set
		resource map[string]any
		status   record.Status
		tenant   string // of the record, when decoded
		activity string
	}{
		{name: "format azure", attrs: formatAzure(add, add), status: record.Decoded, activity: add},
		{name: "format azure: the operation name decides before the properties are read", attrs: formatAzure("Update user", add), status: record.NotCandidate},
		{name: "format azure: the activity still decides the match", attrs: formatAzure(add, "Update user"), status: record.Decoded, activity: "Update user"},
		{name: "format azure: an operation name that is not a string", attrs: formatAzure(int64(7), add), status: record.NotCandidate},
		{name: "format azure: no operation name", attrs: map[string]any{"azure.properties": audit(add)}, status: record.NotCandidate},
		{name: "format azure: the operation name in any case", attrs: formatAzure("ADD A PARTNER TO CROSS-TENANT ACCESS SETTING", add), status: record.Decoded, activity: add},
		{
			name:   "format azure: the tenant attribute",
			attrs:  map[string]any{"azure.operation.name": add, "azure.tenant.id": tenant, "azure.properties": audit(add)},
			status: record.Decoded, tenant: tenant, activity: add, resource: map[string]any{"azure.resource.id": otherID},
		},
		{
			name:   "format azure: without a tenant, the resource id's",
			attrs:  formatAzure(add, add),
			status: record.Decoded, tenant: "AbC", activity: add, resource: map[string]any{"azure.resource.id": otherID},
		},
		{
			name:   "semantic conventions: tenant.id",
			body:   map[string]any{"operation.name": add, "tenant.id": tenant, "properties": audit(add)},
			status: record.Decoded, tenant: tenant, activity: add, resource: map[string]any{"cloud.resource_id": otherID},
		},
		{
			name:   "semantic conventions: without a tenant, the resource id's",
			body:   map[string]any{"operation.name": add, "properties": audit(add)},
			status: record.Decoded, tenant: "AbC", activity: add, resource: map[string]any{"cloud.resource_id": otherID},
		},
		{name: "semantic conventions: another operation", body: map[string]any{"operation.name": "Sign-in activity", "properties": audit(add)}, status: record.NotCandidate},
		{
			name:   "azure_encoding: the tenant on the resource",
			attrs:  map[string]any{"azure.category": "AuditLogs", "activityDisplayName": add},
			status: record.Decoded, tenant: tenant, activity: add, resource: map[string]any{"azure.tenant.id": tenant, "cloud.resource_id": otherID},
		},
		{
			name:   "azure_encoding: without a tenant, the resource id's",
			attrs:  map[string]any{"azure.category": "AuditLogs", "activityDisplayName": add},
			status: record.Decoded, tenant: "AbC", activity: add, resource: map[string]any{"cloud.resource_id": otherID},
		},
		{name: "azure_encoding: another activity", attrs: map[string]any{"azure.category": "AuditLogs", "activityDisplayName": "Update user"}, status: record.NotCandidate},
		{name: "Graph object in attributes: another activity", attrs: audit("Update user"), status: record.NotCandidate},
		{name: "Graph object in attributes: no tenant even on an Azure resource", attrs: audit(add), status: record.Decoded, activity: add, resource: map[string]any{"azure.tenant.id": tenant}},
		{name: "attributes of no shape", attrs: map[string]any{"log.file.name": "x", "cloud.provider": "azure"}, status: record.NotCandidate},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lr := plog.NewLogRecord()
			require.NoError(t, lr.Attributes().FromRaw(tt.attrs))
			if tt.body != nil {
				require.NoError(t, lr.Body().SetEmptyMap().FromRaw(tt.body))
			}
			res := pcommon.NewResource()
			require.NoError(t, res.Attributes().FromRaw(tt.resource))
			recs, status := record.NewReader("Id").ReadEntra(lr, res, nil, false)
			require.Equal(t, tt.status, status)
			if status != record.Decoded {
				return
			}
			require.Len(t, recs, 1)
			assert.Equal(t, tt.tenant, recs[0].TenantID)
			assert.Equal(t, tt.activity, recs[0].Activity.Text)
		})
	}
}

// TestReadEntraTranslatedRepeatedKeys: OTLP data can repeat a key, and the
// last one counts in the cheap checks as in the full read.
func TestReadEntraTranslatedRepeatedKeys(t *testing.T) {
	const otlp = `{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"attributes":[
		{"key":"azure.operation.name","value":{"stringValue":"Update user"}},
		{"key":"azure.properties","value":{"kvlistValue":{"values":[{"key":"activityDisplayName","value":{"stringValue":"Add a partner to cross-tenant access setting"}}]}}},
		{"key":"azure.operation.name","value":{"stringValue":"Add a partner to cross-tenant access setting"}}]}]}]}]}`
	ld, err := (&plog.JSONUnmarshaler{}).UnmarshalLogs([]byte(otlp))
	require.NoError(t, err)
	rl := ld.ResourceLogs().At(0)
	lr := rl.ScopeLogs().At(0).LogRecords().At(0)
	require.Equal(t, 3, lr.Attributes().Len(), "the repeated key must survive unmarshalling")
	recs, status := record.NewReader("Id").ReadEntra(lr, rl.Resource(), nil, false)
	require.Equal(t, record.Decoded, status)
	require.Len(t, recs, 1)
	assert.True(t, rule.MatchEntra(&recs[0]))
}

// TestReadEntraNonStringUPN: a userPrincipalName that is not a string is
// read as none, in every shape, as a non-string Actor ID is; the row then
// falls back to the service principal (see rule.NewEntraRow).
func TestReadEntraNonStringUPN(t *testing.T) {
	for _, upn := range []string{`42`, `true`, `{"value":"alice@contoso.com"}`, `["alice@contoso.com"]`, `null`} {
		rec := `{"time":"2025-03-04T10:15:30Z","resourceId":"/tenants/t/providers/Microsoft.aadiam","operationName":"Add a partner to cross-tenant access setting","category":"AuditLogs","tenantId":"t",` +
			`"properties":{"activityDisplayName":"Add a partner to cross-tenant access setting","initiatedBy":{"user":{"userPrincipalName":` + upn + `,"ipAddress":"203.0.113.10"},"app":{"servicePrincipalId":"sp"}}}}`
		lr := plog.NewLogRecord()
		lr.Body().SetStr(rec)
		got, status := record.NewReader("Id").ReadEntra(lr, pcommon.NewResource(), nil, false)
		require.Equal(t, record.Decoded, status, upn)
		require.Len(t, got, 1)
		assert.Empty(t, got[0].UPN, "JSON, %s", upn)
		assert.Equal(t, "sp", got[0].ServicePrincipalID)
		for _, tr := range translations {
			got, status := readTranslated(t, tr.build, rec)
			require.Equal(t, record.Decoded, status, tr.name)
			assert.Empty(t, got[0].UPN, "%s, %s", tr.name, upn)
		}
	}
}

// TestReadEntraRecordTime: activityDateTime and the diagnostic record's
// time are kept apart, so that an unreadable activityDateTime falls back to
// the record's own time.
func TestReadEntraRecordTime(t *testing.T) {
	lr := plog.NewLogRecord()
	lr.Body().SetStr(`{"records":[{"time":"2025-03-04T10:15:30Z","properties":{"activityDisplayName":"Add a partner to cross-tenant access setting","activityDateTime":"yesterday"}}]}`)
	got, status := record.NewReader("Id").ReadEntra(lr, pcommon.NewResource(), nil, false)
	require.Equal(t, record.Decoded, status)
	require.Len(t, got, 1)
	assert.Equal(t, "yesterday", got[0].Time)
	assert.Equal(t, "2025-03-04T10:15:30Z", got[0].RecordTime)

	lr.Body().SetStr(`{"activityDisplayName":"Add a partner to cross-tenant access setting","activityDateTime":"2025-03-04T10:15:31Z","time":"2025-03-04T10:15:30Z"}`)
	got, _ = record.NewReader("Id").ReadEntra(lr, pcommon.NewResource(), nil, false)
	require.Len(t, got, 1)
	assert.Empty(t, got[0].RecordTime, "a Graph object has no diagnostic record around it")
}
