package o365detectprocessor

import (
	"context"
	"encoding/json"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processortest"
	"go.opentelemetry.io/otel/attribute"

	"github.com/o365detect/o365detect/internal/output"
	"github.com/o365detect/o365detect/internal/repotest"
	"github.com/o365detect/o365detect/processor/o365detectprocessor/internal/metadata"
)

// escuRule is the rule attribute of ESCU's counts.
var escuRule = attribute.NewSet(attribute.String("rule", "escu"))

// testNow is the fixed processing time of the harness.
var testNow = time.Date(2025, 3, 7, 9, 0, 0, 0, time.UTC)

// harness runs a processor whose clock and window ticker the test controls.
type harness struct {
	p     *detectProcessor
	sink  *consumertest.LogsSink
	tick  chan time.Time
	clock *fakeClock
}

// fakeClock is a processing-time clock that tests move while the window
// goroutine reads it.
type fakeClock struct{ ns atomic.Int64 }

func newFakeClock(t time.Time) *fakeClock {
	c := new(fakeClock)
	c.set(t)
	return c
}

func (c *fakeClock) now() time.Time  { return time.Unix(0, c.ns.Load()).UTC() }
func (c *fakeClock) set(t time.Time) { c.ns.Store(t.UnixNano()) }

func newHarness(t testing.TB, cfg *Config) *harness {
	return newHarnessWith(t, cfg, processortest.NewNopSettings(metadata.Type), nil)
}

// newHarnessWith builds a harness; next, when not nil, replaces the sink as
// the processor's next consumer (the sink still records nothing then).
func newHarnessWith(t testing.TB, cfg *Config, set processor.Settings, next consumer.Logs) *harness {
	h := &harness{sink: new(consumertest.LogsSink), tick: make(chan time.Time), clock: newFakeClock(testNow)}
	if next == nil {
		next = h.sink
	}
	p, err := newProcessor(set, cfg, next)
	require.NoError(t, err)
	p.now = h.clock.now
	p.newTicker = func(time.Duration) (<-chan time.Time, func()) { return h.tick, func() {} }
	require.NoError(t, p.Start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, p.Shutdown(context.Background())) })
	h.p = p
	return h
}

// endWindow ends a window as a tick does, but in the test's goroutine, so
// that nothing the test does next can race the window end.
// TestTickerEndsWindows covers the ticker itself.
func (h *harness) endWindow() {
	_ = h.p.endWindow(context.Background())
}

func testConfig() *Config {
	return createDefaultConfig().(*Config)
}

// readLines reads a JSON-lines file of O365 records from the repository's
// testdata.
func readLines(t testing.TB, name string) []string {
	return repotest.Lines(t, "o365", name)
}

// shape names the three documented ways a record reaches the processor.
type shape string

const (
	shapeString     shape = "string body"
	shapeMap        shape = "map body"
	shapeAttributes shape = "attributes"
)

var shapes = []shape{shapeString, shapeMap, shapeAttributes}

// logsOf builds one batch the way filelog would deliver the lines: one
// resource, the file name attribute, and the record in the given shape.
func logsOf(t testing.TB, lines []string, sh shape) plog.Logs {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("service.name", "o365-audit")
	lrs := rl.ScopeLogs().AppendEmpty().LogRecords()
	for _, line := range lines {
		lr := lrs.AppendEmpty()
		lr.SetObservedTimestamp(pcommon.NewTimestampFromTime(testNow))
		lr.Attributes().PutStr("log.file.name", "audit.jsonl")
		switch sh {
		case shapeString:
			lr.Body().SetStr(line)
		case shapeMap, shapeAttributes:
			var raw map[string]any
			require.NoError(t, json.Unmarshal([]byte(line), &raw))
			target := lr.Body().SetEmptyMap()
			if sh == shapeAttributes {
				lr.Body().SetStr("")
				target = lr.Attributes()
			}
			for k, v := range raw {
				require.NoError(t, target.PutEmpty(k).FromRaw(v))
			}
		}
	}
	return ld
}

// detections returns the detection records the sink received, in order.
func detections(sink *consumertest.LogsSink) []plog.LogRecord {
	var out []plog.LogRecord
	for _, ld := range sink.AllLogs() {
		for _, rl := range ld.ResourceLogs().All() {
			for _, sl := range rl.ScopeLogs().All() {
				for _, lr := range sl.LogRecords().All() {
					if lr.EventName() == output.EventName {
						out = append(out, lr)
					}
				}
			}
		}
	}
	return out
}

// detectionLogs returns only the batches that carry detection records.
func detectionLogs(sink *consumertest.LogsSink) []plog.Logs {
	var out []plog.Logs
	for _, ld := range sink.AllLogs() {
		lr := ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords()
		if lr.Len() > 0 && lr.At(0).EventName() == output.EventName {
			out = append(out, ld)
		}
	}
	return out
}

// passedThrough counts the input records (not detections) the sink received.
func passedThrough(sink *consumertest.LogsSink) int {
	return sink.LogRecordCount() - len(detections(sink))
}

func pcommonTS(t time.Time) pcommon.Timestamp { return pcommon.NewTimestampFromTime(t) }
