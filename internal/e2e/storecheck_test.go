package e2e

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
)

// hecTimeSlack bounds the difference between a record's time and the one
// the store keeps of it over HEC, which carries time as float seconds.
const hecTimeSlack = time.Millisecond

// checkStoredAsSent compares the store's entries with the records the
// collector sent, as a multiset: every sent record must be stored once,
// with exactly the fields as (the intake's mapping) gives, at its time.
func checkStoredAsSent(t *testing.T, stored []storedRecord, sent []outRecord, as func(outRecord) expectedEntry, slack time.Duration) {
	t.Helper()
	if len(sent) == 0 {
		t.Fatal("the collector sent nothing")
	}
	want := map[string][]time.Time{}
	wantFields := map[string]storedRecord{}
	for _, r := range sent {
		e := as(r)
		k := canonical(e.fields)
		want[k] = append(want[k], e.time)
		wantFields[k] = e.fields
	}
	got := map[string][]time.Time{}
	for _, r := range stored {
		ts, err := time.Parse(time.RFC3339Nano, r[vlTime])
		if err != nil {
			t.Errorf("stored entry with _time %q: %v", r[vlTime], err)
		}
		k := canonical(storedFields(r))
		got[k] = append(got[k], ts)
	}
	for k, ws := range want {
		gs := got[k]
		if len(gs) != len(ws) {
			t.Errorf("sent %d times, stored %d times: %s%s", len(ws), len(gs), brief(wantFields[k]), nearest(wantFields[k], stored))
			continue
		}
		slices.SortFunc(ws, time.Time.Compare)
		slices.SortFunc(gs, time.Time.Compare)
		for i := range ws {
			if d := gs[i].Sub(ws[i]).Abs(); d > slack {
				t.Errorf("stored at %s, sent with time %s: %s", gs[i].Format(time.RFC3339Nano), ws[i].Format(time.RFC3339Nano), brief(wantFields[k]))
			}
		}
	}
	for _, r := range stored {
		if _, ok := want[canonical(storedFields(r))]; !ok {
			t.Errorf("stored but never sent: %s", brief(storedFields(r)))
		}
	}
}

// brief names an entry by its message.
func brief(r storedRecord) string {
	return fmt.Sprintf("entry with _msg %.100q", r[vlMsg])
}

// nearest explains a sent record the store lacks: the differences from the
// stored entry with the same message that is closest to it.
func nearest(want storedRecord, stored []storedRecord) string {
	best := ""
	for _, r := range stored {
		if r[vlMsg] != want[vlMsg] {
			continue
		}
		if d := fieldDiff(want, storedFields(r)); best == "" || len(d) < len(best) {
			best = d
		}
	}
	if best == "" {
		return "; no stored entry has this _msg"
	}
	return "; the nearest stored entry differs in:\n" + best
}

func fieldDiff(want, got storedRecord) string {
	var lines []string
	for k, w := range want {
		g, ok := got[k]
		switch {
		case !ok:
			lines = append(lines, fmt.Sprintf("  %s: missing, sent %q", k, w))
		case g != w:
			lines = append(lines, fmt.Sprintf("  %s: stored %q, sent %q", k, g, w))
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok {
			lines = append(lines, fmt.Sprintf("  %s: stored %q, never sent", k, g))
		}
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// storedView reads the collector's attributes back from stored entries:
// under their own names over OTLP, as fields.<name> over HEC.
type storedView struct {
	hec bool
}

func (v storedView) isDetection(r storedRecord) bool {
	if v.hec {
		return r["fields.otel.log.name"] == detectionEventName
	}
	return r["event_name"] == detectionEventName
}

func (v storedView) split(stored []storedRecord) (detections, inputs []storedRecord) {
	for _, r := range stored {
		if v.isDetection(r) {
			detections = append(detections, r)
		} else {
			inputs = append(inputs, r)
		}
	}
	return detections, inputs
}

// record is an entry as a log record: the message as body, the attributes
// as strings, which is all a store keeps of them.
func (v storedView) record(r storedRecord) outRecord {
	lr := plog.NewLogRecord()
	lr.Body().SetStr(r[vlMsg])
	for k, val := range r {
		name := k
		if v.hec {
			var ok bool
			if name, ok = strings.CutPrefix(k, "fields."); !ok {
				continue
			}
		}
		lr.Attributes().PutStr(name, val)
	}
	return outRecord{LogRecord: lr, Resource: pcommon.NewResource(), Scope: pcommon.NewInstrumentationScope()}
}

// storedInt reads a number the store keeps as its decimal text.
func storedInt(v pcommon.Value) (int64, error) {
	return strconv.ParseInt(v.AsString(), 10, 64)
}

// checkInputsOnce checks that the input records stored are exactly the
// lines the config forwards, each as often as the sample holds it.
func checkInputsOnce(t *testing.T, inputs []storedRecord, want []string) {
	t.Helper()
	count := map[string]int{}
	for _, l := range want {
		count[l]++
	}
	for _, r := range inputs {
		count[r[vlMsg]]--
	}
	for l, n := range count {
		switch {
		case n > 0:
			t.Errorf("input record stored %d times too few: %.120s", n, l)
		case n < 0:
			t.Errorf("input record stored %d times too many: %.120s", -n, l)
		}
	}
	if len(inputs) != len(want) {
		t.Errorf("%d input records stored, want %d", len(inputs), len(want))
	}
}

// checkTaggedRows checks each stored input record against the oracle: a
// matching line carries its row in the profile's names, any other line no
// tag at all.
func checkTaggedRows(t *testing.T, view storedView, inputs []storedRecord, check profileCheck) {
	t.Helper()
	lines := readLines(t, "sample.jsonl")
	byText := map[string]expectedLine{}
	for _, e := range expectedLines(t, "sample.jsonl") {
		byText[lines[e.Line-1]] = e
	}
	matched := 0
	for _, r := range inputs {
		rec := view.record(r)
		if e, ok := byText[r[vlMsg]]; ok {
			matched++
			check.tagged(t, fmt.Sprintf("sample line %d", e.Line), rec, e)
		} else {
			check.untagged(t, fmt.Sprintf("input record %.60q", r[vlMsg]), rec)
		}
	}
	if matched == 0 {
		t.Error("no stored input record matches the rule")
	}
}

// checkHECPlacement checks where HEC put the events: detections in the
// splunk profile's risk index, input records where the exporter sends them.
func checkHECPlacement(t *testing.T, exporter hecMeta, detections, inputs []storedRecord) {
	t.Helper()
	check := func(what string, rs []storedRecord, want hecMeta) {
		for _, r := range rs {
			got := hecMeta{Index: r["index"], Source: r["source"], Sourcetype: r["sourcetype"]}
			if got != want {
				t.Errorf("%s %.60q: index/source/sourcetype %+v, want %+v", what, r[vlMsg], got, want)
			}
		}
	}
	if len(detections) == 0 {
		t.Error("no detection stored")
	}
	check("detection", detections, hecMeta{Index: esRiskIndex, Source: esSearchName, Sourcetype: esRiskSourcetype})
	check("input record", inputs, exporter)
}
