package record_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/o365detect/o365detect/internal/record"
	"github.com/o365detect/o365detect/internal/record/recordtest"
)

const userRecord = `{"CreationTime":"2025-03-04T10:15:30","Id":"a1f3c2d4-1111-4a2b-9c3d-0e1f2a3b4c5d","Operation":"Add a partner to cross-tenant access setting.","OrganizationId":"5f2b8c1d-3e4a-4b6c-9d7e-0a1b2c3d4e5f","RecordType":8,"Workload":"AzureActiveDirectory","UserId":"alice.admin@contoso.com","ModifiedProperties":[{"Name":"tenantId","NewValue":"9b8a7c6d-2222-4e5f-8a9b-1c2d3e4f5a6b","OldValue":""}],"Actor":[{"ID":"alice.admin@contoso.com","Type":5},{"ID":"10030000A1B2C3D4","Type":3},{"ID":"User_0c1d2e3f","Type":2},{"ID":"0c1d2e3f","Type":2},{"ID":"User","Type":2}],"ActorIpAddress":"203.0.113.10","ClientIP":""}`

func str(s string) record.Value { return record.Value{Text: s, Kind: record.String} }

func TestReadJSON(t *testing.T) {
	want := record.Record{
		Workload:         str("AzureActiveDirectory"),
		Operation:        str("Add a partner to cross-tenant access setting."),
		OrganizationID:   str("5f2b8c1d-3e4a-4b6c-9d7e-0a1b2c3d4e5f"),
		ActorIPAddress:   str("203.0.113.10"),
		ClientIP:         str(""),
		CreationTime:     str("2025-03-04T10:15:30"),
		ID:               str("a1f3c2d4-1111-4a2b-9c3d-0e1f2a3b4c5d"),
		SignatureID:      str("a1f3c2d4-1111-4a2b-9c3d-0e1f2a3b4c5d"),
		ActorIDs:         []string{"alice.admin@contoso.com", "10030000A1B2C3D4", "User_0c1d2e3f", "0c1d2e3f", "User"},
		PartnerTenantNew: "9b8a7c6d-2222-4e5f-8a9b-1c2d3e4f5a6b",
		Properties:       []record.Property{{Name: "tenantId", NewValue: "9b8a7c6d-2222-4e5f-8a9b-1c2d3e4f5a6b"}},
	}
	var rec record.Record
	require.Equal(t, record.Decoded, record.NewReader("Id").ReadJSON(userRecord, &rec))
	assert.Equal(t, want, rec)
}

