package record // import "github.com/o365detect/o365detect/internal/record"

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
)

// EntraRecord holds the fields the detection reads from one Entra ID audit
// record: a Microsoft Graph directoryAudit object, or a diagnostic-settings
// AuditLogs record (the Event Hub form) whose properties hold one. Read from
// a JSON text, its strings are its own; read from a map body, attributes or
// a resource, they share memory with the log record: clone them before
// keeping them past it.
type EntraRecord struct {
	// Activity is activityDisplayName: the operation, without the trailing
	// period the Management Activity feed adds.
	Activity Value
	// TenantID is the diagnostic record's tenantId (absent from Graph),
	// else the tenant in its resource ID.
	TenantID string
	// UPN is initiatedBy.user.userPrincipalName; a value that is not a
	// string is read as none, as a non-string Actor ID is.
	UPN string
	// ServicePrincipalID and AppID are initiatedBy.app's servicePrincipalId
	// and appId.
	ServicePrincipalID string
	AppID              string
	// IPAddress is initiatedBy.user.ipAddress; CallerIP the diagnostic
	// record's callerIpAddress.
	IPAddress string
	CallerIP  string
	// ID is the directoryAudit id; CorrelationID its correlationId.
	ID            string
	CorrelationID string
	// Time is activityDateTime.
	Time string
	// RecordTime is the diagnostic record's own time, the event time when
	// activityDateTime is missing or unreadable. The Event Hub receiver's
	// translators move it into the log record's Timestamp, so in their
	// shapes it is empty and the Timestamp stands in for it.
	RecordTime string
	// PartnerTenantNew and PartnerTenantOld are the tenantId modified
	// property's values, decoded from their JSON encoding.
	PartnerTenantNew string
	PartnerTenantOld string
	// UserID is initiatedBy.user.id; AppDisplayName initiatedBy.app's
	// displayName.
	UserID         string
	AppDisplayName string
	// Properties holds the modifiedProperties of every target resource,
	// target by target, each with its target's type: every object element
	// of targetResources, and of its modifiedProperties, in order. A
	// target's type is its "type", or its "Type" when it has no "type".
	// An object or array value is written with its keys sorted, as
	// encoding/json writes a decoded object, whose order is lost.
	Properties []Property
}

// ReadEntra appends to out the Entra audit records a log record holds. A
// body may hold one record or many: the Event Hub envelope
// {"records":[...]} or a Graph list {"value":[...]}. A map body or the
// attributes may also be one of the Event Hub receiver's translations of a
// diagnostic record (see entraFromMap); res is the log record's resource,
// where two of them put the tenant. Only records that may match are
// decoded in full; for others the status is NotCandidate.
//
// The records are appended at len(out), so that a caller passing the last
// result as out[:0] reuses its backing array and allocates no new one. The
// array keeps the capacity the most records read into it needed, and the
// elements past the returned length are left as they were: they keep the
// strings of earlier records, and the log records those share memory with,
// reachable until a later read overwrites them; a later read reuses their
// Properties' backing arrays too. Dropping the array (passing nil instead),
// or clearing it up to its capacity, releases them.
//
// noLetterEscape tells that the body is known to hold no letter escape,
// because Read has just returned NotCandidate for it; the prefilter then
// skips that scan.
func (r *Reader) ReadEntra(lr plog.LogRecord, res pcommon.Resource, out []EntraRecord, noLetterEscape bool) ([]EntraRecord, Status) {
	body := lr.Body()
	var text string
	switch body.Type() {
	case pcommon.ValueTypeStr:
		text = body.Str()
	case pcommon.ValueTypeBytes:
		text = string(body.Bytes().AsRaw())
	case pcommon.ValueTypeMap:
		return entraFromMap(body.Map(), res, out)
	default:
		return entraFromMap(lr.Attributes(), res, out)
	}
	if !isObjectText(text) {
		return entraFromMap(lr.Attributes(), res, out)
	}
	if !hasEntraActivity(text) && (noLetterEscape || !hasLetterEscape(text)) {
		return out, NotCandidate
	}
	doc, ok := decodeJSON(text)
	if !ok {
		return out, Invalid
	}
	return appendEntra(doc, out), Decoded
}

// decodeJSON decodes a candidate in full. It is kept out of ReadEntra so
// the decoded value's allocation happens only for candidates.
func decodeJSON(s string) (map[string]any, bool) {
	if !json.Valid([]byte(s)) {
		return nil, false
	}
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, false
	}
	m, _ := doc.(map[string]any)
	return m, true
}

// appendEntra appends the records of one decoded document.
func appendEntra(doc map[string]any, out []EntraRecord) []EntraRecord {
	if doc == nil {
		return out
	}
	for _, key := range []string{"records", "value"} {
		if list, ok := doc[key].([]any); ok {
			for _, el := range list {
				if m, ok := el.(map[string]any); ok {
					out = appendOne(m, out)
				}
			}
			return out
		}
	}
	return appendOne(doc, out)
}

