package o365detectprocessor

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/o365detect/o365detect/internal/repotest"
	"github.com/o365detect/o365detect/internal/rule"
)

const (
	homeTenant = "5f2b8c1d-3e4a-4b6c-9d7e-0a1b2c3d4e5f"
	gdapSP     = "7e6d5c4b-aaaa-4b3a-9c8d-1e2f3a4b5c6d"
)

// entraRow is the expected ESCU row of a test record, plus its time.
type entraRow struct {
	rule.Row
	time string
}

// TestEntraSource runs the Entra ID test records (testdata/entra, written
// from the Graph and diagnostic-settings schemas) in each input shape and
// compares the detection rows with rows derived by hand from the mapping.
func TestEntraSource(t *testing.T) {
	aliceAdd := func(dest string) entraRow {
		return entraRow{rule.Row{Dest: dest, User: "alice.admin@contoso.com", Src: "203.0.113.10", VendorAccount: dest,
			VendorProduct: "Microsoft Entra ID", Signature: "Add a partner to cross-tenant access setting",
			SignatureID: "Directory_d4c3b2a1-4444-4f6e-8d7c-6b5a49382716_4KQ6B_12345678"}, "2025-03-04T10:15:30"}
	}
	gdapDelete := func(dest string) entraRow {
		return entraRow{rule.Row{Dest: dest, User: gdapSP, Src: "0", VendorAccount: dest,
			VendorProduct: "Microsoft Entra ID", Signature: "Delete partner specific cross-tenant access setting",
			SignatureID: "Directory_f6e5d4c3-7777-4b8a-8f9e-8d7c6b5a4938_4KQ6B_34567890"}, "2025-03-05T16:00:02"}
	}
	bobAdd := func(dest, src string) entraRow {
		return entraRow{rule.Row{Dest: dest, User: "bob.ops@contoso.com", Src: src, VendorAccount: dest,
			VendorProduct: "Microsoft Entra ID", Signature: "Add a partner to cross-tenant access setting",
			SignatureID: "Directory_0a1b2c3d-8888-4c9d-9e0f-1a2b3c4d5e6f_4KQ6B_45678901"}, "2025-03-06T08:30:00"}
	}
	tests := []struct {
		file string
		want []entraRow
		// firstUser is what each input line is tagged with ("" = untagged).
		firstUser []string
	}{
		{
			file:      "eventhub.jsonl",
			want:      []entraRow{aliceAdd(homeTenant), gdapDelete(homeTenant), bobAdd(homeTenant, "198.51.100.23")},
			firstUser: []string{"alice.admin@contoso.com", "bob.ops@contoso.com"},
		},
		{
			file:      "graph.jsonl",
			want:      []entraRow{aliceAdd("0"), gdapDelete("0"), bobAdd("0", "0")},
			firstUser: []string{"alice.admin@contoso.com", gdapSP},
		},
	}
	for _, tt := range tests {
		for _, sh := range shapes {
			t.Run(tt.file+"/"+string(sh), func(t *testing.T) {
				h := newHarness(t, testConfig())
				lines := readEntraLines(t, tt.file)
				require.NoError(t, h.p.ConsumeLogs(context.Background(), logsOf(t, lines, sh)))
				h.endWindow()

				var got []entraRow
				for _, d := range detections(h.sink) {
					a := d.Attributes().AsRaw()
					got = append(got, entraRow{rule.Row{
						Dest: a["dest"].(string), User: a["user"].(string), Src: a["src"].(string),
						VendorAccount: a["vendor_account"].(string), VendorProduct: a["vendor_product"].(string),
						Signature: a["signature"].(string), SignatureID: a["signature_id"].(string),
					}, a["firstTime"].(string)})
					assert.Equal(t, int64(1), a["count"])
				}
				assert.Equal(t, tt.want, got)

				passed := h.sink.AllLogs()[0].ResourceLogs().At(0).ScopeLogs().At(0).LogRecords()
				require.Equal(t, len(lines), passed.Len())
				for i, want := range tt.firstUser {
					user, ok := passed.At(i).Attributes().Get("user")
					require.True(t, ok, "line %d tagged", i+1)
					assert.Equal(t, want, user.Str(), "line %d is tagged with its first match", i+1)
				}
			})
		}
	}
}

func TestEntraSourceCanBeTurnedOff(t *testing.T) {
	cfg := testConfig()
	cfg.Sources = []string{SourceManagementActivity}
	h := newHarness(t, cfg)
	require.NoError(t, h.p.ConsumeLogs(context.Background(), logsOf(t, readEntraLines(t, "eventhub.jsonl"), shapeString)))
	h.endWindow()
	assert.Empty(t, detections(h.sink))
}

func TestMicrosoftSupportPreset(t *testing.T) {
	for _, file := range []string{"eventhub.jsonl", "graph.jsonl"} {
		t.Run(file, func(t *testing.T) {
			cfg := testConfig()
			cfg.AllowlistPresets = []string{PresetMicrosoftSupport}
			h := newHarness(t, cfg)
			require.NoError(t, h.p.ConsumeLogs(context.Background(), logsOf(t, readEntraLines(t, file), shapeString)))
			h.endWindow()
			for _, d := range detections(h.sink) {
				assert.NotEqual(t, gdapSP, d.Attributes().AsRaw()["user"], "the GDAP removal of the support tenant is allowlisted")
			}
			assert.Len(t, detections(h.sink), 2)
		})
	}
}

func TestAllowlistByPartnerAndApp(t *testing.T) {
	sampleMatches := func(t *testing.T, entries []AllowlistEntry) []string {
		cfg := testConfig()
		cfg.Allowlist = entries
		h := newHarness(t, cfg)
		require.NoError(t, h.p.ConsumeLogs(context.Background(), logsOf(t, readLines(t, "sample.jsonl"), shapeString)))
		h.endWindow()
		var users []string
		for _, d := range detections(h.sink) {
			users = append(users, d.Attributes().AsRaw()["user"].(string))
		}
		return users
	}
	all := sampleMatches(t, nil)
	require.Len(t, all, 7)
	// The Microsoft Support tenant, whoever adds or deletes it.
	bySupportTenant := sampleMatches(t, []AllowlistEntry{{PartnerTenant: "B4C546A4-7DAC-46A6-A7DD-ED822A11EFD3"}})
	assert.Len(t, bySupportTenant, 5, "the GDAP delete and the user's add of the support tenant are both suppressed")
	// The GDAP app, known by an Actor ID of the service principal's record.
	byApp := sampleMatches(t, []AllowlistEntry{{AppID: "bc56af95-7a3b-459f-98a9-bd86532b0e89"}})
	assert.Len(t, byApp, 6)
	// Every set field must agree: a user with another tenant is not suppressed.
	both := sampleMatches(t, []AllowlistEntry{{User: "alice.admin@contoso.com", PartnerTenant: "b4c546a4-7dac-46a6-a7dd-ed822a11efd3"}})
	assert.Len(t, both, 7)
}

func readEntraLines(t *testing.T, name string) []string {
	t.Helper()
	return repotest.Lines(t, "entra", name)
}