func TestReadJSONCases(t *testing.T) {
	const base = `"Workload":"AzureActiveDirectory","Operation":"Add a partner to cross-tenant access setting."`
	tests := []struct {
		name   string
		body   string
		status record.Status
		check  func(t *testing.T, rec *record.Record)
	}{
		{
			name:   "escaped operation is decoded",
			body:   `{"Workload":"AzureActiveDirectory","Operation":"Add a partner to cross\u002dtenant access setting."}`,
			status: record.Decoded,
			check: func(t *testing.T, rec *record.Record) {
				assert.Equal(t, "Add a partner to cross-tenant access setting.", rec.Operation.Text)
			},
		},
		{
			name:   "escaped key is decoded",
			body:   `{"Work\u006coad":"AzureActiveDirectory","Operation":"Add a partner to cross-tenant access setting."}`,
			status: record.Decoded,
			check: func(t *testing.T, rec *record.Record) {
				assert.Equal(t, "AzureActiveDirectory", rec.Workload.Text)
			},
		},
		{
			name:   "duplicate keys: last wins",
			body:   `{"Workload":"Exchange",` + base + `,"Workload":"AzureActiveDirectory","Actor":[{"ID":"a"}],"Actor":[{"ID":"b"}]}`,
			status: record.Decoded,
			check: func(t *testing.T, rec *record.Record) {
				assert.Equal(t, "AzureActiveDirectory", rec.Workload.Text)
				assert.Equal(t, []string{"b"}, rec.ActorIDs)
			},
		},
		{
			name:   "actor elements without a string ID are skipped",
			body:   `{` + base + `,"Actor":[{"ID":"a"},{"Type":2},{"ID":5},{"ID":null},{"ID":{"x":1}},"s",7,{"ID":"b","ID":"c"}]}`,
			status: record.Decoded,
			check: func(t *testing.T, rec *record.Record) {
				assert.Equal(t, []string{"a", "c"}, rec.ActorIDs)
			},
		},
		{
			name:   "non-array actor gives no ids",
			body:   `{` + base + `,"Actor":{"ID":"a"}}`,
			status: record.Decoded,
			check: func(t *testing.T, rec *record.Record) {
				assert.Empty(t, rec.ActorIDs)
			},
		},
		{
			name:   "scalars keep their text, null and composites do not",
			body:   `{` + base + `,"OrganizationId":12.50,"ClientIP":true,"ActorIpAddress":null,"Id":[1]}`,
			status: record.Decoded,
			check: func(t *testing.T, rec *record.Record) {
				assert.Equal(t, record.Value{Text: "12.50", Kind: record.Scalar}, rec.OrganizationID)
				assert.Equal(t, record.Value{Text: "true", Kind: record.Scalar}, rec.ClientIP)
				assert.Equal(t, record.Value{Kind: record.Null}, rec.ActorIPAddress)
				assert.Equal(t, record.Value{Kind: record.Composite}, rec.SignatureID)
			},
		},
		{
			name:   "invalid utf-8 becomes U+FFFD as in encoding/json",
			body:   "{" + base + ",\"OrganizationId\":\"a\xffb\"}",
			status: record.Decoded,
			check: func(t *testing.T, rec *record.Record) {
				assert.Equal(t, "a\uFFFDb", rec.OrganizationID.Text)
			},
		},
		{name: "truncated", body: `{` + base + `,"Actor":[{"ID":"a"`, status: record.Invalid},
		{name: "trailing garbage", body: `{` + base + `} x`, status: record.Invalid},
		{name: "control character in string", body: "{" + base + ",\"x\":\"a\tb\"}", status: record.Invalid},
		{name: "bad escape", body: `{` + base + `,"x":"\q"}`, status: record.Invalid},
		{name: "bad number", body: `{` + base + `,"x":01}`, status: record.Invalid},
		{name: "not a candidate", body: `{"Workload":"Exchange","Operation":"Send"}`, status: record.NotCandidate},
		{name: "operation only nested", body: `{"Workload":"AzureActiveDirectory","Nested":{"Op":"Add a partner to cross-tenant access setting."}}`, status: record.NotCandidate},
		{
			name:   "decoy nested keys before the real ones",
			body:   `{"Nested":{"Workload":"Exchange","Operation":"x"},` + base + `}`,
			status: record.Decoded,
			check: func(t *testing.T, rec *record.Record) {
				assert.Equal(t, "AzureActiveDirectory", rec.Workload.Text)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rec record.Record
			status := record.NewReader("Id").ReadJSON(tt.body, &rec)
			require.Equal(t, tt.status, status)
			if tt.check != nil {
				tt.check(t, &rec)
			}
			ref, ok := recordtest.Read(tt.body, "Id")
			assert.Equal(t, status != record.Invalid, ok || status == record.NotCandidate, "validity differs from encoding/json")
			if status == record.Decoded {
				assert.Equal(t, normalize(ref), normalize(rec))
			}
		})
	}
}

