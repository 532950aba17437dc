package record // import "github.com/o365detect/o365detect/internal/record"

import (
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
)

// Reader reads records from log records. It is safe for concurrent use.
type Reader struct {
	signatureIDField string
}

// NewReader returns a Reader that copies the field named signatureIDField
// into Record.SignatureID; an empty name reads none.
func NewReader(signatureIDField string) *Reader {
	return &Reader{signatureIDField: signatureIDField}
}

// isSignatureID reports whether key names the signature ID field. With no
// field configured, no key does, not even the empty one JSON allows.
func (r *Reader) isSignatureID(key string) bool {
	return key == r.signatureIDField && r.signatureIDField != ""
}

// Read fills rec from lr. The record is read from the body when the body
// is a map or a string (or bytes) holding a JSON object, and otherwise from
// the attributes (filelog's json_parser with its default parse_to).
func (r *Reader) Read(lr plog.LogRecord, rec *Record) Status {
	rec.Reset()
	body := lr.Body()
	switch body.Type() {
	case pcommon.ValueTypeMap:
		r.readMap(body.Map(), rec)
		return Decoded
	case pcommon.ValueTypeStr:
		if s := body.Str(); isObjectText(s) {
			return r.ReadJSON(s, rec)
		}
	case pcommon.ValueTypeBytes:
		// Copied: strings read from it end up in attributes, and the
		// bytes stay mutable. Bytes bodies are rare.
		if s := string(body.Bytes().AsRaw()); isObjectText(s) {
			return r.ReadJSON(s, rec)
		}
	}
	r.readMap(lr.Attributes(), rec)
	return Decoded
}

// ReadJSON fills rec from a JSON text. Texts that cannot match the detection
// are rejected by a prefilter without being decoded (NotCandidate).
func (r *Reader) ReadJSON(s string, rec *Record) Status {
	rec.Reset()
	if !MayMatch(s) {
		return NotCandidate
	}
	if !r.scanRecord(s, rec) {
		rec.Reset()
		return Invalid
	}
	return Decoded
}

// isObjectText reports whether s starts, after JSON whitespace, with '{'.
func isObjectText(s string) bool {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ' ', '\t', '\n', '\r':
			continue
		case '{':
			return true
		default:
			return false
		}
	}
	return false
}
