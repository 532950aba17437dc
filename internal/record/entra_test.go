package record_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/o365detect/o365detect/internal/record"
)

func entraLines(t testing.TB, name string) []string {
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "entra", name))
	require.NoError(t, err)
	return strings.Split(strings.TrimSpace(string(b)), "\n")
}

func TestReadEntraEnvelope(t *testing.T) {
	lr := plog.NewLogRecord()
	lr.Body().SetStr(entraLines(t, "eventhub.jsonl")[0])
	recs, status := record.NewReader("Id").ReadEntra(lr, pcommon.NewResource(), nil, false)
	require.Equal(t, record.Decoded, status)
	require.Len(t, recs, 3)
	assert.Equal(t, record.EntraRecord{
		Activity:         str("Add a partner to cross-tenant access setting"),
		TenantID:         "5f2b8c1d-3e4a-4b6c-9d7e-0a1b2c3d4e5f",
		UPN:              "alice.admin@contoso.com",
		IPAddress:        "203.0.113.10",
		CallerIP:         "203.0.113.10",
		ID:               "Directory_d4c3b2a1-4444-4f6e-8d7c-6b5a49382716_4KQ6B_12345678",
		CorrelationID:    "d4c3b2a1-4444-4f6e-8d7c-6b5a49382716",
		Time:             "2025-03-04T10:15:30.1234567Z",
		RecordTime:       "2025-03-04T10:15:30.1234567Z",
		PartnerTenantNew: "9b8a7c6d-2222-4e5f-8a9b-1c2d3e4f5a6b",
		UserID:           "0c1d2e3f-3333-4a5b-8c6d-7e8f9a0b1c2d",
		Properties: []record.Property{{
			TargetType: "Policy",
			Name:       "tenantId",
			NewValue:   `"9b8a7c6d-2222-4e5f-8a9b-1c2d3e4f5a6b"`,
		}},
	}, recs[0])
	assert.Equal(t, "bc56af95-7a3b-459f-98a9-bd86532b0e89", recs[2].AppID)
	assert.Equal(t, "7e6d5c4b-aaaa-4b3a-9c8d-1e2f3a4b5c6d", recs[2].ServicePrincipalID)
	assert.Equal(t, "b4c546a4-7dac-46a6-a7dd-ed822a11efd3", recs[2].PartnerTenantOld, "JSON-encoded values are decoded")
}

func TestReadEntraShapesAgree(t *testing.T) {
	for _, line := range append(entraLines(t, "eventhub.jsonl"), entraLines(t, "graph.jsonl")...) {
		fromString := plog.NewLogRecord()
		fromString.Body().SetStr(line)
		want, status := record.NewReader("Id").ReadEntra(fromString, pcommon.NewResource(), nil, false)
		require.Equal(t, record.Decoded, status)

		var raw map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &raw))
		fromMap := plog.NewLogRecord()
		require.NoError(t, fromMap.Body().SetEmptyMap().FromRaw(raw))
		fromAttrs := plog.NewLogRecord()
		require.NoError(t, fromAttrs.Attributes().FromRaw(raw))
		for _, lr := range []plog.LogRecord{fromMap, fromAttrs} {
			got, status := record.NewReader("Id").ReadEntra(lr, pcommon.NewResource(), nil, false)
			require.Equal(t, record.Decoded, status)
			assert.Equal(t, want, got)
		}
	}
}

func TestReadEntraCases(t *testing.T) {
	const add = `"properties":{"activityDisplayName":"Add a partner to cross-tenant access setting"}`
	tests := []struct {
		name   string
		body   string
		status record.Status
		n      int
		tenant string // of the first record, when n > 0
	}{
		{"not a candidate", `{"records":[{"properties":{"activityDisplayName":"Update user"}}]}`, record.NotCandidate, 0, ""},
		{"a candidate ESCU does not match", `{"records":[{"properties":{"activityDisplayName":"Update a partner cross-tenant access setting"}}]}`, record.Decoded, 1, ""},
		{"cross-tenant only outside the activity", `{"records":[{"properties":{"activityDisplayName":"Update user","category":"cross-tenant"}}]}`, record.NotCandidate, 0, ""},
		{"escaped activity", `{"activityDisplayName":"Add a partner to cross\u002dtenant access setting"}`, record.Decoded, 1, ""},
		{"invalid JSON", `{"activityDisplayName":"Add a partner to cross-tenant access setting",}`, record.Invalid, 0, ""},
		{"records not an array", `{"records":{"activityDisplayName":"Add a partner to cross-tenant access setting"}}`, record.Decoded, 1, ""},
		{"non-object records skipped", `{"records":[1,"x",null,{` + add + `}]}`, record.Decoded, 1, ""},
		{"resource id gives the tenant", `{"records":[{"resourceId":"/tenants/AbC/providers/Microsoft.aadiam",` + add + `}]}`, record.Decoded, 1, "AbC"},
		{"resource id prefix in any case", `{"records":[{"resourceId":"/TENANTS/AbC/providers/Microsoft.aadiam",` + add + `}]}`, record.Decoded, 1, "AbC"},
		{"resource id without a provider", `{"records":[{"resourceId":"/tenants/AbC",` + add + `}]}`, record.Decoded, 1, "AbC"},
		{"resource id of another kind", `{"records":[{"resourceId":"/subscriptions/AbC",` + add + `}]}`, record.Decoded, 1, ""},
		// Lower-casing these changes their length in bytes (Ⱥ grows, the
		// Kelvin sign shrinks): the tenant must be cut from the id as
		// written, not at an offset found in a case-mapped copy.
		{"resource id that grows when lower-cased", `{"records":[{"resourceId":"/tenants/ȺȺȺ",` + add + `}]}`, record.Decoded, 1, "ȺȺȺ"},
		{"resource id that shrinks when lower-cased", `{"records":[{"resourceId":"/tenants/KKK/providers/x",` + add + `}]}`, record.Decoded, 1, "KKK"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lr := plog.NewLogRecord()
			lr.Body().SetStr(tt.body)
			recs, status := record.NewReader("Id").ReadEntra(lr, pcommon.NewResource(), nil, false)
			assert.Equal(t, tt.status, status)
			require.Len(t, recs, tt.n)
			if tt.n > 0 {
				assert.Equal(t, tt.tenant, recs[0].TenantID)
			}
		})
	}
}