func TestNestingLimitMatchesEncodingJSON(t *testing.T) {
	const base = `"Workload":"AzureActiveDirectory","Operation":"Add a partner to cross-tenant access setting."`
	// Each place holds nested arrays starting at a different depth: the
	// scanner counts depth separately in each of them.
	places := []struct {
		name   string
		open   int // levels already open where the arrays start
		wrap   func(arrays string) string
		actors bool
	}{
		{"skipped member", 1, func(a string) string { return `"x":` + a }, false},
		{"Actor element", 2, func(a string) string { return `"Actor":[` + a + `]` }, false},
		{"Actor element member", 3, func(a string) string { return `"Actor":[{"ID":"u","x":` + a + `}]` }, true},
		{"ModifiedProperties element member", 3, func(a string) string { return `"ModifiedProperties":[{"Name":"tenantId","NewValue":` + a + `}]` }, false},
	}
	for _, pl := range places {
		for _, depth := range []int{9999, 10000, 10001} {
			n := depth - pl.open
			body := "{" + base + "," + pl.wrap(strings.Repeat("[", n)+strings.Repeat("]", n)) + "}"
			var rec record.Record
			status := record.NewReader("Id").ReadJSON(body, &rec)
			_, ok := recordtest.Read(body, "Id")
			assert.Equal(t, ok, status == record.Decoded, "%s, depth %d", pl.name, depth)
			assert.Equal(t, depth <= 10000, ok, "%s, depth %d: the reference's limit", pl.name, depth)
			if pl.actors && ok {
				assert.Equal(t, []string{"u"}, rec.ActorIDs, "%s, depth %d", pl.name, depth)
			}
		}
	}
}

func TestReadShapesAgree(t *testing.T) {
	rd := record.NewReader("Id")
	var fromString record.Record
	require.Equal(t, record.Decoded, rd.ReadJSON(userRecord, &fromString))

	parsed := pcommon.NewMap()
	var raw map[string]any
	require.NoError(t, jsonUnmarshal(userRecord, &raw))
	require.NoError(t, parsed.FromRaw(raw))

	shapes := map[string]func(lr plog.LogRecord){
		"string body": func(lr plog.LogRecord) { lr.Body().SetStr(userRecord) },
		"bytes body":  func(lr plog.LogRecord) { lr.Body().SetEmptyBytes().FromRaw([]byte(userRecord)) },
		"map body":    func(lr plog.LogRecord) { parsed.CopyTo(lr.Body().SetEmptyMap()) },
		"attributes with the raw line as body": func(lr plog.LogRecord) {
			lr.Body().SetStr("not json")
			parsed.CopyTo(lr.Attributes())
		},
		"attributes with an empty body": func(lr plog.LogRecord) { parsed.CopyTo(lr.Attributes()) },
	}
	for name, set := range shapes {
		t.Run(name, func(t *testing.T) {
			lr := plog.NewLogRecord()
			set(lr)
			var rec record.Record
			require.Equal(t, record.Decoded, rd.Read(lr, &rec))
			assert.Equal(t, fromString, rec)
		})
	}
}

func TestReadMapDuplicateKeysLastWins(t *testing.T) {
	// pcommon.Map.Put* never duplicates a key, but OTLP data can carry one.
	const otlp = `{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"kvlistValue":{"values":[
		{"key":"Workload","value":{"stringValue":"Exchange"}},
		{"key":"Operation","value":{"stringValue":"Add a partner to cross-tenant access setting."}},
		{"key":"Workload","value":{"stringValue":"AzureActiveDirectory"}}]}}}]}]}]}`
	ld, err := (&plog.JSONUnmarshaler{}).UnmarshalLogs([]byte(otlp))
	require.NoError(t, err)
	lr := ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0)
	require.Equal(t, 3, lr.Body().Map().Len(), "the duplicate must survive unmarshalling")
	var rec record.Record
	record.NewReader("Id").Read(lr, &rec)
	assert.Equal(t, "AzureActiveDirectory", rec.Workload.Text)
}

