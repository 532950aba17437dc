package record_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/o365detect/o365detect/internal/record"
	"github.com/o365detect/o365detect/internal/record/recordtest"
)

// entraShapes returns every shape ReadEntra reads a diagnostic record's
// directoryAudit in, built from the record's JSON text: the JSON of the
// Graph object, the diagnostic record, a records envelope and a Graph
// list, as a string body and parsed into a map body and the attributes;
// format: raw; and the three translations.
func entraShapes(t *testing.T, diagnostic string) map[string][]record.EntraRecord {
	t.Helper()
	var d struct {
		Properties json.RawMessage `json:"properties"`
	}
	require.NoError(t, json.Unmarshal([]byte(diagnostic), &d))
	graph := string(d.Properties)
	texts := map[string]string{
		"Graph object":      graph,
		"Graph list":        `{"value":[` + graph + `]}`,
		"diagnostic record": diagnostic,
		"records envelope":  `{"records":[` + diagnostic + `]}`,
	}
	out := map[string][]record.EntraRecord{}
	rd := record.NewReader("Id")
	read := func(name string, lr plog.LogRecord, res pcommon.Resource) {
		recs, status := rd.ReadEntra(lr, res, nil, false)
		require.Equal(t, record.Decoded, status, name)
		out[name] = recs
	}
	for name, text := range texts {
		lr := plog.NewLogRecord()
		lr.Body().SetStr(text)
		read(name+", string body", lr, pcommon.NewResource())

		var raw map[string]any
		require.NoError(t, json.Unmarshal([]byte(text), &raw))
		lr = plog.NewLogRecord()
		require.NoError(t, lr.Body().SetEmptyMap().FromRaw(raw))
		read(name+", map body", lr, pcommon.NewResource())
		lr = plog.NewLogRecord()
		require.NoError(t, lr.Attributes().FromRaw(raw))
		read(name+", attributes", lr, pcommon.NewResource())
	}
	msg := []byte(`{"records":[` + diagnostic + `]}`)
	raw := recordtest.Raw(msg, time.Unix(0, 0))
	read("format raw", raw.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0), pcommon.NewResource())
	for _, tr := range translations {
		ld, err := tr.build(msg)
		require.NoError(t, err)
		require.Equal(t, 1, ld.LogRecordCount(), tr.name)
		rl := ld.ResourceLogs().At(0)
		read(tr.name, rl.ScopeLogs().At(0).LogRecords().At(0), rl.Resource())
	}
	return out
}

