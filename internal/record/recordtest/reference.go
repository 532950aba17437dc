// Package recordtest holds an independent decoder of Management Activity
// records, built on encoding/json, that tests compare the fast path with,
// and builders of the log records the Azure Event Hub translators make of
// diagnostic records, that tests feed the reader with.
package recordtest // import "github.com/o365detect/o365detect/internal/record/recordtest"

import (
	"bytes"
	"encoding/json"

	"github.com/o365detect/o365detect/internal/record"
)

// Read decodes s with encoding/json and builds the Record the
// detection would read, without any prefilter. It is the oracle the fast path
// is compared with.
func Read(s, signatureIDField string) (record.Record, bool) {
	dec := json.NewDecoder(bytes.NewReader([]byte(s)))
	dec.UseNumber()
	var top any
	if err := dec.Decode(&top); err != nil {
		return record.Record{}, false
	}
	if !json.Valid([]byte(s)) { // also rejects trailing data
		return record.Record{}, false
	}
	m, ok := top.(map[string]any)
	if !ok {
		return record.Record{}, false
	}
	var rec record.Record
	rec.Workload = refValue(m, "Workload")
	rec.Operation = refValue(m, "Operation")
	rec.OrganizationID = refValue(m, "OrganizationId")
	rec.ActorIPAddress = refValue(m, "ActorIpAddress")
	rec.ClientIP = refValue(m, "ClientIP")
	rec.CreationTime = refValue(m, "CreationTime")
	rec.ID = refValue(m, "Id")
	if signatureIDField != "" {
		rec.SignatureID = refValue(m, signatureIDField)
	}
	if actors, ok := m["Actor"].([]any); ok {
		for _, a := range actors {
			if am, ok := a.(map[string]any); ok {
				if id, ok := am["ID"].(string); ok {
					rec.ActorIDs = append(rec.ActorIDs, id)
				}
			}
		}
	}
	if props, ok := m["ModifiedProperties"].([]any); ok {
		for _, p := range props {
			pm, ok := p.(map[string]any)
			if !ok {
				continue
			}
			rec.Properties = append(rec.Properties, record.Property{
				Name:     refValue(pm, "Name").Str(),
				NewValue: refValue(pm, "NewValue").Str(),
				OldValue: refValue(pm, "OldValue").Str(),
			})
			if pm["Name"] == "tenantId" {
				rec.PartnerTenantNew = refValue(pm, "NewValue").Str()
				rec.PartnerTenantOld = refValue(pm, "OldValue").Str()
			}
		}
	}
	return rec, true
}

func refValue(m map[string]any, key string) record.Value {
	v, ok := m[key]
	if !ok {
		return record.Value{}
	}
	switch t := v.(type) {
	case nil:
		return record.Value{Kind: record.Null}
	case string:
		return record.Value{Text: t, Kind: record.String}
	case json.Number:
		return record.Value{Text: string(t), Kind: record.Scalar}
	case bool:
		if t {
			return record.Value{Text: "true", Kind: record.Scalar}
		}
		return record.Value{Text: "false", Kind: record.Scalar}
	default:
		return record.Value{Kind: record.Composite}
	}
}
