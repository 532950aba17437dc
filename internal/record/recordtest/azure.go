package recordtest // import "github.com/o365detect/o365detect/internal/record/recordtest"

import (
	"encoding/json"
	"strconv"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
)

// The builders below turn an Event Hub message of diagnostic records,
// {"records":[...]}, into the log records the contrib azure_event_hub
// receiver hands over, so that the root module's tests can feed the reader
// every shape without importing the contrib translators.
//
// FormatAzure follows pkg/translator/azure v0.158.0 (resourcelogs_to_logs.go),
// and the translatortest module checks it against that translator.
// SemanticConventions and AzureEncoding follow pkg/translator/azurelogs and
// the azure_encoding extension as their later source has them: neither
// module could be fetched at v0.158.0, so nothing checks these two against
// the real code.

// diagnosticRecord is one record of the common diagnostic-settings schema,
// decoded as the translators decode it: numbers in properties become
// float64, null becomes nil.
type diagnosticRecord struct {
	Time              string       `json:"time"`
	TimeStamp         string       `json:"timeStamp"`
	ResourceID        string       `json:"resourceId"`
	TenantID          *string      `json:"tenantId"`
	OperationName     string       `json:"operationName"`
	OperationVersion  *string      `json:"operationVersion"`
	Category          string       `json:"category"`
	ResultType        *string      `json:"resultType"`
	ResultSignature   *string      `json:"resultSignature"`
	ResultDescription *string      `json:"resultDescription"`
	DurationMs        *json.Number `json:"durationMs"`
	CallerIPAddress   *string      `json:"callerIpAddress"`
	CorrelationID     *string      `json:"correlationId"`
	Identity          *any         `json:"identity"`
	Level             any          `json:"Level"`
	Location          *string      `json:"location"`
	Properties        *any         `json:"properties"`
}

func decodeMessage(msg []byte) ([]diagnosticRecord, error) {
	var m struct {
		Records []diagnosticRecord `json:"records"`
	}
	err := json.Unmarshal(msg, &m)
	return m.Records, err
}

// timestamp parses time, else timeStamp, as ISO 8601; ok is false when
// neither parses, and the translators then drop the record.
func (d *diagnosticRecord) timestamp() (pcommon.Timestamp, bool) {
	s := d.Time
	if s == "" {
		s = d.TimeStamp
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			return pcommon.NewTimestampFromTime(t), true
		}
	}
	return 0, false
}

// setSeverity maps Level as the translators do: a number n is severity n
// and the text its digits; the four level names are mapped and kept as the
// text.
func (d *diagnosticRecord) setSeverity(lr plog.LogRecord) {
	switch l := d.Level.(type) {
	case float64:
		if l > 0 {
			lr.SetSeverityNumber(plog.SeverityNumber(l))
		}
		lr.SetSeverityText(strconv.FormatFloat(l, 'f', -1, 64))
	case string:
		lr.SetSeverityNumber(levelNames[l])
		lr.SetSeverityText(l)
	}
}

var levelNames = map[string]plog.SeverityNumber{
	"Informational": plog.SeverityNumberInfo,
	"Warning":       plog.SeverityNumberWarn,
	"Error":         plog.SeverityNumberError,
	"Critical":      plog.SeverityNumberFatal,
}

func (d *diagnosticRecord) duration() (int64, bool) {
	if d.DurationMs == nil {
		return 0, false
	}
	n, err := strconv.ParseInt(d.DurationMs.String(), 10, 64)
	return n, err == nil
}

func setIf(m map[string]any, key string, v *string) {
	if v != nil && *v != "" {
		m[key] = *v
	}
}