// TestNoSignatureIDFieldReadsNoKey: with no signature ID field configured,
// a record's empty key (valid JSON) is not taken for it, in any shape.
func TestNoSignatureIDFieldReadsNoKey(t *testing.T) {
	const body = `{"Workload":"AzureActiveDirectory","Operation":"Add a partner to cross-tenant access setting.","":[1]}`
	rd := record.NewReader("")
	var rec record.Record
	require.Equal(t, record.Decoded, rd.ReadJSON(body, &rec))
	assert.Equal(t, record.Value{}, rec.SignatureID, "string body")

	lr := plog.NewLogRecord()
	lr.Attributes().PutStr("Workload", "AzureActiveDirectory")
	lr.Attributes().PutStr("", "x")
	require.Equal(t, record.Decoded, rd.Read(lr, &rec))
	assert.Equal(t, record.Value{}, rec.SignatureID, "attributes")

	require.Equal(t, record.Decoded, record.NewReader("Workload").Read(lr, &rec))
	assert.Equal(t, record.Value{Text: "AzureActiveDirectory", Kind: record.String}, rec.SignatureID, "a configured field is still read")
}

// TestReadProperties: every object element of ModifiedProperties is read,
// in order, as its Name, NewValue and OldValue text, in every shape.
func TestReadProperties(t *testing.T) {
	const base = `"Workload":"AzureActiveDirectory","Operation":"Update a partner cross-tenant access setting.",`
	prop := func(name, nv, ov string) record.Property {
		return record.Property{Name: name, NewValue: nv, OldValue: ov}
	}
	tests := []struct {
		name string
		mp   string // the ModifiedProperties value
		want []record.Property
		// partner is PartnerTenantNew, which keeps its own rule: the
		// last element whose Name is the string tenantId.
		partner string
	}{
		{name: "none", mp: `[]`},
		{name: "not an array", mp: `{"Name":"tenantId","NewValue":"t"}`},
		{
			name: "every element in order",
			mp:   `[{"Name":"b2bCollaborationInbound","NewValue":"{\"usersAndGroups\":{\"accessType\":2}}","OldValue":""},{"Name":"tenantId","NewValue":"t","OldValue":""},{"Name":"Included Updated Properties","NewValue":"tenantId"}]`,
			want: []record.Property{
				prop("b2bCollaborationInbound", `{"usersAndGroups":{"accessType":2}}`, ""),
				prop("tenantId", "t", ""),
				prop("Included Updated Properties", "tenantId", ""),
			},
			partner: "t",
		},
		{
			name: "non-string values",
			mp:   `[{"Name":"n","NewValue":5,"OldValue":-1.5},{"Name":"b","NewValue":true,"OldValue":false},{"Name":"z","NewValue":null,"OldValue":{"a":1}},{"Name":"l","NewValue":[1,2]}]`,
			want: []record.Property{prop("n", "5", "-1.5"), prop("b", "true", "false"), prop("z", "", ""), prop("l", "", "")},
		},
		{
			name: "a name that is not a string",
			mp:   `[{"Name":7,"NewValue":"x"},{"Name":null,"NewValue":"y"},{"Name":["tenantId"],"NewValue":"z"},{"NewValue":"w"}]`,
			want: []record.Property{prop("7", "x", ""), prop("", "y", ""), prop("", "z", ""), prop("", "w", "")},
		},
		{
			name:    "non-object elements are skipped",
			mp:      `["tenantId",1,null,true,[{"Name":"tenantId","NewValue":"inner"}],{"Name":"a","NewValue":"1"},{},{"Name":"tenantId","NewValue":"t"}]`,
			want:    []record.Property{prop("a", "1", ""), prop("", "", ""), prop("tenantId", "t", "")},
			partner: "t",
		},
		{
			name: "other keys are not read",
			mp:   `[{"name":"a","newValue":"b","Type":"c","Name":"d"}]`,
			want: []record.Property{prop("d", "", "")},
		},
		{
			name:    "escapes are decoded",
			mp:      `[{"Name":"tenant\u0049d","NewValue":"\"t\"\u00e9"}]`,
			want:    []record.Property{prop("tenantId", `"t"é`, "")},
			partner: `"t"é`,
		},
	}
	rd := record.NewReader("Id")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := `{` + base + `"ModifiedProperties":` + tt.mp + `}`
			var raw map[string]any
			require.NoError(t, jsonUnmarshal(body, &raw))
			shapes := map[string]func(lr plog.LogRecord){
				"string body": func(lr plog.LogRecord) { lr.Body().SetStr(body) },
				"map body":    func(lr plog.LogRecord) { require.NoError(t, lr.Body().SetEmptyMap().FromRaw(raw)) },
				"attributes":  func(lr plog.LogRecord) { require.NoError(t, lr.Attributes().FromRaw(raw)) },
			}
			for name, set := range shapes {
				lr := plog.NewLogRecord()
				set(lr)
				var rec record.Record
				require.Equal(t, record.Decoded, rd.Read(lr, &rec), name)
				assert.Equal(t, tt.want, normalize(rec).Properties, name)
				assert.Equal(t, tt.partner, rec.PartnerTenantNew, name)
				for _, p := range rec.Properties {
					assert.Empty(t, p.TargetType, name)
				}
			}
			ref, ok := recordtest.Read(body, "Id")
			require.True(t, ok)
			assert.Equal(t, tt.want, normalize(ref).Properties, "the reference")
		})
	}
}

