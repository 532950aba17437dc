package o365detectprocessor

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/o365detect/o365detect/internal/rule"
)

// oracleFiles are the input files whose oracle lines expected.jsonl holds,
// each with the test that checks them. A file added to the oracle without a
// test here would be checked by nothing.
var oracleFiles = map[string]string{
	"sample.jsonl":  "TestOracle",
	"unseen.jsonl":  "TestOracle",
	"layouts.jsonl": "TestLayouts",
}

func readOracle(t *testing.T) []oracleLine {
	t.Helper()
	var oracle []oracleLine
	for i, l := range readLines(t, "expected.jsonl") {
		var o oracleLine
		require.NoError(t, json.Unmarshal([]byte(l), &o), "expected.jsonl line %d", i+1)
		oracle = append(oracle, o)
	}
	return oracle
}

func TestEveryOracleFileIsTested(t *testing.T) {
	for _, o := range readOracle(t) {
		_, ok := oracleFiles[o.File]
		assert.True(t, ok, "expected.jsonl names %s (line %d), which no test runs", o.File, o.Line)
	}
}

// TestLayouts runs layouts.jsonl, cross-tenant changes written in the
// layouts that published records have and the other files lack, through the
// processor in each input shape, and compares rows, times and tags with
// their oracle lines. An oracle line without a time is a record whose
// CreationTime the processor does not read: its event time is the log
// record's, here the ObservedTimestamp the harness sets.
func TestLayouts(t *testing.T) {
	const file = "layouts.jsonl"
	var oracle []oracleLine
	for _, o := range readOracle(t) {
		if o.File == file {
			if o.Time == "" {
				o.Time = rule.FormatTime(testNow)
			}
			oracle = append(oracle, o)
		}
	}
	lines := readLines(t, file)
	require.Len(t, oracle, len(lines), "every line of %s is a match with its oracle line", file)

	for _, sh := range shapes {
		t.Run(string(sh), func(t *testing.T) {
			h := newHarness(t, testConfig())
			require.NoError(t, h.p.ConsumeLogs(context.Background(), logsOf(t, lines, sh)))
			h.endWindow()

			// Every record has its own Id, so each is its own group.
			var want, got []resultRow
			for _, o := range oracle {
				want = append(want, resultRow{Key: o.key(), Count: 1, FirstTime: o.Time, LastTime: o.Time})
			}
			for _, lr := range detections(h.sink) {
				a := lr.Attributes().AsRaw()
				o := oracleLine{
					User: a["user"].(string), Dest: a["dest"].(string), Src: a["src"].(string),
					VendorAccount: a["vendor_account"].(string), VendorProduct: a["vendor_product"].(string),
					Signature: a["signature"].(string), SignatureID: a["signature_id"].(string),
				}
				got = append(got, resultRow{Key: o.key(), Count: a["count"].(int64), FirstTime: a["firstTime"].(string), LastTime: a["lastTime"].(string)})
			}
			sortRows(want)
			sortRows(got)
			assert.Equal(t, want, got)

			passed := h.sink.AllLogs()[0].ResourceLogs().At(0).ScopeLogs().At(0).LogRecords()
			require.Equal(t, len(lines), passed.Len())
			for _, o := range oracle {
				user, tagged := passed.At(o.Line - 1).Attributes().Get("user")
				if assert.True(t, tagged, "line %d tagged", o.Line) {
					assert.Equal(t, o.User, user.Str(), "line %d user", o.Line)
				}
			}
		})
	}
}