// FormatAzure is format: azure, the receiver's default: one ResourceLogs
// per resourceId (resource attribute azure.resource.id), each record a log
// record with an empty body, its fields in azure.* attributes and its
// properties in the map attribute azure.properties.
func FormatAzure(msg []byte) (plog.Logs, error) {
	recs, err := decodeMessage(msg)
	ld := plog.NewLogs()
	if err != nil {
		return ld, err
	}
	byResource := map[string]plog.LogRecordSlice{}
	for i := range recs {
		d := &recs[i]
		lrs, ok := byResource[d.ResourceID]
		if !ok {
			rl := ld.ResourceLogs().AppendEmpty()
			rl.Resource().Attributes().PutStr("azure.resource.id", d.ResourceID)
			sl := rl.ScopeLogs().AppendEmpty()
			sl.Scope().SetName("github.com/open-telemetry/opentelemetry-collector-contrib/pkg/translator/azure")
			lrs = sl.LogRecords()
			byResource[d.ResourceID] = lrs
		}
		ts, ok := d.timestamp()
		if !ok {
			continue
		}
		lr := lrs.AppendEmpty()
		lr.SetTimestamp(ts)
		d.setSeverity(lr)
		attrs := map[string]any{
			"azure.category":       d.Category,
			"azure.operation.name": d.OperationName,
			"cloud.provider":       "azure",
		}
		setIf(attrs, "azure.correlation.id", d.CorrelationID)
		if n, ok := d.duration(); ok {
			attrs["azure.duration"] = n
		}
		if d.Identity != nil {
			attrs["azure.identity"] = *d.Identity
		}
		setIf(attrs, "azure.operation.version", d.OperationVersion)
		if d.Properties != nil {
			attrs["azure.properties"] = *d.Properties
		}
		setIf(attrs, "azure.result.description", d.ResultDescription)
		setIf(attrs, "azure.result.signature", d.ResultSignature)
		setIf(attrs, "azure.result.type", d.ResultType)
		setIf(attrs, "azure.tenant.id", d.TenantID)
		setIf(attrs, "cloud.region", d.Location)
		setIf(attrs, "network.peer.address", d.CallerIPAddress)
		if err := lr.Attributes().FromRaw(attrs); err != nil {
			return ld, err
		}
	}
	return ld, nil
}

// SemanticConventions is apply_semantic_conventions: true
// (pkg/translator/azurelogs). AuditLogs and SignInLogs are categories it
// does not map, so each record's fields go into a map body (category,
// operation.name, properties, tenant.id, network.peer.address, ...) and the
// log record has no attributes; the resource holds cloud.provider,
// cloud.resource_id and event.name.
func SemanticConventions(msg []byte) (plog.Logs, error) {
	recs, err := decodeMessage(msg)
	ld := plog.NewLogs()
	if err != nil {
		return ld, err
	}
	byResource := map[string]plog.LogRecordSlice{}
	for i := range recs {
		d := &recs[i]
		lrs, ok := byResource[d.ResourceID]
		if !ok {
			rl := ld.ResourceLogs().AppendEmpty()
			ra := rl.Resource().Attributes()
			ra.PutStr("cloud.provider", "azure")
			ra.PutStr("cloud.resource_id", d.ResourceID)
			ra.PutStr("event.name", "az.resource.log")
			sl := rl.ScopeLogs().AppendEmpty()
			sl.Scope().SetName("otelcol/azureresourcelogs")
			lrs = sl.LogRecords()
			byResource[d.ResourceID] = lrs
		}
		ts, ok := d.timestamp()
		if !ok {
			continue
		}
		lr := lrs.AppendEmpty()
		lr.SetTimestamp(ts)
		d.setSeverity(lr)
		body := map[string]any{
			"category":       d.Category,
			"operation.name": d.OperationName,
		}
		setIf(body, "correlation.id", d.CorrelationID)
		if n, ok := d.duration(); ok {
			body["duration"] = n
		}
		if d.Identity != nil {
			body["identity"] = *d.Identity
		}
		setIf(body, "operation.version", d.OperationVersion)
		if d.Properties != nil {
			// Unmapped categories copy every property as it is; an
			// empty object leaves the key out.
			if props, ok := (*d.Properties).(map[string]any); !ok || len(props) > 0 {
				body["properties"] = *d.Properties
			}
		}
		setIf(body, "result.description", d.ResultDescription)
		setIf(body, "result.signature", d.ResultSignature)
		setIf(body, "result.type", d.ResultType)
		setIf(body, "tenant.id", d.TenantID)
		setIf(body, "cloud.region", d.Location)
		setIf(body, "network.peer.address", d.CallerIPAddress)
		if err := lr.Body().SetEmptyMap().FromRaw(body); err != nil {
			return ld, err
		}
	}
	return ld, nil
}

// encodingResource is what the azure_encoding extension groups records by.
type encodingResource struct {
	resourceID, tenantID, location string
}

