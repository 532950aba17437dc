package rule_test

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/o365detect/o365detect/internal/record"
	"github.com/o365detect/o365detect/internal/rule"
)

func str(s string) record.Value { return record.Value{Text: s, Kind: record.String} }

func TestMatch(t *testing.T) {
	tests := []struct {
		name     string
		workload record.Value
		op       record.Value
		want     bool
	}{
		{"add", str("AzureActiveDirectory"), str("Add a partner to cross-tenant access setting."), true},
		{"delete", str("AzureActiveDirectory"), str("Delete partner specific cross-tenant access setting."), true},
		{"case variants", str("azureactivedirectory"), str("ADD A PARTNER TO CROSS-TENANT ACCESS SETTING."), true},
		{"no trailing period", str("AzureActiveDirectory"), str("Add a partner to cross-tenant access setting"), false},
		{"update is not in the IN list", str("AzureActiveDirectory"), str("Update a partner cross-tenant access setting."), false},
		{"leading space", str("AzureActiveDirectory"), str(" Add a partner to cross-tenant access setting."), false},
		{"trailing space", str("AzureActiveDirectory"), str("Add a partner to cross-tenant access setting. "), false},
		{"other workload", str("Exchange"), str("Add a partner to cross-tenant access setting."), false},
		{"workload with suffix", str("AzureActiveDirectoryX"), str("Add a partner to cross-tenant access setting."), false},
		{"missing workload", record.Value{}, str("Add a partner to cross-tenant access setting."), false},
		{"scalar workload", record.Value{Text: "AzureActiveDirectory", Kind: record.Scalar}, str("Add a partner to cross-tenant access setting."), false},
		{"null operation", str("AzureActiveDirectory"), record.Value{Kind: record.Null}, false},
		{"kelvin sign is not k", str("AzureActiveDirectory"), str("Add a partner to cross-tenant access setting.\u212a"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := record.Record{Workload: tt.workload, Operation: tt.op}
			assert.Equal(t, tt.want, rule.Match(&rec))
		})
	}
}

