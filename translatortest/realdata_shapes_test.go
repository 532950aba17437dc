package translatortest

import (
	"fmt"
	"slices"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/translator/azure"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.uber.org/zap"
)

// realShape is one way a record reaches o365_detect. build returns the
// batch holding the record, or why this record cannot take this shape.
type realShape struct {
	name    string
	applies func(realRecord) bool
	build   func(realRecord) (plog.Logs, string)
}

func always(realRecord) bool { return true }

// jsonShapes are the shapes of the processor README's Input table, which
// every record can arrive in; eventHubShapes those of the azure_event_hub
// receiver, which only a diagnostic-settings record can arrive in (a Graph
// object or list never reaches an Event Hub).
var (
	jsonShapes = []realShape{
		{"string body", always, stringBodyShape},
		{"map body", always, mapBodyShape},
		{"attributes", always, attributesShape},
	}
	eventHubShapes = []realShape{
		{"format: azure", realRecord.diagnostic, formatAzureShape},
		{"format: raw", realRecord.diagnostic, formatRawShape},
	}
	allShapes = slices.Concat(jsonShapes, eventHubShapes)
)

// The times a filelog or Event Hub delivery would set; fixed so that runs
// compare.
var (
	realObserved = time.Date(2025, 3, 7, 9, 0, 0, 0, time.UTC)
	realEnqueued = time.Date(2025, 3, 7, 9, 0, 1, 0, time.UTC)
)

// fileLogRecord starts a batch of one record as the root module's shape
// tests (logsOf) build one: a resource, the file name attribute, the
// observed time.
func fileLogRecord() (plog.Logs, plog.LogRecord) {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("service.name", "o365-audit")
	lr := rl.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	lr.SetObservedTimestamp(pcommon.NewTimestampFromTime(realObserved))
	lr.Attributes().PutStr("log.file.name", "audit.jsonl")
	return ld, lr
}

// stringBodyShape: the line as written (filelog without a parser).
func stringBodyShape(rec realRecord) (plog.Logs, string) {
	ld, lr := fileLogRecord()
	lr.Body().SetStr(string(rec.text))
	return ld, ""
}

// mapBodyShape: the line decoded into the body (json_parser with
// parse_to: body). A JSON value that is not an object becomes the body as
// it is (a string, a slice, ...), which the processor must pass over.
func mapBodyShape(rec realRecord) (plog.Logs, string) {
	if !rec.valid {
		return plog.Logs{}, "not valid JSON"
	}
	ld, lr := fileLogRecord()
	if rec.object == nil {
		if err := lr.Body().FromRaw(rec.value); err != nil {
			return plog.Logs{}, fmt.Sprintf("no pcommon value: %v", err)
		}
		return ld, ""
	}
	if err := putAll(lr.Body().SetEmptyMap(), rec.object); err != nil {
		return plog.Logs{}, err.Error()
	}
	return ld, ""
}

// attributesShape: the line decoded into the attributes beside the file
// name, the body left empty (json_parser's default parse_to: attributes).
// Only an object can be parsed there.
func attributesShape(rec realRecord) (plog.Logs, string) {
	if rec.object == nil {
		return plog.Logs{}, "not a JSON object"
	}
	ld, lr := fileLogRecord()
	lr.Body().SetStr("")
	if err := putAll(lr.Attributes(), rec.object); err != nil {
		return plog.Logs{}, err.Error()
	}
	return ld, ""
}

// putAll puts the fields into m in key order, so that a failure reads the
// same on every run.
func putAll(m pcommon.Map, fields map[string]any) error {
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if err := m.PutEmpty(k).FromRaw(fields[k]); err != nil {
			return fmt.Errorf("field %q: %w", k, err)
		}
	}
	return nil
}

// envelope is the record as diagnostic settings send it to an Event Hub,
// its bytes kept as published.
func envelopeOf(rec realRecord) []byte {
	return slices.Concat([]byte(`{"records":[`), rec.text, []byte(`]}`))
}

// formatAzureShape: the envelope through the receiver's own translator, as
// translate calls it. A message the translator refuses, or a record it
// drops (it drops one whose time it cannot read), never reaches the
// processor, so there is nothing to run.
func formatAzureShape(rec realRecord) (plog.Logs, string) {
	u := azure.ResourceLogsUnmarshaler{Version: "v0.158.0", Logger: zap.NewNop()}
	ld, err := u.UnmarshalLogs(envelopeOf(rec))
	if err != nil {
		return plog.Logs{}, fmt.Sprintf("the translator refuses the message (%v)", err)
	}
	if ld.LogRecordCount() == 0 {
		return plog.Logs{}, "the translator drops the record (time unreadable)"
	}
	return ld, ""
}

// formatRawShape: the envelope's bytes as the body, as raw builds it.
func formatRawShape(rec realRecord) (plog.Logs, string) {
	return raw(envelopeOf(rec), realEnqueued), ""
}
