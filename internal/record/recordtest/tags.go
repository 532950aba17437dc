package recordtest // import "github.com/o365detect/o365detect/internal/record/recordtest"

import (
	"fmt"

	"go.opentelemetry.io/collector/pdata/plog"
)

// LogRecords lists the log records of ld in order.
func LogRecords(ld plog.Logs) []plog.LogRecord {
	var out []plog.LogRecord
	for _, rl := range ld.ResourceLogs().All() {
		for _, sl := range rl.ScopeLogs().All() {
			for _, lr := range sl.LogRecords().All() {
				out = append(out, lr)
			}
		}
	}
	return out
}

// WithTags returns a copy of before with, on each record, the attributes
// the same record of tagged gained (tagged's records start without
// attributes), and how many records gained any: what the pass-through must
// be when every record is tagged as another path tags it and nothing else
// is touched. before and tagged must hold as many records.
func WithTags(before, tagged plog.Logs) (plog.Logs, int, error) {
	want := plog.NewLogs()
	before.CopyTo(want)
	w, tg := LogRecords(want), LogRecords(tagged)
	if len(w) != len(tg) {
		return want, 0, fmt.Errorf("%d records before, %d tagged", len(w), len(tg))
	}
	n := 0
	for i := range w {
		if tg[i].Attributes().Len() > 0 {
			n++
		}
		for k, v := range tg[i].Attributes().All() {
			v.CopyTo(w[i].Attributes().PutEmpty(k))
		}
	}
	return want, n, nil
}