func TestUser(t *testing.T) {
	tests := []struct {
		name   string
		ids    []string
		want   string
		wantOK bool
	}{
		{"user actor: index 0", []string{"alice@contoso.com", "1003", "User_0c1d", "0c1d", "User"}, "alice@contoso.com", true},
		{"seven-element user actor", []string{"bob@contoso.com", "1003", "Microsoft Azure Portal", "c44b", "User_1d2e", "1d2e", "User"}, "bob@contoso.com", true},
		{"service principal: index 3", []string{"Bot", "e1d2", "ServicePrincipal_3d5e", "3d5e", "ServicePrincipal"}, "3d5e", true},
		{"service principal with fewer than 4 ids", []string{"Bot", "ServicePrincipal_3d5e", "ServicePrincipal"}, "", false},
		{"service principal with exactly 4 ids", []string{"a", "b", "c", "ServicePrincipal"}, "ServicePrincipal", true},
		{"lower-case serviceprincipal falls to index 0", []string{"Bot", "e1d2", "x", "3d5e", "serviceprincipal"}, "Bot", true},
		{"UserServicePrincipal hits the User branch first", []string{"Bot", "e1d2", "x", "3d5e", "UserServicePrincipal"}, "Bot", true},
		{"App_ServicePrincipal_x is an unanchored match", []string{"Bot", "e1d2", "x", "3d5e", "App_ServicePrincipal_x"}, "3d5e", true},
		{"lower-case user is no match: index 0", []string{"a", "b", "user"}, "a", true},
		{"single id", []string{"only"}, "only", true},
		{"single ServicePrincipal id", []string{"ServicePrincipal"}, "", false},
		{"no ids", nil, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := rule.User(tt.ids)
			assert.Equal(t, tt.wantOK, ok)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestNewRow(t *testing.T) {
	full := record.Record{
		Workload:       str("AzureActiveDirectory"),
		Operation:      str("Add a partner to cross-tenant access setting."),
		OrganizationID: str("org"),
		ActorIPAddress: str("203.0.113.10"),
		ClientIP:       str("198.51.100.1"),
		SignatureID:    str("id-1"),
		ActorIDs:       []string{"alice@contoso.com", "User"},
	}
	tests := []struct {
		name   string
		modify func(r *record.Record)
		want   rule.Row
	}{
		{
			name: "all fields",
			want: rule.Row{Dest: "org", User: "alice@contoso.com", Src: "203.0.113.10", VendorAccount: "org",
				VendorProduct: "Microsoft Office 365 AzureActiveDirectory", Signature: "Add a partner to cross-tenant access setting.", SignatureID: "id-1"},
		},
		{
			name:   "ClientIP when ActorIpAddress is empty",
			modify: func(r *record.Record) { r.ActorIPAddress = str("") },
			want: rule.Row{Dest: "org", User: "alice@contoso.com", Src: "198.51.100.1", VendorAccount: "org",
				VendorProduct: "Microsoft Office 365 AzureActiveDirectory", Signature: "Add a partner to cross-tenant access setting.", SignatureID: "id-1"},
		},
		{
			name: "fillnull: missing, null and empty become 0",
			modify: func(r *record.Record) {
				r.OrganizationID = record.Value{}
				r.ActorIPAddress = record.Value{Kind: record.Null}
				r.ClientIP = str("")
				r.SignatureID = record.Value{Kind: record.Composite}
				r.ActorIDs = nil
			},
			want: rule.Row{Dest: "0", User: "0", Src: "0", VendorAccount: "0",
				VendorProduct: "Microsoft Office 365 AzureActiveDirectory", Signature: "Add a partner to cross-tenant access setting.", SignatureID: "0"},
		},
		{
			name: "values as written, case kept",
			modify: func(r *record.Record) {
				r.Workload = str("azureactivedirectory")
				r.Operation = str("add a partner to cross-tenant access setting.")
			},
			want: rule.Row{Dest: "org", User: "alice@contoso.com", Src: "203.0.113.10", VendorAccount: "org",
				VendorProduct: "Microsoft Office 365 azureactivedirectory", Signature: "add a partner to cross-tenant access setting.", SignatureID: "id-1"},
		},
		{
			name:   "numeric id keeps its text",
			modify: func(r *record.Record) { r.SignatureID = record.Value{Text: "42", Kind: record.Scalar} },
			want: rule.Row{Dest: "org", User: "alice@contoso.com", Src: "203.0.113.10", VendorAccount: "org",
				VendorProduct: "Microsoft Office 365 AzureActiveDirectory", Signature: "Add a partner to cross-tenant access setting.", SignatureID: "42"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := full
			if tt.modify != nil {
				tt.modify(&rec)
			}
			assert.Equal(t, tt.want, rule.NewRow(&rec))
		})
	}
}

func TestRiskMessage(t *testing.T) {
	assert.Equal(t, "The user [alice@contoso.com] changed the Azure cross-tenant access settings", rule.ESCU.Message("alice@contoso.com"))
}

func TestParseCreationTime(t *testing.T) {
	tests := []struct {
		in   string
		want string // RFC3339Nano in UTC; "" = not parsed
	}{
		{"2025-03-04T10:15:30", "2025-03-04T10:15:30Z"},
		{"2025-03-04T10:15:30.1234567", "2025-03-04T10:15:30.1234567Z"},
		{"2025-03-04T10:15:30Z", "2025-03-04T10:15:30Z"},
		{"2025-03-04T10:15:30.5Z", "2025-03-04T10:15:30.5Z"},
		{"2025-03-04T12:15:30+02:00", "2025-03-04T10:15:30Z"},
		{"2025-03-04T05:15:30.25-05:00", "2025-03-04T10:15:30.25Z"},
		{"2025-03-04T12:15:30+0200", "2025-03-04T10:15:30Z"},
		{"2025-03-04T10:15:30+0000", "2025-03-04T10:15:30Z"},
		{"2025-03-04T05:15:30.123-0500", "2025-03-04T10:15:30.123Z"},
		// Offsets in other spellings are honoured too.
		{"2025-03-04T12:15:30+02", "2025-03-04T10:15:30Z"},
		{"2025-03-04T12:15:30 +02:00", "2025-03-04T10:15:30Z"},
		{"2025-03-04T12:15:30+02:00 ", "2025-03-04T10:15:30Z"},
		{"2025-03-04T12:15:30.5 +0200", "2025-03-04T10:15:30Z"},
		{"2025-03-04T05:15:30,25-05", "2025-03-04T10:15:30Z"},
		// Splunk's TIME_FORMAT stops at the seconds; what follows is
		// ignored, unless it is a sign that starts no offset.
		{"2025-03-04T10:15:30 UTC", "2025-03-04T10:15:30Z"},
		{"2025-03-04T10:15:30z", "2025-03-04T10:15:30Z"},
		{"2025-03-04T10:15:30Z ", "2025-03-04T10:15:30Z"},
		{"2025-03-04T10:15:30.5 (UTC)", "2025-03-04T10:15:30Z"},
		{"2025-03-04T10:15:30-05:00:00", ""},
		{"2025-03-04T10:15:30+2", ""},
		{"2025-03-04T10:15:30 -", ""},
		{"2025-03-04T10:15:3x UTC", ""},
		{"2025-03-04 10:15:30", ""},
		// Unix nanoseconds, which the journal keeps, span 1678 to 2262.
		{"1678-01-01T00:00:00", "1678-01-01T00:00:00Z"},
		{"2261-12-31T23:59:59", "2261-12-31T23:59:59Z"},
		{"1677-12-31T23:59:59", ""},
		{"2262-01-01T00:00:00", ""},
		{"0001-01-01T00:00:00", ""},
		{"9999-12-31T23:59:59Z", ""},
		{"2024-02-29T23:59:59", "2024-02-29T23:59:59Z"},
		{"2025-02-29T10:00:00", ""},
		{"2025-13-01T10:00:00", ""},
		{"2025-03-04T24:00:00", ""},
		{"2025-03-04T10:60:00", ""},
		{"2025-03-04T10:00:60", ""},
		{"2025-03-0xT10:00:00", ""},
		{"03/04/2025 10:15:30", ""},
		{"", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ok := rule.ParseCreationTime(tt.in)
			if tt.want == "" {
				assert.False(t, ok)
				return
			}
			assert.True(t, ok)
			assert.Equal(t, tt.want, got.Format(time.RFC3339Nano))
			assert.Equal(t, time.UTC, got.Location())
		})
	}
}

func TestFormatTime(t *testing.T) {
	tm := time.Date(2025, 3, 4, 12, 15, 30, 999_999_999, time.FixedZone("x", 2*3600))
	assert.Equal(t, "2025-03-04T10:15:30", rule.FormatTime(tm), "UTC, no zone, fraction truncated")
}

func TestPartnerTenant(t *testing.T) {
	add := str("Add a partner to cross-tenant access setting.")
	del := str("delete partner specific cross-tenant access setting.")
	tests := []struct {
		name     string
		op       record.Value
		nv, ov   string
		expected string
	}{
		{"add reads the new value", add, "new", "", "new"},
		{"delete reads the old value", del, "", "old", "old"},
		{"delete with both set still reads the old value", del, "new", "old", "old"},
		{"add falls back to the old value", add, "", "old", "old"},
		{"none", add, "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := record.Record{Operation: tt.op, PartnerTenantNew: tt.nv, PartnerTenantOld: tt.ov}
			assert.Equal(t, tt.expected, rule.PartnerTenant(&rec))
		})
	}
}

func TestRowClone(t *testing.T) {
	buf := []byte("destuser")
	r := rule.Row{Dest: string(buf[:4]), User: string(buf[4:]), Src: "", VendorProduct: "p"}
	c := r.Clone()
	assert.Equal(t, r, c)
	assert.Equal(t, 1.0, testing.AllocsPerRun(10, func() { _ = r.Clone() }), "one allocation for all seven strings")
}

// FuzzParseCreationTime checks ParseCreationTime against a reference built
// on time.Parse and regular expressions.
func FuzzParseCreationTime(f *testing.F) {
	for _, s := range []string{"2025-03-04T10:15:30", "2024-02-29T23:59:59", "2025-02-29T10:00:00", "0000-01-01T00:00:00", "2025-03-04T10:15:3x",
		"2025-03-04T10:15:30+0200", "2025-03-04T10:15:30 UTC", "2025-03-04T10:15:30.5 +02", "2025-03-04T10:15:30-05:00:00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := rule.ParseCreationTime(s)
		want, wantOK := referenceCreationTime(s)
		if ok != wantOK || (ok && !got.Equal(want)) {
			t.Fatalf("%q: got %v %v, reference %v %v", s, got, ok, want, wantOK)
		}
	})
}

