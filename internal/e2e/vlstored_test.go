package e2e

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

// What VictoriaLogs v1.52.1 keeps of a log record, written down from its
// OTLP and Splunk HEC intakes (app/vlinsert/opentelemetry, .../splunk) and
// checked against what it returned. The store test compares every stored
// entry with this mapping of what the collector sent, so a field the store
// renames, drops or re-types fails the test, and so does a change of the
// mapping when VictoriaLogs is re-pinned.

// Fields the store adds of its own; they are not compared.
const (
	vlStream   = "_stream"
	vlStreamID = "_stream_id"
	vlTime     = "_time"
	vlMsg      = "_msg"
)

// expectedEntry is what the store should hold for one sent record.
type expectedEntry struct {
	fields storedRecord
	time   time.Time
}

// storedFields is a stored entry without the store's own fields, in the
// same shape as expectedEntry.fields.
func storedFields(r storedRecord) storedRecord {
	out := storedRecord{}
	for k, v := range r {
		switch k {
		case vlStream, vlStreamID, vlTime:
		default:
			out[k] = v
		}
	}
	return out
}

// addField adds one field as VictoriaLogs keeps it: an empty value is the
// same as no field there.
func addField(m storedRecord, name, value string) {
	if value != "" {
		m[name] = value
	}
}

// asOTLPEntry is a record sent to the OTLP intake: resource attributes, the
// scope's name and version ("unknown" when unset), the record's attributes
// and body (a map flattened with dots; arrays as JSON), severity number and
// text (text from the number when unset), event_name, and the record's time
// (else its observed time).
func asOTLPEntry(r outRecord) expectedEntry {
	m := storedRecord{}
	putOTLPMap(m, "", r.Resource.Attributes())
	addField(m, "scope.name", orUnknown(r.Scope.Name()))
	addField(m, "scope.version", orUnknown(r.Scope.Version()))
	putOTLPMap(m, "scope.attributes", r.Scope.Attributes())
	putOTLPMap(m, "", r.Attributes())
	if r.Body().Type() == pcommon.ValueTypeMap {
		putOTLPMap(m, "", r.Body().Map())
	} else {
		putOTLPValue(m, vlMsg, r.Body())
	}
	addField(m, "severity_number", strconv.Itoa(int(r.SeverityNumber())))
	if text := r.SeverityText(); text != "" {
		addField(m, "severity_text", text)
	} else {
		addField(m, "severity_text", r.SeverityNumber().String())
	}
	addField(m, "event_name", r.EventName())
	if id := r.TraceID(); !id.IsEmpty() {
		addField(m, "trace_id", id.String())
	}
	if id := r.SpanID(); !id.IsEmpty() {
		addField(m, "span_id", id.String())
	}
	ts := r.Timestamp()
	if ts == 0 {
		ts = r.ObservedTimestamp()
	}
	return expectedEntry{fields: m, time: ts.AsTime()}
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

func putOTLPMap(m storedRecord, prefix string, attrs pcommon.Map) {
	for k, v := range attrs.All() {
		name := k
		if prefix != "" {
			name = prefix + "." + k
		}
		putOTLPValue(m, name, v)
	}
}

func putOTLPValue(m storedRecord, name string, v pcommon.Value) {
	switch v.Type() {
	case pcommon.ValueTypeMap:
		putOTLPMap(m, name, v.Map())
	case pcommon.ValueTypeSlice:
		addField(m, name, compactJSON(v.Slice().AsRaw()))
	case pcommon.ValueTypeDouble:
		addField(m, name, strconv.FormatFloat(v.Double(), 'f', -1, 64))
	case pcommon.ValueTypeBytes:
		addField(m, name, base64.StdEncoding.EncodeToString(v.Bytes().AsRaw()))
	case pcommon.ValueTypeEmpty:
	default:
		addField(m, name, v.AsString())
	}
}

// hecMeta is the HEC event metadata the splunk_hec exporter falls back to:
// its own index, source and sourcetype settings.
type hecMeta struct {
	Index, Source, Sourcetype string
}

// The splunk_hec exporter's default attribute names for HEC metadata.
const (
	hecHostAttr       = "host.name"
	hecIndexAttr      = "com.splunk.index"
	hecSourceAttr     = "com.splunk.source"
	hecSourcetypeAttr = "com.splunk.sourcetype"
	hecTokenAttr      = "com.splunk.hec.access_token"
)

// asHECEntry is a record sent through the splunk_hec exporter (v0.158.0) to
// VictoriaLogs' HEC intake. The exporter makes an event of the body, takes
// host, index, source and sourcetype from the record's attributes, else the
// resource's, else its settings, and sends every other attribute, resource
// ones first, as a HEC field, with the event name and severity as otel.log.*
// fields. VictoriaLogs keeps the metadata under its HEC names and each field
// as fields.<name>: numbers as JSON wrote them, lists as JSON.
func asHECEntry(r outRecord, defaults hecMeta) expectedEntry {
	meta := map[string]string{
		"host":       "unknown",
		"index":      defaults.Index,
		"source":     defaults.Source,
		"sourcetype": defaults.Sourcetype,
	}
	fields := storedRecord{}
	if text := r.SeverityText(); text != "" {
		fields["otel.log.severity.text"] = text
	}
	if n := r.SeverityNumber(); n != 0 {
		fields["otel.log.severity.number"] = strconv.Itoa(int(n))
	}
	addField(fields, "otel.log.name", r.EventName())
	for _, attrs := range []pcommon.Map{r.Resource.Attributes(), r.Attributes()} {
		for k, v := range attrs.All() {
			switch k {
			case hecHostAttr:
				meta["host"] = v.Str()
			case hecIndexAttr:
				meta["index"] = v.Str()
			case hecSourceAttr:
				meta["source"] = v.Str()
			case hecSourcetypeAttr:
				meta["sourcetype"] = v.Str()
			case hecTokenAttr:
			default:
				putHECValue(fields, k, v)
			}
		}
	}
	m := storedRecord{}
	for k, v := range meta {
		addField(m, k, v)
	}
	for k, v := range fields {
		addField(m, "fields."+k, v)
	}
	addField(m, vlMsg, r.Body().AsString())
	ts := r.Timestamp()
	if ts == 0 {
		ts = r.ObservedTimestamp()
	}
	return expectedEntry{fields: m, time: ts.AsTime()}
}

func putHECValue(fields storedRecord, name string, v pcommon.Value) {
	switch v.Type() {
	case pcommon.ValueTypeMap:
		for k, sub := range v.Map().All() {
			putHECValue(fields, name+"."+k, sub)
		}
	case pcommon.ValueTypeSlice:
		fields[name] = compactJSON(v.Slice().AsRaw())
	case pcommon.ValueTypeDouble:
		fields[name] = strconv.FormatFloat(v.Double(), 'f', -1, 64)
	case pcommon.ValueTypeEmpty:
	default:
		fields[name] = v.AsString()
	}
}

// compactJSON is a list as both intakes store it: compact JSON, with no
// HTML escaping.
func compactJSON(v any) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "!" + err.Error()
	}
	return string(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
}

// canonical is one entry's fields as a comparable string.
func canonical(r storedRecord) string {
	b, _ := json.Marshal(r) // map keys come out sorted
	return string(b)
}
