package o365detectprocessor

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// oracleLine is one line of testdata/o365/expected.jsonl: the ESCU row of a
// matching record, derived by hand from the detection's definition.
type oracleLine struct {
	File          string `json:"file"`
	Line          int    `json:"line"`
	User          string `json:"user"`
	Dest          string `json:"dest"`
	Src           string `json:"src"`
	VendorAccount string `json:"vendor_account"`
	VendorProduct string `json:"vendor_product"`
	Signature     string `json:"signature"`
	SignatureID   string `json:"signature_id"`
	Time          string `json:"time"`
}

func (o oracleLine) key() string {
	return fmt.Sprintf("%s|%s|%s|%s|%s|%s|%s", o.Dest, o.User, o.Src, o.VendorAccount, o.VendorProduct, o.Signature, o.SignatureID)
}

type resultRow struct {
	Key       string
	Count     int64
	FirstTime string
	LastTime  string
}

// TestOracle runs each sample file through the processor and compares the
// detection rows with the hand-derived oracle, aggregated as stats would.
// unseen.jsonl was written from the specification alone, by someone who had
// not seen this implementation.
func TestOracle(t *testing.T) {
	var oracle []oracleLine
	for _, l := range readLines(t, "expected.jsonl") {
		var o oracleLine
		require.NoError(t, json.Unmarshal([]byte(l), &o))
		oracle = append(oracle, o)
	}
	for _, file := range []string{"sample.jsonl", "unseen.jsonl"} {
		for _, sh := range shapes {
			t.Run(file+"/"+string(sh), func(t *testing.T) {
				want := map[string]*resultRow{}
				matchedLines := map[int]oracleLine{}
				for _, o := range oracle {
					if o.File != file {
						continue
					}
					matchedLines[o.Line] = o
					r, ok := want[o.key()]
					if !ok {
						want[o.key()] = &resultRow{Key: o.key(), Count: 1, FirstTime: o.Time, LastTime: o.Time}
						continue
					}
					r.Count++
					r.FirstTime = min(r.FirstTime, o.Time)
					r.LastTime = max(r.LastTime, o.Time)
				}
				require.NotEmpty(t, want)

				h := newHarness(t, testConfig())
				lines := readLines(t, file)
				require.NoError(t, h.p.ConsumeLogs(context.Background(), logsOf(t, lines, sh)))
				h.endWindow()

				var got []resultRow
				for _, lr := range detections(h.sink) {
					a := lr.Attributes().AsRaw()
					o := oracleLine{
						User: a["user"].(string), Dest: a["dest"].(string), Src: a["src"].(string),
						VendorAccount: a["vendor_account"].(string), VendorProduct: a["vendor_product"].(string),
						Signature: a["signature"].(string), SignatureID: a["signature_id"].(string),
					}
					got = append(got, resultRow{Key: o.key(), Count: a["count"].(int64), FirstTime: a["firstTime"].(string), LastTime: a["lastTime"].(string)})
				}
				var wantRows []resultRow
				for _, r := range want {
					wantRows = append(wantRows, *r)
				}
				sortRows(got)
				sortRows(wantRows)
				assert.Equal(t, wantRows, got)

				// Tagging: exactly the oracle's lines carry the row, with its user.
				passed := h.sink.AllLogs()[0].ResourceLogs().At(0).ScopeLogs().At(0).LogRecords()
				require.Equal(t, len(lines), passed.Len())
				for i := 0; i < passed.Len(); i++ {
					user, tagged := passed.At(i).Attributes().Get("user")
					o, match := matchedLines[i+1]
					require.Equal(t, match, tagged, "line %d tagged", i+1)
					if match {
						assert.Equal(t, o.User, user.Str(), "line %d user", i+1)
					}
				}
			})
		}
	}
}

func sortRows(rows []resultRow) {
	sort.Slice(rows, func(i, j int) bool { return rows[i].Key < rows[j].Key })
}