// TestReadEntraProperties: the modified properties of every target, with
// the target's type, the values as KQL's tostring() writes them, and the
// initiating user's id and app's name, in every shape.
func TestReadEntraProperties(t *testing.T) {
	const activity = "Update a partner cross-tenant access setting"
	diagnostic := func(initiatedBy, targets string) string {
		return `{"time":"2025-03-04T10:15:30Z","resourceId":"/tenants/t/providers/Microsoft.aadiam","operationName":"` + activity + `","category":"AuditLogs","tenantId":"t",` +
			`"properties":{"id":"Directory_x","activityDisplayName":"` + activity + `","initiatedBy":` + initiatedBy + `,"targetResources":` + targets + `}}`
	}
	p := func(typ, name, ov, nv string) record.Property {
		return record.Property{TargetType: typ, Name: name, OldValue: ov, NewValue: nv}
	}
	tests := []struct {
		name        string
		initiatedBy string
		targets     string
		want        []record.Property
		userID      string
		appName     string
		partner     string // PartnerTenantNew, read as before
	}{
		{
			name:        "several targets of different types",
			initiatedBy: `{"user":{"id":"u1","userPrincipalName":"alice@contoso.com"},"app":null}`,
			targets: `[{"type":"Policy","modifiedProperties":[{"displayName":"tenantId","oldValue":null,"newValue":"\"p\""},{"displayName":"b2bCollaborationInbound","oldValue":"{\"a\":1}","newValue":"{\"a\":2}"}]},` +
				`{"type":"User","displayName":"bob","modifiedProperties":[{"displayName":"AccountEnabled","oldValue":"[true]","newValue":"[false]"}]},` +
				`{"type":"ServicePrincipal"},{"type":"Group","modifiedProperties":[]}]`,
			want: []record.Property{
				p("Policy", "tenantId", "", `"p"`),
				p("Policy", "b2bCollaborationInbound", `{"a":1}`, `{"a":2}`),
				p("User", "AccountEnabled", "[true]", "[false]"),
			},
			userID:  "u1",
			partner: "p",
		},
		{
			name:        "the Type spelling, read when type is absent",
			initiatedBy: `{"app":{"displayName":"Sync App","appId":"a1","servicePrincipalId":"sp"}}`,
			targets: `[{"Type":"Policy","modifiedProperties":[{"displayName":"x"}]},` +
				`{"type":"Policy","Type":"User","modifiedProperties":[{"displayName":"y"}]},` +
				`{"type":null,"Type":"User","modifiedProperties":[{"displayName":"z"}]},` +
				`{"type":5,"modifiedProperties":[{"displayName":"w"}]},` +
				`{"modifiedProperties":[{"displayName":"v"}]}]`,
			want:    []record.Property{p("Policy", "x", "", ""), p("Policy", "y", "", ""), p("", "z", "", ""), p("", "w", "", ""), p("", "v", "", "")},
			appName: "Sync App",
		},
		{
			name:        "values that are not strings",
			initiatedBy: `{"user":{"id":7},"app":{"displayName":["x"]}}`,
			targets: `[{"type":"Policy","modifiedProperties":[` +
				`{"displayName":"n","oldValue":5,"newValue":-1.5},` +
				`{"displayName":"b","oldValue":true,"newValue":false},` +
				`{"displayName":"o","oldValue":{"b":1,"a":[true,null,"<x>"]},"newValue":[]},` +
				`{"displayName":"missing"},` +
				`{"displayName":7,"newValue":"s"}]}]`,
			want: []record.Property{
				p("Policy", "n", "5", "-1.5"),
				p("Policy", "b", "true", "false"),
				p("Policy", "o", `{"a":[true,null,"<x>"],"b":1}`, "[]"),
				p("Policy", "missing", "", ""),
				p("Policy", "", "", "s"),
			},
		},
		{
			name:        "elements that are not objects are skipped",
			initiatedBy: `{"user":"u","app":5}`,
			targets: `[null,"Policy",[{"type":"Policy","modifiedProperties":[{"displayName":"inner"}]}],` +
				`{"type":"Policy","modifiedProperties":{"displayName":"not an array"}},` +
				`{"type":"Policy","modifiedProperties":[1,"tenantId",null,[{"displayName":"inner"}],{"displayName":"tenantId","newValue":"\"t\""}]}]`,
			want:    []record.Property{p("Policy", "tenantId", "", `"t"`)},
			partner: "t",
		},
		{name: "no targets", initiatedBy: `null`, targets: `{"type":"Policy","modifiedProperties":[{"displayName":"x"}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			shapes := entraShapes(t, diagnostic(tt.initiatedBy, tt.targets))
			require.Len(t, shapes, 16)
			for shape, recs := range shapes {
				require.Len(t, recs, 1, shape)
				e := recs[0]
				props := e.Properties
				if len(props) == 0 {
					props = nil
				}
				assert.Equal(t, tt.want, props, shape)
				assert.Equal(t, tt.userID, e.UserID, shape)
				assert.Equal(t, tt.appName, e.AppDisplayName, shape)
				assert.Equal(t, tt.partner, e.PartnerTenantNew, shape)
			}
		})
	}
}

// TestReadEntraPropertiesJSONLiterals: read from JSON text, a number keeps
// the literal it is written with; read from a map, an integer is written
// in decimal and a double as encoding/json writes it.
func TestReadEntraPropertiesJSONLiterals(t *testing.T) {
	lr := plog.NewLogRecord()
	lr.Body().SetStr(`{"activityDisplayName":"Update a partner cross-tenant access setting","targetResources":[{"type":"Policy","modifiedProperties":[{"displayName":"n","oldValue":1.50,"newValue":1e3},{"displayName":"o","newValue":{"x":1.50}}]}]}`)
	recs, status := record.NewReader("Id").ReadEntra(lr, pcommon.NewResource(), nil, false)
	require.Equal(t, record.Decoded, status)
	require.Len(t, recs, 1)
	assert.Equal(t, []record.Property{
		{TargetType: "Policy", Name: "n", OldValue: "1.50", NewValue: "1e3"},
		{TargetType: "Policy", Name: "o", NewValue: `{"x":1.50}`},
	}, recs[0].Properties)

	lr = plog.NewLogRecord()
	attrs := lr.Attributes()
	attrs.PutStr("activityDisplayName", "Update a partner cross-tenant access setting")
	prop := attrs.PutEmptySlice("targetResources").AppendEmpty().SetEmptyMap()
	prop.PutStr("type", "Policy")
	mp := prop.PutEmptySlice("modifiedProperties").AppendEmpty().SetEmptyMap()
	mp.PutStr("displayName", "n")
	mp.PutInt("oldValue", 42)
	mp.PutDouble("newValue", 1e21)
	recs, status = record.NewReader("Id").ReadEntra(lr, pcommon.NewResource(), nil, false)
	require.Equal(t, record.Decoded, status)
	require.Len(t, recs, 1)
	assert.Equal(t, []record.Property{{TargetType: "Policy", Name: "n", OldValue: "42", NewValue: "1e+21"}}, recs[0].Properties)
}

// TestReadEntraPropertiesLastWins: a repeated key counts with its last
// value, in the JSON text and in a map that holds the repeats.
func TestReadEntraPropertiesLastWins(t *testing.T) {
	lr := plog.NewLogRecord()
	lr.Body().SetStr(`{"activityDisplayName":"Update a partner cross-tenant access setting",` +
		`"initiatedBy":{"user":{"id":"a","id":"b"},"app":{"displayName":"x","displayName":"y"}},` +
		`"targetResources":[{"type":"A"}],` +
		`"targetResources":[{"type":"B","type":"C","modifiedProperties":[{"displayName":"p"}],"modifiedProperties":[{"displayName":"q","displayName":"r","newValue":"1","newValue":null}]}]}`)
	recs, status := record.NewReader("Id").ReadEntra(lr, pcommon.NewResource(), nil, false)
	require.Equal(t, record.Decoded, status)
	require.Len(t, recs, 1)
	assert.Equal(t, []record.Property{{TargetType: "C", Name: "r"}}, recs[0].Properties)
	assert.Equal(t, "b", recs[0].UserID)
	assert.Equal(t, "y", recs[0].AppDisplayName)

	const otlp = `{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"attributes":[
		{"key":"azure.operation.name","value":{"stringValue":"Update a partner cross-tenant access setting"}},
		{"key":"azure.properties","value":{"kvlistValue":{"values":[
			{"key":"activityDisplayName","value":{"stringValue":"Update a partner cross-tenant access setting"}},
			{"key":"targetResources","value":{"arrayValue":{"values":[{"kvlistValue":{"values":[
				{"key":"type","value":{"stringValue":"B"}},
				{"key":"modifiedProperties","value":{"arrayValue":{"values":[{"kvlistValue":{"values":[
					{"key":"displayName","value":{"stringValue":"q"}},
					{"key":"displayName","value":{"stringValue":"r"}}]}}]}}},
				{"key":"type","value":{"stringValue":"C"}}]}}]}}}]}}}]}]}]}]}`
	ld, err := (&plog.JSONUnmarshaler{}).UnmarshalLogs([]byte(otlp))
	require.NoError(t, err)
	rl := ld.ResourceLogs().At(0)
	recs, status = record.NewReader("Id").ReadEntra(rl.ScopeLogs().At(0).LogRecords().At(0), rl.Resource(), nil, false)
	require.Equal(t, record.Decoded, status)
	require.Len(t, recs, 1)
	assert.Equal(t, []record.Property{{TargetType: "C", Name: "r"}}, recs[0].Properties)
}

// TestReadEntraReusesProperties: records read into the spare capacity of
// an earlier result reuse its properties' memory, and none of an earlier
// record's properties shows through.
func TestReadEntraReusesProperties(t *testing.T) {
	const many = `{"records":[{"properties":{"activityDisplayName":"Update a partner cross-tenant access setting","targetResources":[{"type":"Policy","modifiedProperties":[{"displayName":"a"},{"displayName":"b"},{"displayName":"c"}]}]}},` +
		`{"properties":{"activityDisplayName":"Update a partner cross-tenant access setting","targetResources":[{"type":"Policy","modifiedProperties":[{"displayName":"d"}]}]}}]}`
	const few = `{"activityDisplayName":"Update a partner cross-tenant access setting","targetResources":[{"type":"User","modifiedProperties":[{"displayName":"e"}]}]}`
	rd := record.NewReader("Id")
	res := pcommon.NewResource()
	lr := plog.NewLogRecord()
	lr.Body().SetStr(many)
	recs, _ := rd.ReadEntra(lr, res, nil, false)
	require.Len(t, recs, 2)
	first := &recs[0].Properties[:1][0]

	lr.Body().SetStr(few)
	recs, _ = rd.ReadEntra(lr, res, recs[:0], false)
	require.Len(t, recs, 1)
	assert.Equal(t, []record.Property{{TargetType: "User", Name: "e"}}, recs[0].Properties)
	assert.Same(t, first, &recs[0].Properties[:1][0], "the first record's array is reused")
	recs = recs[:2]
	assert.Equal(t, "d", recs[1].Properties[0].Name, "the element past the length is left as it was")
}
