package e2e

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/o365detect/o365detect/internal/output"
	"github.com/o365detect/o365detect/internal/repotest"
)

// The attribute names are the product's contract, so they come from the one
// place that defines them; the expected values come from testdata, never from
// the product's code.
const detectionEventName = output.EventName

// Rule identity as published in ESCU (testdata/o365/README.md).
const (
	ruleName = "O365 Cross-Tenant Access Change"
	ruleUUID = "7c0fa490-12b0-4d0b-b9f5-e101d1e0e06f"
)

// row is the detection's by-clause: the fields that make one group.
type row struct {
	Dest          string `json:"dest"`
	User          string `json:"user"`
	Src           string `json:"src"`
	VendorAccount string `json:"vendor_account"`
	VendorProduct string `json:"vendor_product"`
	Signature     string `json:"signature"`
	SignatureID   string `json:"signature_id"`
}

func (r row) fields() map[string]string {
	return map[string]string{
		output.AttrDest:          r.Dest,
		output.AttrUser:          r.User,
		output.AttrSrc:           r.Src,
		output.AttrVendorAccount: r.VendorAccount,
		output.AttrVendorProduct: r.VendorProduct,
		output.AttrSignature:     r.Signature,
		output.AttrSignatureID:   r.SignatureID,
	}
}

// rowOf reads the row back from record attributes; a missing or non-string
// attribute reads as "" and so never equals an oracle row (fillnull writes "0").
func rowOf(attrs pcommon.Map) row {
	s := func(k string) string {
		if v, ok := attrs.Get(k); ok && v.Type() == pcommon.ValueTypeStr {
			return v.Str()
		}
		return ""
	}
	return row{
		Dest:          s(output.AttrDest),
		User:          s(output.AttrUser),
		Src:           s(output.AttrSrc),
		VendorAccount: s(output.AttrVendorAccount),
		VendorProduct: s(output.AttrVendorProduct),
		Signature:     s(output.AttrSignature),
		SignatureID:   s(output.AttrSignatureID),
	}
}

// expectedLine is one line of testdata/o365/expected.jsonl: the row a
// matching input line must produce, and its event time.
type expectedLine struct {
	row
	File string `json:"file"`
	Line int    `json:"line"`
	Time string `json:"time"`
}

// group is one expected detection record: the stats row of the search.
type group struct {
	row
	Count     int64
	FirstTime string
	LastTime  string
}

func testdataPath(t testing.TB, name string) string {
	return repotest.Path(t, "o365", name)
}

// readLines returns the records of a testdata/o365 file, as the filelog
// receiver puts them in record bodies.
func readLines(t testing.TB, name string) []string {
	return repotest.Lines(t, "o365", name)
}

// expectedLines returns the oracle rows of one input file, in line order.
func expectedLines(t testing.TB, file string) []expectedLine {
	t.Helper()
	var out []expectedLine
	for i, l := range readLines(t, "expected.jsonl") {
		var e expectedLine
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatalf("expected.jsonl line %d: %v", i+1, err)
		}
		if e.File == file {
			out = append(out, e)
		}
	}
	if len(out) == 0 {
		t.Fatalf("expected.jsonl has no rows for %s", file)
	}
	return out
}

// expectedGroups aggregates the oracle rows of file the way the search's
// stats does: count, min and max time per distinct row. The time format
// sorts lexically.
func expectedGroups(t testing.TB, file string) map[row]group {
	t.Helper()
	groups := map[row]group{}
	for _, e := range expectedLines(t, file) {
		g, ok := groups[e.row]
		if !ok {
			g = group{row: e.row, FirstTime: e.Time, LastTime: e.Time}
		}
		g.Count++
		g.FirstTime = min(g.FirstTime, e.Time)
		g.LastTime = max(g.LastTime, e.Time)
		groups[e.row] = g
	}
	return groups
}

// checkDetections compares detection records with the expected groups: one
// record per group, the stats columns, the row, and the rule and risk fields.
// count and risk_score are read through numberOf because transports differ in
// how they carry numbers.
func checkDetections(t testing.TB, got []outRecord, want map[row]group, riskScore int64, numberOf func(pcommon.Value) (int64, error)) {
	t.Helper()
	seen := map[row]bool{}
	for _, d := range got {
		attrs := d.Attributes()
		r := rowOf(attrs)
		id := fmt.Sprintf("detection for signature_id %q", r.SignatureID)
		g, ok := want[r]
		if !ok {
			t.Errorf("%s has a row no expected group has: %+v", id, r)
			continue
		}
		if seen[r] {
			t.Errorf("%s: more than one detection record for the same row", id)
		}
		seen[r] = true

		if v, ok := attrs.Get(output.AttrCount); !ok {
			t.Errorf("%s: no %s attribute", id, output.AttrCount)
		} else if n, err := numberOf(v); err != nil {
			t.Errorf("%s: %s: %v", id, output.AttrCount, err)
		} else if n != g.Count {
			t.Errorf("%s: count = %d, want %d", id, n, g.Count)
		}
		wantStr := map[string]string{
			output.AttrFirstTime:      g.FirstTime,
			output.AttrLastTime:       g.LastTime,
			output.AttrRuleName:       ruleName,
			output.AttrRuleUUID:       ruleUUID,
			output.AttrRiskObject:     g.User,
			output.AttrRiskObjectType: "user",
			output.AttrRiskMessage:    d.Body().AsString(),
		}
		for k, v := range wantStr {
			checkStrAttr(t, id, attrs, k, v)
		}
		if v, ok := attrs.Get(output.AttrRiskScore); !ok {
			t.Errorf("%s: no %s attribute", id, output.AttrRiskScore)
		} else if n, err := numberOf(v); err != nil || n != riskScore {
			t.Errorf("%s: %s = %s, want %d", id, output.AttrRiskScore, v.AsString(), riskScore)
		}
		if body := d.Body().AsString(); body == "" || !strings.Contains(body, g.User) {
			t.Errorf("%s: body %q does not name the user %q", id, body, g.User)
		}
	}
	var missing []string
	for r, g := range want {
		if !seen[r] {
			missing = append(missing, fmt.Sprintf("%s (user %s, count %d)", r.SignatureID, r.User, g.Count))
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("%d of %d expected detection records missing: %v", len(missing), len(want), missing)
	}
}

func checkStrAttr(t testing.TB, id string, attrs pcommon.Map, key, want string) {
	t.Helper()
	v, ok := attrs.Get(key)
	switch {
	case !ok:
		t.Errorf("%s: no %s attribute", id, key)
	case v.Type() != pcommon.ValueTypeStr:
		t.Errorf("%s: %s is a %s, want a string", id, key, v.Type())
	case v.Str() != want:
		t.Errorf("%s: %s = %q, want %q", id, key, v.Str(), want)
	}
}

// intValue accepts only an OTLP int: what the processor writes and what OTLP
// must carry unchanged.
func intValue(v pcommon.Value) (int64, error) {
	if v.Type() != pcommon.ValueTypeInt {
		return 0, fmt.Errorf("is a %s (%s), want an int", v.Type(), v.AsString())
	}
	return v.Int(), nil
}
