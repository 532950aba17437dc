package o365detectprocessor

import (
	"context"
	"testing"

	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/o365detect/o365detect/internal/output"
	"github.com/o365detect/o365detect/internal/repotest"
	"github.com/o365detect/o365detect/processor/o365detectprocessor/internal/metadata"
)

// FuzzConsumeLogs feeds arbitrary bodies, in each input shape the bytes can
// take, through ConsumeLogs and the flush. It must never panic, never lose or
// reorder an input record, and never change a body.
func FuzzConsumeLogs(f *testing.F) {
	for _, s := range readLines(f, "sample.jsonl") {
		f.Add(s, uint8(0))
	}
	for _, name := range []string{"eventhub.jsonl", "graph.jsonl"} {
		for _, s := range repotest.Lines(f, "entra", name) {
			f.Add(s, uint8(0))
		}
	}
	// The Event Hub receiver's translations, as OTLP JSON (mode 2).
	for _, name := range []string{"eventhub.jsonl", "eventhub_other.jsonl"} {
		for _, s := range repotest.Lines(f, "entra", name) {
			for _, tr := range translations {
				ld, err := tr.build([]byte(s))
				if err != nil {
					f.Fatal(err)
				}
				otlp, err := (&plog.JSONMarshaler{}).MarshalLogs(ld)
				if err != nil {
					f.Fatal(err)
				}
				f.Add(string(otlp), uint8(2))
			}
		}
	}
	f.Add(`{"Workload":"AzureActiveDirectory","Operation":"Add a partner to cross-tenant access setting.","Actor":[{"ID":"a"},{"ID":"User"}]}`, uint8(1))
	f.Add(`{"Workload":"AzureActiveDirectory","Operation":"Delete partner specific cross\u002dtenant access setting.","Actor":{"ID":1}}`, uint8(2))
	f.Add(`{"resourceLogs":[]}`, uint8(3))
	f.Add(`{"records":[{"resourceId":"/tenants/ȺȺȺ","properties":{"activityDisplayName":"Add a partner to cross-tenant access setting"}}]}`, uint8(0))
	f.Fuzz(func(t *testing.T, body string, mode uint8) {
		cfg := testConfig()
		cfg.MaxGroups = 2
		sink := new(consumertest.LogsSink)
		p, err := newProcessor(processortest.NewNopSettings(metadata.Type), cfg, sink)
		if err != nil {
			t.Fatal(err)
		}
		ld := plog.NewLogs()
		lrs := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords()
		for i := range 3 {
			lr := lrs.AppendEmpty()
			switch (int(mode) + i) % 4 {
			case 0:
				lr.Body().SetStr(body)
			case 1:
				lr.Body().SetEmptyBytes().FromRaw([]byte(body))
			case 2:
				// OTLP JSON lets the fuzzer build arbitrary maps and attributes.
				if parsed, err := (&plog.JSONUnmarshaler{}).UnmarshalLogs([]byte(body)); err == nil && parsed.LogRecordCount() > 0 {
					parsed.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).CopyTo(lr)
				}
			case 3:
				lr.Attributes().PutStr("Workload", "AzureActiveDirectory")
				lr.Attributes().PutStr("Operation", body)
			}
		}
		want := plog.NewLogs()
		ld.CopyTo(want)
		if err := p.ConsumeLogs(context.Background(), ld); err != nil {
			t.Fatal(err)
		}
		if err := p.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
		// Detection records can reach the sink before the input batch:
		// max_groups 2 makes a body holding several matches emit early.
		var got []plog.LogRecord
		for _, ld := range sink.AllLogs() {
			for _, rl := range ld.ResourceLogs().All() {
				for _, sl := range rl.ScopeLogs().All() {
					for _, lr := range sl.LogRecords().All() {
						if lr.EventName() != output.EventName {
							got = append(got, lr)
						}
					}
				}
			}
		}
		wantLRs := want.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords()
		if len(got) != wantLRs.Len() {
			t.Fatalf("records: got %d, want %d", len(got), wantLRs.Len())
		}
		for i, lr := range got {
			if !lr.Body().Equal(wantLRs.At(i).Body()) {
				t.Fatalf("record %d: body changed", i)
			}
		}
	})
}