// appendOne reads one record: a diagnostic record (the directoryAudit in
// its properties) or a Graph directoryAudit object.
func appendOne(m map[string]any, out []EntraRecord) []EntraRecord {
	out, e := nextRecord(out)
	audit := m
	if props, ok := m["properties"].(map[string]any); ok {
		audit = props
		e.TenantID = str(m["tenantId"])
		if e.TenantID == "" {
			e.TenantID = tenantFromResourceID(str(m["resourceId"]))
		}
		e.CallerIP = str(m["callerIpAddress"])
		e.RecordTime = str(m["time"])
		e.CorrelationID = str(m["correlationId"])
	}
	readAudit(audit, e)
	return out
}

// nextRecord appends an empty record to out and returns it. An element in
// out's capacity past its length is reused, its Properties' backing array
// with it, so that reading as many properties as an earlier record had
// allocates none.
func nextRecord(out []EntraRecord) ([]EntraRecord, *EntraRecord) {
	if len(out) < cap(out) {
		out = out[:len(out)+1]
		e := &out[len(out)-1]
		*e = EntraRecord{Properties: e.Properties[:0]}
		return out, e
	}
	out = append(out, EntraRecord{})
	return out, &out[len(out)-1]
}

// readAudit reads the fields of a directoryAudit into e. Its correlationId
// replaces the diagnostic record's only when set.
func readAudit(audit map[string]any, e *EntraRecord) {
	e.Activity = anyValue(audit, "activityDisplayName")
	e.Time = str(audit["activityDateTime"])
	e.ID = str(audit["id"])
	if c := str(audit["correlationId"]); c != "" {
		e.CorrelationID = c
	}
	if by, ok := audit["initiatedBy"].(map[string]any); ok {
		if u, ok := by["user"].(map[string]any); ok {
			e.UPN = str(u["userPrincipalName"])
			e.IPAddress = str(u["ipAddress"])
			e.UserID = str(u["id"])
		}
		if a, ok := by["app"].(map[string]any); ok {
			e.ServicePrincipalID = str(a["servicePrincipalId"])
			e.AppID = str(a["appId"])
			e.AppDisplayName = str(a["displayName"])
		}
	}
	e.Properties = e.Properties[:0]
	targets, _ := audit["targetResources"].([]any)
	for _, t := range targets {
		tm, ok := t.(map[string]any)
		if !ok {
			continue
		}
		typ, ok := tm["type"]
		if !ok {
			typ = tm["Type"]
		}
		targetType := str(typ)
		props, _ := tm["modifiedProperties"].([]any)
		for _, p := range props {
			pm, ok := p.(map[string]any)
			if !ok {
				continue
			}
			name := str(pm["displayName"])
			e.Properties = append(e.Properties, Property{
				TargetType: targetType,
				Name:       name,
				OldValue:   toString(pm["oldValue"]),
				NewValue:   toString(pm["newValue"]),
			})
			if name == propTenantID {
				e.PartnerTenantNew = decodeJSONString(str(pm["newValue"]))
				e.PartnerTenantOld = decodeJSONString(str(pm["oldValue"]))
			}
		}
	}
}

// toString converts a decoded value as KQL's tostring() converts a dynamic
// one: a string is itself; null (or a missing key) is ""; a number or a
// boolean is its JSON literal, and an object or an array its compact JSON
// text. A document decoded from JSON holds its numbers as json.Number, so
// they keep their literal as written; one converted from a pcommon map
// holds int64 and float64, written as encoding/json writes them.
func toString(v any) string {
	switch t := v.(type) {
	case nil:
		return ""
	case string:
		return t
	case json.Number:
		return string(t)
	case bool:
		return strconv.FormatBool(t)
	case int64:
		return strconv.FormatInt(t, 10)
	}
	return compactJSON(v)
}

// compactJSON is v's JSON text without HTML escapes (KQL writes none), or
// "" when v has none (a NaN, say).
func compactJSON(v any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if enc.Encode(v) != nil {
		return ""
	}
	return string(bytes.TrimSuffix(b.Bytes(), []byte("\n")))
}

// anyValue returns how key is present in a decoded document and, when it
// holds a string, the string; a scalar's text is not kept.
func anyValue(m map[string]any, key string) Value {
	v, ok := m[key]
	switch t := v.(type) {
	case nil:
		if ok {
			return Value{Kind: Null}
		}
		return Value{}
	case string:
		return Value{Text: t, Kind: String}
	case map[string]any, []any:
		return Value{Kind: Composite}
	default:
		return Value{Kind: Scalar}
	}
}

// str returns v when it is a string, "" otherwise.
func str(v any) string {
	s, _ := v.(string)
	return s
}

// decodeJSONString decodes Entra's JSON-encoded modified property values,
// such as "\"9b8a...\"", and keeps anything else as it is.
func decodeJSONString(s string) string {
	var out string
	if json.Unmarshal([]byte(s), &out) == nil {
		return out
	}
	return s
}

// tenantFromResourceID reads <tid> from "/tenants/<tid>/providers/...".
// Resource IDs are case-insensitive, so the prefix is compared folding
// ASCII case; the id itself is never case-mapped, because lower-casing
// can change a string's length in bytes.
func tenantFromResourceID(id string) string {
	const prefix = "/tenants/"
	if len(id) < len(prefix) || !EqualFoldASCII(id[:len(prefix)], prefix) {
		return ""
	}
	tid, _, _ := strings.Cut(id[len(prefix):], "/")
	return tid
}