// TestReadPropertiesLastWins: a repeated ModifiedProperties key replaces
// the earlier one, and a repeated key in an element its earlier value, in
// the JSON text and in a map that holds the repeats.
func TestReadPropertiesLastWins(t *testing.T) {
	const body = `{"Workload":"AzureActiveDirectory","Operation":"Update a partner cross-tenant access setting.",` +
		`"ModifiedProperties":[{"Name":"a","NewValue":"1"},{"Name":"b"}],` +
		`"ModifiedProperties":[{"Name":"c","NewValue":"2","Name":"d","NewValue":"3","OldValue":"4","OldValue":null}]}`
	want := []record.Property{{Name: "d", NewValue: "3"}}
	var rec record.Record
	require.Equal(t, record.Decoded, record.NewReader("Id").ReadJSON(body, &rec))
	assert.Equal(t, want, rec.Properties)

	const otlp = `{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"kvlistValue":{"values":[
		{"key":"ModifiedProperties","value":{"arrayValue":{"values":[{"kvlistValue":{"values":[{"key":"Name","value":{"stringValue":"a"}}]}}]}}},
		{"key":"ModifiedProperties","value":{"arrayValue":{"values":[{"kvlistValue":{"values":[
			{"key":"Name","value":{"stringValue":"c"}},
			{"key":"NewValue","value":{"intValue":"2"}},
			{"key":"Name","value":{"stringValue":"d"}},
			{"key":"NewValue","value":{"stringValue":"3"}},
			{"key":"OldValue","value":{"doubleValue":4.5}}]}}]}}}]}}}]}]}]}`
	ld, err := (&plog.JSONUnmarshaler{}).UnmarshalLogs([]byte(otlp))
	require.NoError(t, err)
	lr := ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0)
	require.Equal(t, 2, lr.Body().Map().Len(), "the repeat must survive unmarshalling")
	require.Equal(t, record.Decoded, record.NewReader("Id").Read(lr, &rec))
	assert.Equal(t, []record.Property{{Name: "d", NewValue: "3", OldValue: "4.5"}}, rec.Properties)
}

// TestReadPropertiesReuseMemory: a Record read again keeps its Properties'
// capacity, so that reading a record with as many properties allocates
// nothing.
func TestReadPropertiesReuseMemory(t *testing.T) {
	const body = `{"Workload":"AzureActiveDirectory","Operation":"Update a partner cross-tenant access setting.",` +
		`"ModifiedProperties":[{"Name":"a","NewValue":"1"},{"Name":"b","NewValue":"2"},{"Name":"tenantId","NewValue":"t"}]}`
	rd := record.NewReader("Id")
	var rec record.Record
	require.Equal(t, record.Decoded, rd.ReadJSON(body, &rec))
	allocs := testing.AllocsPerRun(100, func() { rd.ReadJSON(body, &rec) })
	assert.Zero(t, allocs)
	assert.Len(t, rec.Properties, 3)
}
