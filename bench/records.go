// Package bench measures the o365_detect processor side by side with the
// physical floor (a plain substring scan), a full encoding/json decode and the
// best OTTL equivalent built from contrib components at the same collector
// release (transform + filter v0.158.0), plus a whole-collector comparison.
//
// It is a separate Go module so that the transform and filter processors
// never enter the root module. `bash bench/run.sh` (what `make bench` calls)
// prints the one table; `go test -bench . -benchmem` in this folder runs the
// same benchmarks the usual way.
package bench // import "github.com/o365detect/o365detect/bench"

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/o365detect/o365detect/internal/repotest"
)

// SampleRel is the sample file, relative to the repository root.
const SampleRel = "testdata/o365/sample.jsonl"

// Observed is the ObservedTimestamp of every benchmark record.
var Observed = time.Date(2025, 3, 7, 9, 0, 0, 0, time.UTC)

// Records are the sample lines, split by the processor's own verdict.
type Records struct {
	All         []string
	Matching    []string
	NonMatching []string
}

// LoadSample reads sample.jsonl under the repository root and splits it into
// the lines o365_detect tags and those no rule can match: no cross-tenant
// operation at all, the bulk of a real stream. The sample's near misses (a
// cross-tenant operation no rule reports) belong to neither: every rule's
// prefilter lets them through to be read in full.
func LoadSample(root string) (*Records, error) {
	lines, err := repotest.ReadLines(filepath.Join(root, SampleRel))
	if err != nil {
		return nil, err
	}
	r := &Records{All: lines}
	tagged, err := TaggedByOurs(lines)
	if err != nil {
		return nil, err
	}
	for i, l := range lines {
		switch {
		case tagged[i]:
			r.Matching = append(r.Matching, l)
		case !crossTenant(l):
			r.NonMatching = append(r.NonMatching, l)
		}
	}
	if len(r.Matching) == 0 || len(r.NonMatching) == 0 {
		return nil, fmt.Errorf("%s: %d matching, %d non-matching records; expected both", SampleRel, len(r.Matching), len(r.NonMatching))
	}
	return r, nil
}

// Realistic returns a stream of every lines in which one record matches:
// the non-matching lines in turn, then one matching line. Cross-tenant
// access changes are rare in real audit traffic, far rarer than the 8 in 60
// of the sample, which is written to cover the detection, not to mimic a
// tenant's mix.
func (r *Records) Realistic(every int) []string {
	lines := make([]string, 0, every)
	for i := 0; i < every-1; i++ {
		lines = append(lines, r.NonMatching[i%len(r.NonMatching)])
	}
	return append(lines, r.Matching[0])
}

// TaggedByOurs runs the lines through o365_detect (passthrough all) and
// reports which ones it tagged.
func TaggedByOurs(lines []string) ([]bool, error) {
	lrs, err := runOurs(lines)
	if err != nil {
		return nil, err
	}
	tagged := make([]bool, len(lines))
	for i := range tagged {
		_, tagged[i] = lrs.At(i).Attributes().Get("security_rule.uuid")
	}
	return tagged, nil
}

// runOurs runs the lines through o365_detect (passthrough all) as one batch
// and returns the records it forwarded, one per line.
func runOurs(lines []string) (plog.LogRecordSlice, error) {
	sink := new(consumertest.LogsSink)
	p, err := NewOurs("all", sink)
	if err != nil {
		return plog.LogRecordSlice{}, err
	}
	defer p.Shutdown(context.Background())
	if err := p.ConsumeLogs(context.Background(), Batch(lines)); err != nil {
		return plog.LogRecordSlice{}, err
	}
	all := sink.AllLogs()
	if len(all) == 0 {
		return plog.LogRecordSlice{}, fmt.Errorf("o365_detect forwarded nothing")
	}
	lrs := all[0].ResourceLogs().At(0).ScopeLogs().At(0).LogRecords()
	if lrs.Len() != len(lines) {
		return plog.LogRecordSlice{}, fmt.Errorf("o365_detect forwarded %d of %d records", lrs.Len(), len(lines))
	}
	return lrs, nil
}

// Batch builds one batch the way filelog delivers lines without a parser:
// one resource, one scope, each line a string body with the log.file.name
// attribute and an ObservedTimestamp.
func Batch(lines []string) plog.Logs {
	ld := plog.NewLogs()
	lrs := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords()
	lrs.EnsureCapacity(len(lines))
	for _, l := range lines {
		lr := lrs.AppendEmpty()
		lr.SetObservedTimestamp(pcommon.NewTimestampFromTime(Observed))
		lr.Attributes().PutStr("log.file.name", "audit.jsonl")
		lr.Body().SetStr(l)
	}
	return ld
}

// crossTenant reports whether a record mentions a cross-tenant operation,
// which every rule's activity names.
func crossTenant(line string) bool {
	return strings.Contains(strings.ToLower(line), "cross-tenant")
}
