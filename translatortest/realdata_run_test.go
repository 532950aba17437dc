package translatortest

import (
	"bytes"
	"context"
	"fmt"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/pdatatest/plogtest"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/processor/processortest"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/o365detect/o365detect/internal/output"
	"github.com/o365detect/o365detect/internal/record/recordtest"
	"github.com/o365detect/o365detect/internal/rule"
	"github.com/o365detect/o365detect/processor/o365detectprocessor"
)

// The processor's counters, by the names the collector exports them under
// (the generated assertions are internal to the processor's package).
const (
	metricInvalid = "otelcol_processor_o365_detect_records_invalid"
	metricMatched = "otelcol_processor_o365_detect_records_matched"
)

// realRun is what one batch gave: every batch the next consumer received
// (the pass-through first, then any detection records, emitted at
// shutdown), the counters, and what went wrong in the processor.
type realRun struct {
	out      []plog.Logs
	invalid  int64
	matched  int64
	failures []string
}

// runReal sends ld through a fresh o365_detect, built by its public factory
// with the defaults (passthrough: all, profile escu) and every rule on, and
// shuts it down. A
// fresh processor and telemetry per run ties each count to one record and
// shape. A panic is caught and reported, so that one bad record names
// itself instead of ending the run.
func runReal(t *testing.T, ld plog.Logs) realRun {
	t.Helper()
	ctx := context.Background()
	tel := componenttest.NewTelemetry()
	defer func() {
		if err := tel.Shutdown(ctx); err != nil {
			t.Error(err)
		}
	}()
	f := o365detectprocessor.NewFactory()
	set := processortest.NewNopSettings(f.Type())
	set.TelemetrySettings = tel.NewTelemetrySettings()
	sink := new(consumertest.LogsSink)
	cfg := f.CreateDefaultConfig().(*o365detectprocessor.Config)
	cfg.Rules = rule.Keys(rule.Catalogue)
	p, err := f.CreateLogs(ctx, set, cfg, sink)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Start(ctx, componenttest.NewNopHost()); err != nil {
		t.Fatal(err)
	}
	var res realRun
	guard := func(step string, call func(context.Context) error) {
		defer func() {
			if r := recover(); r != nil {
				res.failures = append(res.failures, fmt.Sprintf("the processor panicked in %s: %v\n%s", step, r, debug.Stack()))
			}
		}()
		if err := call(ctx); err != nil {
			res.failures = append(res.failures, fmt.Sprintf("%s returned %v", step, err))
		}
	}
	guard("ConsumeLogs", func(ctx context.Context) error { return p.ConsumeLogs(ctx, ld) })
	guard("Shutdown", p.Shutdown)
	res.out = sink.AllLogs()
	var rm metricdata.ResourceMetrics
	if err := tel.Reader.Collect(ctx, &rm); err != nil {
		t.Fatal(err)
	}
	res.invalid = sumOf(rm, metricInvalid)
	res.matched = sumOf(rm, metricMatched)
	return res
}

// sumOf is the counter's value; a counter never added to is not exported,
// and is 0.
func sumOf(rm metricdata.ResourceMetrics, name string) int64 {
	var n int64
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != name {
				continue
			}
			if sum, ok := m.Data.(metricdata.Sum[int64]); ok {
				for _, dp := range sum.DataPoints {
					n += dp.Value
				}
			}
		}
	}
	return n
}

// detectionCount is how many detection records the next consumer got.
func (r realRun) detectionCount() int {
	n := 0
	for _, ld := range r.out {
		for _, lr := range recordtest.LogRecords(ld) {
			if lr.EventName() == output.EventName {
				n++
			}
		}
	}
	return n
}

// checkUnchanged asserts that a record that is no cross-tenant change came
// out as it went in: one batch, equal to the input in every field and in
// field order (their protobuf encodings are equal), no detection, no
// match, and no invalid count for valid JSON.
func checkUnchanged(t *testing.T, where string, valid bool, want plog.Logs, res realRun) {
	t.Helper()
	for _, f := range res.failures {
		t.Errorf("%s: %s", where, f)
	}
	if valid && res.invalid != 0 {
		t.Errorf("%s: records_invalid counted %d for a record that is valid JSON", where, res.invalid)
	}
	if res.matched != 0 || res.detectionCount() != 0 {
		t.Errorf("%s: matched (records_matched %d, %d detection records): %s", where, res.matched, res.detectionCount(), tagsOf(res))
	}
	if len(res.out) == 0 {
		t.Errorf("%s: nothing passed through", where)
		return
	}
	if len(res.out) > 1 {
		t.Errorf("%s: the next consumer got %d batches, want only the 1 passed through", where, len(res.out))
	}
	if !sameLogs(want, res.out[0]) {
		diff := plogtest.CompareLogs(want, res.out[0])
		if diff == nil {
			diff = fmt.Errorf("their protobuf encodings differ")
		}
		t.Errorf("%s: the record did not pass through unchanged: %v", where, diff)
	}
}

func sameLogs(a, b plog.Logs) bool {
	var m plog.ProtoMarshaler
	ab, errA := m.MarshalLogs(a)
	bb, errB := m.MarshalLogs(b)
	return errA == nil && errB == nil && bytes.Equal(ab, bb)
}

// tagsOf renders the row attributes of the passed-through records, for a
// failure message.
func tagsOf(res realRun) string {
	var parts []string
	for _, ld := range res.out {
		for _, lr := range recordtest.LogRecords(ld) {
			if lr.EventName() == output.EventName {
				continue
			}
			for _, k := range []string{"user", "signature", "vendor_product"} {
				if v, ok := lr.Attributes().Get(k); ok {
					parts = append(parts, k+"="+v.AsString())
				}
			}
		}
	}
	return strings.Join(parts, " ")
}

// checkRecord runs rec in every shape it can take, then its cross-tenant
// Actor copies.
func checkRecord(t *testing.T, rec realRecord, n *tally) {
	t.Helper()
	for _, sh := range allShapes {
		if !sh.applies(rec) {
			continue
		}
		ld, why := sh.build(rec)
		if why != "" {
			n.skipped(sh.name+": "+why, rec.where)
			continue
		}
		n.ran(sh.name)
		want := copyOf(ld)
		checkUnchanged(t, rec.where+" ["+sh.name+"]", rec.valid, want, runReal(t, ld))
	}
	checkActorCopies(t, rec, n)
}
