package translatortest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"strings"
	"testing"

	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/o365detect/o365detect/internal/output"
	"github.com/o365detect/o365detect/internal/record/recordtest"
)

// crossTenantOperations are the two operations ESCU's search matches.
var crossTenantOperations = []string{
	"Add a partner to cross-tenant access setting.",
	"Delete partner specific cross-tenant access setting.",
}

// actorOf returns the Actor array of an AzureActiveDirectory record, and
// whether rec is one with an Actor array. Keys are matched exactly, as the
// processor matches them (a Go struct would match them ignoring case); a
// repeated key counts with its last value, as in the processor.
func actorOf(rec realRecord) ([]any, bool) {
	var top map[string]json.RawMessage
	if rec.object == nil || json.Unmarshal(rec.text, &top) != nil {
		return nil, false
	}
	var workload string
	if json.Unmarshal(top["Workload"], &workload) != nil || !asciiEqualFold(workload, "AzureActiveDirectory") {
		return nil, false
	}
	raw := bytes.TrimSpace(top["Actor"])
	var actor []any
	if len(raw) == 0 || raw[0] != '[' || json.Unmarshal(raw, &actor) != nil {
		return nil, false
	}
	return actor, true
}

// asciiEqualFold compares as the rule compares Workload: ignoring the case
// of ASCII letters only.
func asciiEqualFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// splUser is ESCU's
//
//	eval user = case(match(mvindex('Actor{}.ID',-1),"User"),mvindex('Actor{}.ID',0),
//	                 match(mvindex('Actor{}.ID',-1),"ServicePrincipal"),mvindex('Actor{}.ID',3),
//	                 true(),mvindex('Actor{}.ID',0))
//	| fillnull
//
// written from the rules of testdata/o365/README.md, not from the
// processor: ids are the Actor IDs that are strings, in order; a missing or
// empty user is filled with "0".
func splUser(actor []any) string {
	var ids []string
	for _, el := range actor {
		if m, ok := el.(map[string]any); ok {
			if id, ok := m["ID"].(string); ok {
				ids = append(ids, id)
			}
		}
	}
	user := ""
	if len(ids) > 0 {
		switch last := ids[len(ids)-1]; {
		case strings.Contains(last, "User"):
			user = ids[0]
		case strings.Contains(last, "ServicePrincipal"):
			if len(ids) > 3 {
				user = ids[3]
			}
		default:
			user = ids[0]
		}
	}
	if user == "" {
		return "0"
	}
	return user
}

// withOperation returns text with the value of every top-level Operation
// replaced by op, in the text itself, so that the rest of the real record
// (key order, spacing, escapes, numbers) stays byte for byte as published.
func withOperation(text []byte, op string) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(text))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, errors.New("not a JSON object")
	}
	type span struct{ start, end int64 }
	var spans []span
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		var value json.RawMessage
		if err := dec.Decode(&value); err != nil {
			return nil, err
		}
		// The raw value excludes the whitespace around it, so it ends at
		// the decoder's offset.
		end := dec.InputOffset()
		if tok == "Operation" {
			spans = append(spans, span{end - int64(len(value)), end})
		}
	}
	if len(spans) == 0 {
		return nil, errors.New("no top-level Operation")
	}
	quoted, err := json.Marshal(op)
	if err != nil {
		return nil, err
	}
	var out []byte
	prev := int64(0)
	for _, s := range spans {
		out = append(append(out, text[prev:s.start]...), quoted...)
		prev = s.end
	}
	out = append(out, text[prev:]...)
	if !json.Valid(out) {
		return nil, errors.New("the edited record is not valid JSON")
	}
	return out, nil
}

// checkActorCopies: for an AzureActiveDirectory record with an Actor
// array, each copy whose Operation alone is a cross-tenant operation must
// match in each JSON shape, with the user splUser picks from that real
// Actor layout, and pass through with its body unchanged.
func checkActorCopies(t *testing.T, rec realRecord, n *tally) {
	t.Helper()
	actor, ok := actorOf(rec)
	if !ok {
		return
	}
	want := splUser(actor)
	for _, op := range crossTenantOperations {
		text, err := withOperation(rec.text, op)
		if err != nil {
			n.skipped("cross-tenant copy: "+err.Error(), rec.where)
			continue
		}
		edited := realRecord{where: rec.where, text: text, valid: true}
		if err := json.Unmarshal(text, &edited.value); err != nil {
			t.Fatalf("%s: %v", rec.where, err)
		}
		edited.object, _ = edited.value.(map[string]any)
		if !sameButOperation(rec.object, edited.object) {
			t.Fatalf("%s: editing Operation changed another field", rec.where)
		}
		for _, sh := range jsonShapes {
			ld, why := sh.build(edited)
			if why != "" {
				t.Errorf("%s [%s, Operation %q]: %s", rec.where, sh.name, op, why)
				continue
			}
			n.copies++
			checkCopy(t, fmt.Sprintf("%s [%s, Operation %q]", rec.where, sh.name, op), copyOf(ld), runReal(t, ld), want)
		}
	}
}

// sameButOperation: a and b hold the same fields but for Operation.
func sameButOperation(a, b map[string]any) bool {
	a, b = maps.Clone(a), maps.Clone(b)
	delete(a, "Operation")
	delete(b, "Operation")
	return reflect.DeepEqual(a, b)
}

// checkCopy asserts that the copy matched once, with user want, and kept
// its body.
func checkCopy(t *testing.T, where string, in plog.Logs, res realRun, want string) {
	t.Helper()
	for _, f := range res.failures {
		t.Errorf("%s: %s", where, f)
	}
	if res.invalid != 0 {
		t.Errorf("%s: records_invalid counted %d", where, res.invalid)
	}
	if res.matched != 1 {
		t.Errorf("%s: records_matched is %d, want 1", where, res.matched)
	}
	if len(res.out) == 0 {
		t.Errorf("%s: nothing passed through", where)
		return
	}
	got := recordtest.LogRecords(res.out[0])
	if len(got) != 1 || got[0].EventName() == output.EventName {
		t.Errorf("%s: the first batch out is not the copy passed through", where)
		return
	}
	if !got[0].Body().Equal(recordtest.LogRecords(in)[0].Body()) {
		t.Errorf("%s: the body changed", where)
	}
	user, ok := got[0].Attributes().Get("user")
	switch {
	case !ok:
		t.Errorf("%s: not tagged with a user; ESCU's case() gives %q", where, want)
	case user.Str() != want:
		t.Errorf("%s: user %q; ESCU's case() gives %q from this Actor layout", where, user.Str(), want)
	}
}