// AzureEncoding is encoding: azure_encoding. AuditLogs and SignInLogs are
// categories it parses generically: the common fields become attributes
// (azure.category, azure.operation.name, network.peer.address,
// azure.correlation_id, ...), every key of properties becomes a top-level
// attribute of its own (its correlationId replacing azure.correlation_id),
// and the tenant moves to the resource (azure.tenant.id, beside
// cloud.resource_id). A record without a readable time is kept as a string
// body holding the record.
func AzureEncoding(msg []byte) (plog.Logs, error) {
	var raw struct {
		Records []json.RawMessage `json:"records"`
	}
	ld := plog.NewLogs()
	if err := json.Unmarshal(msg, &raw); err != nil {
		return ld, err
	}
	byResource := map[encodingResource]plog.LogRecordSlice{}
	scope := func(key encodingResource) plog.LogRecordSlice {
		lrs, ok := byResource[key]
		if !ok {
			rl := ld.ResourceLogs().AppendEmpty()
			ra := rl.Resource().Attributes()
			ra.PutStr("cloud.provider", "azure")
			ra.PutStr("cloudevents.event_source", "azure.resource.log")
			putIf(ra, "cloud.resource_id", key.resourceID)
			putIf(ra, "cloud.region", key.location)
			putIf(ra, "azure.tenant.id", key.tenantID)
			sl := rl.ScopeLogs().AppendEmpty()
			sl.Scope().SetName("github.com/open-telemetry/opentelemetry-collector-contrib/extension/encoding/azureencodingextension")
			lrs = sl.LogRecords()
			byResource[key] = lrs
		}
		return lrs
	}
	for _, r := range raw.Records {
		var d diagnosticRecord
		err := json.Unmarshal(r, &d)
		ts, ok := d.timestamp()
		if err != nil || !ok {
			lr := scope(encodingResource{}).AppendEmpty()
			lr.SetTimestamp(pcommon.NewTimestampFromTime(time.Now()))
			lr.SetSeverityText(plog.SeverityNumberUnspecified.String())
			lr.Body().SetStr(string(r))
			continue
		}
		key := encodingResource{resourceID: d.ResourceID, location: deref(d.Location)}
		key.tenantID = deref(d.TenantID)
		lr := scope(key).AppendEmpty()
		lr.SetTimestamp(ts)
		d.setSeverity(lr)
		attrs := lr.Attributes()
		putIf(attrs, "azure.category", d.Category)
		putIf(attrs, "azure.operation.name", d.OperationName)
		putIf(attrs, "azure.operation.version", deref(d.OperationVersion))
		putIf(attrs, "azure.result.type", deref(d.ResultType))
		putIf(attrs, "azure.result.signature", deref(d.ResultSignature))
		putIf(attrs, "azure.result.description", deref(d.ResultDescription))
		putIf(attrs, "network.peer.address", deref(d.CallerIPAddress))
		putIf(attrs, "azure.correlation_id", deref(d.CorrelationID))
		if n, ok := d.duration(); ok {
			attrs.PutInt("azure.operation.duration", n)
		}
		if d.Properties == nil {
			continue
		}
		props, ok := (*d.Properties).(map[string]any)
		if !ok {
			// Properties that are not an object are kept as their JSON.
			text, _ := json.Marshal(*d.Properties)
			attrs.PutStr("azure.properties", string(text))
			continue
		}
		for k, v := range props {
			var dst pcommon.Value
			switch k {
			case "Message", "message":
				dst = lr.Body()
			case "correlationId":
				dst = attrs.PutEmpty("azure.correlation_id")
			case "duration":
				dst = attrs.PutEmpty("azure.operation.duration")
			default:
				dst = attrs.PutEmpty(k)
			}
			if err := dst.FromRaw(v); err != nil {
				return ld, err
			}
		}
	}
	return ld, nil
}

// putIf sets key when v is neither empty nor "-", the extension's mark of
// an unknown value.
func putIf(m pcommon.Map, key, v string) {
	if v != "" && v != "-" {
		m.PutStr(key, v)
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// Raw is format: raw: one log record per Event Hub message, its body the
// message bytes and its Timestamp the enqueued time, in a resource and
// scope without attributes. The AMQP application properties, which become
// its attributes, are left out.
func Raw(msg []byte, enqueued time.Time) plog.Logs {
	ld := plog.NewLogs()
	lr := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	lr.Body().SetEmptyBytes().FromRaw(msg)
	lr.SetTimestamp(pcommon.NewTimestampFromTime(enqueued))
	return ld
}
