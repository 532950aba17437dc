package record_test

import (
	"encoding/json"
	"strings"

	"github.com/o365detect/o365detect/internal/record"
)

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }

// normalize makes records comparable: an empty ActorIDs or Properties
// slice equals nil.
func normalize(r record.Record) record.Record {
	if len(r.ActorIDs) == 0 {
		r.ActorIDs = nil
	}
	if len(r.Properties) == 0 {
		r.Properties = nil
	}
	return r
}

// lowerASCII lower-cases the ASCII letters of s and nothing else, the
// rules' case folding, written apart from the package's own.
func lowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// hasCrossTenant reports whether s contains "cross-tenant", ignoring ASCII
// case: what every rule's operation and activity contains.
func hasCrossTenant(s string) bool {
	return strings.Contains(lowerASCII(s), "cross-tenant")
}

// isCandidate reports whether a decoded Management Activity record is one
// any rule may match, so the prefilter must pass it: the workload
// AzureActiveDirectory and an operation containing "cross-tenant".
func isCandidate(r record.Record) bool {
	return r.Workload.Kind == record.String && r.Operation.Kind == record.String &&
		lowerASCII(r.Workload.Text) == "azureactivedirectory" && hasCrossTenant(r.Operation.Text)
}

// entraCandidates counts the records of a JSON text that any rule may
// match, read as ReadEntra reads the text's structure but with
// encoding/json alone: a records envelope's or a Graph list's object
// elements, or the text itself; a diagnostic record's properties, or the
// record itself; and an activityDisplayName string containing
// "cross-tenant". ok is false when the text is no valid JSON.
func entraCandidates(s string) (n int, ok bool) {
	var doc any
	if err := json.Unmarshal([]byte(s), &doc); err != nil {
		return 0, false
	}
	m, _ := doc.(map[string]any)
	recs := []any{m}
	for _, key := range []string{"records", "value"} {
		if list, ok := m[key].([]any); ok {
			recs = list
			break
		}
	}
	for _, r := range recs {
		rm, _ := r.(map[string]any)
		audit := rm
		if props, ok := rm["properties"].(map[string]any); ok {
			audit = props
		}
		if a, ok := audit["activityDisplayName"].(string); ok && hasCrossTenant(a) {
			n++
		}
	}
	return n, true
}
