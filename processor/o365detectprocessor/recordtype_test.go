package o365detectprocessor

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// crossTenantRecord is a cross-tenant change by a user actor, with the
// RecordType and Workload given as JSON text.
func crossTenantRecord(recordType, workload, operation string) string {
	return fmt.Sprintf(`{"CreationTime":"2025-03-04T10:15:30","Id":"6a1e0c3b-3720-4d5e-8f6a-7b8c9d0e1f2a",`+
		`"Operation":%q,"OrganizationId":"5f2b8c1d-3e4a-4b6c-9d7e-0a1b2c3d4e5f","RecordType":%s,`+
		`"UserType":0,"Version":1,"Workload":%s,"ClientIP":"203.0.113.10","UserId":"alice.admin@contoso.com",`+
		`"Actor":[{"ID":"alice.admin@contoso.com","Type":5},{"ID":"1003200012345678","Type":3},{"ID":"User","Type":2}]}`,
		operation, recordType, workload)
}

// TestRecordTypeDoesNotDecideTheMatch pins that the detection, like ESCU's search,
// matches on Workload and Operation only. Every published cross-tenant
// change is RecordType 8 (AzureActiveDirectory); the schema's RecordType 372
// (CrossTenantAccessPolicy) is not tied to any operation, so a change
// delivered under it, or under a RecordType written as a string, is still
// seen while its Workload is AzureActiveDirectory, and missed under any
// other Workload.
func TestRecordTypeDoesNotDecideTheMatch(t *testing.T) {
	const (
		add = "Add a partner to cross-tenant access setting."
		del = "Delete partner specific cross-tenant access setting."
		aad = `"AzureActiveDirectory"`
	)
	tests := []struct {
		name       string
		recordType string
		workload   string
		operation  string
		detected   bool
	}{
		{"8, the published type", "8", aad, add, true},
		{"372 add", "372", aad, add, true},
		{"372 delete", "372", aad, del, true},
		{"372 as a string", `"372"`, aad, add, true},
		{"RecordType null", "null", aad, del, true},
		{"372 under another Workload", "372", `"CrossTenantAccessPolicy"`, add, false},
		{"372 under Exchange", "372", `"Exchange"`, del, false},
	}
	for _, tt := range tests {
		for _, sh := range shapes {
			t.Run(tt.name+"/"+string(sh), func(t *testing.T) {
				h := newHarness(t, testConfig())
				line := crossTenantRecord(tt.recordType, tt.workload, tt.operation)
				require.NoError(t, h.p.ConsumeLogs(context.Background(), logsOf(t, []string{line}, sh)))
				h.endWindow()

				passed := h.sink.AllLogs()[0].ResourceLogs().At(0).ScopeLogs().At(0).LogRecords()
				require.Equal(t, 1, passed.Len(), "the record passes through")
				_, tagged := passed.At(0).Attributes().Get("user")
				assert.Equal(t, tt.detected, tagged, "tagged")

				dets := detections(h.sink)
				if !tt.detected {
					assert.Empty(t, dets)
					return
				}
				require.Len(t, dets, 1)
				a := dets[0].Attributes().AsRaw()
				assert.Equal(t, "alice.admin@contoso.com", a["user"])
				assert.Equal(t, "Microsoft Office 365 AzureActiveDirectory", a["vendor_product"])
				assert.Equal(t, tt.operation, a["signature"])
				assert.Equal(t, "203.0.113.10", a["src"])
			})
		}
	}
}