var (
	fractionAndSpaces = regexp.MustCompile(`^(?:[.,][0-9]+)? *`)
	numericOffset     = regexp.MustCompile(`^([+-])([0-9]{2})(?::?([0-9]{2}))?$`)
)

func referenceCreationTime(s string) (time.Time, bool) {
	t, ok := referenceTime(s)
	if !ok || t.Year() < 1678 || t.Year() > 2261 {
		return time.Time{}, false
	}
	return t, true
}

func referenceTime(s string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04:05Z0700", rule.TimeFormat} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	if len(s) <= len(rule.TimeFormat) {
		return time.Time{}, false
	}
	base, err := time.Parse(rule.TimeFormat, s[:len(rule.TimeFormat)])
	if err != nil {
		return time.Time{}, false
	}
	rest := strings.TrimRight(fractionAndSpaces.ReplaceAllString(s[len(rule.TimeFormat):], ""), " ")
	if rest == "" || (rest[0] != '+' && rest[0] != '-') {
		return base, true
	}
	m := numericOffset.FindStringSubmatch(rest)
	if m == nil {
		return time.Time{}, false
	}
	h, _ := strconv.Atoi(m[2])
	mm := 0
	if m[3] != "" {
		mm, _ = strconv.Atoi(m[3])
	}
	if h > 24 || mm > 60 { // time.Parse's own bounds for an offset
		return time.Time{}, false
	}
	offset := time.Duration(h)*time.Hour + time.Duration(mm)*time.Minute
	if m[1] == "-" {
		offset = -offset
	}
	return base.Add(-offset), true
}
