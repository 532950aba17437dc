package o365detectprocessor

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/processor/processortest"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/o365detect/o365detect/processor/o365detectprocessor/internal/metadata"
	"github.com/o365detect/o365detect/processor/o365detectprocessor/internal/metadatatest"
)

// match returns a matching record whose actor is user, with record id id.
func match(user, id, creationTime string) string {
	return fmt.Sprintf(`{"CreationTime":%q,"Id":%q,"Operation":"Add a partner to cross-tenant access setting.",`+
		`"OrganizationId":"org-1","Workload":"AzureActiveDirectory","ActorIpAddress":"203.0.113.10",`+
		`"Actor":[{"ID":%q,"Type":5},{"ID":"User","Type":2}]}`, creationTime, id, user)
}

const nonMatch = `{"CreationTime":"2025-03-04T10:00:00","Id":"x","Operation":"MailItemsAccessed","Workload":"Exchange","UserId":"a@contoso.com"}`

func consume(t *testing.T, h *harness, lines ...string) {
	t.Helper()
	require.NoError(t, h.p.ConsumeLogs(context.Background(), logsOf(t, lines, shapeString)))
}

func TestWindowEmission(t *testing.T) {
	h := newHarness(t, testConfig())
	consume(t, h, match("alice@contoso.com", "1", "2025-03-04T10:00:05"), nonMatch,
		match("alice@contoso.com", "1", "2025-03-04T09:59:58.900Z"), match("alice@contoso.com", "1", "2025-03-04T12:00:01+02:00"))
	assert.Empty(t, detections(h.sink), "nothing is emitted before the window ends")
	assert.Equal(t, 4, passedThrough(h.sink))

	h.endWindow()
	dets := detections(h.sink)
	require.Len(t, dets, 1, "the three deliveries of one record form one group")
	a := dets[0].Attributes().AsRaw()
	assert.Equal(t, int64(3), a["count"], "every delivery counts, as in Splunk")
	assert.Equal(t, "2025-03-04T09:59:58", a["firstTime"])
	assert.Equal(t, "2025-03-04T10:00:05", a["lastTime"])

	// The next window starts empty.
	consume(t, h, match("bob@contoso.com", "2", "2025-03-04T11:00:00"))
	h.endWindow()
	dets = detections(h.sink)
	require.Len(t, dets, 2)
	assert.Equal(t, "bob@contoso.com", dets[1].Attributes().AsRaw()["user"])
	assert.Equal(t, int64(1), dets[1].Attributes().AsRaw()["count"])
}

func TestEventTimeFallbacks(t *testing.T) {
	ts := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name     string
		creation string
		set      func(lr plog.LogRecord)
		want     string
	}{
		{"CreationTime wins", "2025-03-04T10:00:00", func(lr plog.LogRecord) { lr.SetTimestamp(pcommonTS(ts)) }, "2025-03-04T10:00:00"},
		{"Timestamp when CreationTime is unparsable", "yesterday", func(lr plog.LogRecord) { lr.SetTimestamp(pcommonTS(ts)) }, "2025-01-02T03:04:05"},
		{"ObservedTimestamp next", "", func(lr plog.LogRecord) { lr.SetObservedTimestamp(pcommonTS(ts.Add(time.Hour))) }, "2025-01-02T04:04:05"},
		{"arrival time last", "", func(lr plog.LogRecord) { lr.SetObservedTimestamp(0) }, "2025-03-07T09:00:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, testConfig())
			ld := logsOf(t, []string{match("alice@contoso.com", "1", tt.creation)}, shapeString)
			tt.set(ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0))
			require.NoError(t, h.p.ConsumeLogs(context.Background(), ld))
			h.endWindow()
			dets := detections(h.sink)
			require.Len(t, dets, 1)
			assert.Equal(t, tt.want, dets[0].Attributes().AsRaw()["firstTime"])
		})
	}
}

func TestFlushOnShutdown(t *testing.T) {
	sink := new(consumertest.LogsSink)
	p, err := newProcessor(processortest.NewNopSettings(metadata.Type), testConfig(), sink)
	require.NoError(t, err)
	require.NoError(t, p.Start(context.Background(), componenttest.NewNopHost()))
	require.NoError(t, p.ConsumeLogs(context.Background(), logsOf(t, []string{match("alice@contoso.com", "1", "2025-03-04T10:00:00")}, shapeString)))
	require.Empty(t, detections(sink))

	ctx, cancel := context.WithCancel(context.Background())
	cancel() // a cancelled shutdown context must not lose the flush
	require.NoError(t, p.Shutdown(ctx))
	require.Len(t, detections(sink), 1)
	require.NoError(t, p.Shutdown(context.Background()), "a second Shutdown is a no-op")
	assert.Len(t, detections(sink), 1)
}

func TestShutdownWithoutStart(t *testing.T) {
	p, err := newProcessor(processortest.NewNopSettings(metadata.Type), testConfig(), consumertest.NewNop())
	require.NoError(t, err)
	require.NoError(t, p.Shutdown(context.Background()))
	require.NoError(t, p.Shutdown(context.Background()))
}

func TestMaxGroupsEmitsEarly(t *testing.T) {
	cfg := testConfig()
	cfg.MaxGroups = 3
	h := newHarness(t, cfg)
	for i := range 7 {
		consume(t, h, match(fmt.Sprintf("user%d@contoso.com", i), fmt.Sprint(i), "2025-03-04T10:00:00"))
	}
	assert.Len(t, detections(h.sink), 6, "two early emissions of three groups each")
	h.endWindow()
	dets := detections(h.sink)
	require.Len(t, dets, 7, "no detection is dropped")
	seen := map[string]bool{}
	for _, d := range dets {
		seen[d.Attributes().AsRaw()["user"].(string)] = true
	}
	assert.Len(t, seen, 7)
}

func TestMaxGroupsWithinOneBatch(t *testing.T) {
	cfg := testConfig()
	cfg.MaxGroups = 3
	h := newHarness(t, cfg)
	var lines []string
	for i := range 7 {
		lines = append(lines, match(fmt.Sprintf("user%d@contoso.com", i), fmt.Sprint(i), "2025-03-04T10:00:00"))
	}
	consume(t, h, lines...)
	assert.Len(t, detections(h.sink), 6, "each time the open groups reach max_groups they are emitted, mid-batch too")
	assert.Equal(t, 1, h.p.engine.OpenGroups())
	h.endWindow()
	assert.Len(t, detections(h.sink), 7)
}

func TestAllowlist(t *testing.T) {
	cfg := testConfig()
	cfg.Allowlist = []AllowlistEntry{
		{User: "ALICE@contoso.com", Reason: "approved"},
		{User: "bob@contoso.com", Expires: testNow.Add(-time.Hour)},
		{User: "carol@contoso.com", Expires: testNow.Add(time.Hour)},
	}
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
	set := metadatatest.NewSettings(tel)
	core, logs := observer.New(zap.DebugLevel)
	set.Logger = zap.New(core)
	h := newHarnessWith(t, cfg, set, nil)

	alice := match("alice@contoso.com", "1", "2025-03-04T10:00:00")
	consume(t, h, alice, match("bob@contoso.com", "2", "2025-03-04T10:00:00"), match("carol@contoso.com", "3", "2025-03-04T10:00:00"))
	h.endWindow()

	dets := detections(h.sink)
	require.Len(t, dets, 1, "only bob, whose entry has expired, is detected")
	assert.Equal(t, "bob@contoso.com", dets[0].Attributes().AsRaw()["user"])

	passed := h.sink.AllLogs()[0].ResourceLogs().At(0).ScopeLogs().At(0).LogRecords()
	require.Equal(t, 3, passed.Len())
	assert.Equal(t, alice, passed.At(0).Body().Str())
	assert.Equal(t, 1, passed.At(0).Attributes().Len(), "an allowlisted match is not tagged")
	_, tagged := passed.At(1).Attributes().Get("user")
	assert.True(t, tagged)

	metadatatest.AssertEqualProcessorO365DetectRecordsAllowlisted(t, tel, []metricdata.DataPoint[int64]{{Value: 2, Attributes: escuRule}}, metricdatatest.IgnoreTimestamp())
	metadatatest.AssertEqualProcessorO365DetectRecordsMatched(t, tel, []metricdata.DataPoint[int64]{{Value: 1, Attributes: escuRule}}, metricdatatest.IgnoreTimestamp())

	var allowed []map[string]any
	for _, e := range logs.FilterMessageSnippet("allowlisted").All() {
		assert.Equal(t, zap.DebugLevel, e.Level)
		allowed = append(allowed, e.ContextMap())
	}
	actor := func(user string) []any { return []any{user, "User"} }
	assert.Equal(t, []map[string]any{
		{"rule": "escu", "user": "alice@contoso.com", "partner_tenant": "", "app_ids": actor("alice@contoso.com"), "reason": "approved"},
		{"rule": "escu", "user": "carol@contoso.com", "partner_tenant": "", "app_ids": actor("carol@contoso.com"), "reason": ""},
	}, allowed, "each allowlisted match is logged with its entry's reason")
	expired := logs.FilterMessageSnippet("expired").All()
	require.Len(t, expired, 1)
	assert.Equal(t, "bob@contoso.com", expired[0].ContextMap()["user"])
}

func TestPassthroughModes(t *testing.T) {
	lines := []string{nonMatch, match("alice@contoso.com", "1", "2025-03-04T10:00:00"), "plain text", nonMatch}
	tests := []struct {
		mode       Passthrough
		wantPassed int
	}{
		{PassthroughAll, 4},
		{PassthroughMatched, 1},
		{PassthroughNone, 0},
	}
	for _, tt := range tests {
		t.Run(string(tt.mode), func(t *testing.T) {
			cfg := testConfig()
			cfg.Passthrough = tt.mode
			h := newHarness(t, cfg)
			consume(t, h, lines...)
			assert.Equal(t, tt.wantPassed, passedThrough(h.sink))
			if tt.mode == PassthroughMatched {
				lr := h.sink.AllLogs()[0].ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0)
				assert.Equal(t, lines[1], lr.Body().Str())
			}
			if tt.wantPassed == 0 {
				assert.Empty(t, h.sink.AllLogs(), "an emptied batch is not sent on")
			}
			h.endWindow()
			assert.Len(t, detections(h.sink), 1, "detections are emitted in every mode")
		})
	}
}

func TestNonMatchingRecordsUntouched(t *testing.T) {
	inputs := []string{nonMatch, "", "plain text", `[1,2]`, `{"Workload":"AzureActiveDirectory"`, `{"Workload":"AzureActiveDirectory","Operation":"Update a partner cross-tenant access setting."}`}
	h := newHarness(t, testConfig())
	in := logsOf(t, inputs, shapeString)
	want := plog.NewLogs()
	in.CopyTo(want)
	require.NoError(t, h.p.ConsumeLogs(context.Background(), in))
	require.Len(t, h.sink.AllLogs(), 1)
	assert.Equal(t, want, h.sink.AllLogs()[0])
}

func TestTelemetry(t *testing.T) {
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
	h := newHarnessWith(t, testConfig(), metadatatest.NewSettings(tel), nil)

	invalid := `{"Workload":"AzureActiveDirectory","Operation":"Add a partner to cross-tenant access setting.",`
	consume(t, h, match("a@contoso.com", "1", "2025-03-04T10:00:00"), match("b@contoso.com", "2", "2025-03-04T10:00:00"),
		match("a@contoso.com", "1", "2025-03-04T10:00:00"), invalid, nonMatch)

	ignore := metricdatatest.IgnoreTimestamp()
	metadatatest.AssertEqualProcessorO365DetectRecordsMatched(t, tel, []metricdata.DataPoint[int64]{{Value: 3, Attributes: escuRule}}, ignore)
	metadatatest.AssertEqualProcessorO365DetectRecordsInvalid(t, tel, []metricdata.DataPoint[int64]{{Value: 1}}, ignore)
	metadatatest.AssertEqualProcessorO365DetectGroupsOpen(t, tel, []metricdata.DataPoint[int64]{{Value: 2}}, ignore)

	h.endWindow()
	metadatatest.AssertEqualProcessorO365DetectDetectionsEmitted(t, tel, []metricdata.DataPoint[int64]{{Value: 2, Attributes: escuRule}}, ignore)
	metadatatest.AssertEqualProcessorO365DetectGroupsOpen(t, tel, []metricdata.DataPoint[int64]{{Value: 0}}, ignore)
}

// errConsumer refuses every batch with err, and records what it was offered.
type errConsumer struct {
	mu      sync.Mutex
	err     error
	offered []plog.Logs
}

func (c *errConsumer) Capabilities() consumer.Capabilities { return consumer.Capabilities{} }
func (c *errConsumer) ConsumeLogs(_ context.Context, ld plog.Logs) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offered = append(c.offered, ld)
	return c.err
}

func (c *errConsumer) setErr(err error) {
	c.mu.Lock()
	c.err = err
	c.mu.Unlock()
}

func TestNextConsumerErrorIsReturned(t *testing.T) {
	boom := errors.New("exporter queue is full")
	next := &errConsumer{err: boom}
	h := newHarnessWith(t, testConfig(), processortest.NewNopSettings(metadata.Type), next)
	err := h.p.ConsumeLogs(context.Background(), logsOf(t, []string{nonMatch}, shapeString))
	assert.ErrorIs(t, err, boom)
	next.setErr(nil)
}

func TestDetectionsRetriedAfterRefusal(t *testing.T) {
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
	next := &errConsumer{err: errors.New("backend down")}
	cfg := testConfig()
	cfg.Passthrough = PassthroughNone
	h := newHarnessWith(t, cfg, metadatatest.NewSettings(tel), next)

	consume(t, h, match("a@contoso.com", "1", "2025-03-04T10:00:00"))
	h.endWindow() // refused: kept for the next window
	consume(t, h, match("a@contoso.com", "1", "2025-03-04T10:05:00"))
	next.setErr(nil)
	h.endWindow()

	last := next.offered[len(next.offered)-1]
	require.Equal(t, 1, last.LogRecordCount())
	a := last.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Attributes().AsRaw()
	assert.Equal(t, int64(2), a["count"], "the retried group absorbed the next window's record")
	assert.Equal(t, "2025-03-04T10:00:00", a["firstTime"])
	assert.Equal(t, "2025-03-04T10:05:00", a["lastTime"])
	metadatatest.AssertEqualProcessorO365DetectDetectionsEmitted(t, tel, []metricdata.DataPoint[int64]{{Value: 1, Attributes: escuRule}}, metricdatatest.IgnoreTimestamp())
}

func TestPermanentRefusalIsCountedNotRetried(t *testing.T) {
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
	next := &errConsumer{err: consumererror.NewPermanent(errors.New("bad request"))}
	cfg := testConfig()
	cfg.Passthrough = PassthroughNone
	h := newHarnessWith(t, cfg, metadatatest.NewSettings(tel), next)

	consume(t, h, match("a@contoso.com", "1", "2025-03-04T10:00:00"))
	h.endWindow()
	h.endWindow()
	assert.Len(t, next.offered, 1, "a permanent error is not retried")
	metadatatest.AssertEqualProcessorO365DetectDetectionsDropped(t, tel, []metricdata.DataPoint[int64]{{Value: 1, Attributes: escuRule}}, metricdatatest.IgnoreTimestamp())
	next.setErr(nil)
}

func TestRetryBufferIsBounded(t *testing.T) {
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
	next := &errConsumer{err: errors.New("backend down")}
	cfg := testConfig()
	cfg.Passthrough = PassthroughNone
	cfg.MaxGroups = 4
	h := newHarnessWith(t, cfg, metadatatest.NewSettings(tel), next)

	for i := range 10 {
		consume(t, h, match(fmt.Sprintf("u%d@contoso.com", i), fmt.Sprint(i), "2025-03-04T10:00:00"))
	}
	open := h.p.engine.OpenGroups()
	assert.LessOrEqual(t, open, cfg.MaxGroups)
	var dropped int64
	m, err := tel.GetMetric("otelcol_processor_o365_detect_detections_dropped")
	require.NoError(t, err)
	for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
		dropped += dp.Value
	}
	assert.Equal(t, int64(10), dropped+int64(open), "every group is either kept for retry or counted as dropped")
	next.setErr(nil)
}

func TestConcurrentConsume(t *testing.T) {
	h := newHarness(t, testConfig())
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 50 {
				user := fmt.Sprintf("u%d@contoso.com", (w+i)%5)
				assert.NoError(t, h.p.ConsumeLogs(context.Background(), logsOf(t, []string{match(user, "1", "2025-03-04T10:00:00"), nonMatch}, shapeString)))
			}
		})
	}
	wg.Go(func() {
		for range 5 {
			h.endWindow()
		}
	})
	wg.Wait()
	h.endWindow()
	var total int64
	for _, d := range detections(h.sink) {
		total += d.Attributes().AsRaw()["count"].(int64)
	}
	assert.Equal(t, int64(8*50), total, "every match is counted exactly once across windows")
	assert.Equal(t, 8*50*2, passedThrough(h.sink))
}

func TestTagOnlyEdgeTier(t *testing.T) {
	cfg := testConfig()
	cfg.EmitDetections = false
	cfg.Passthrough = PassthroughMatched
	h := newHarness(t, cfg)
	consume(t, h, nonMatch, match("alice@contoso.com", "1", "2025-03-04T10:00:00"))
	h.endWindow()
	require.NoError(t, h.p.Shutdown(context.Background()))
	assert.Empty(t, detections(h.sink), "the edge tier never aggregates")
	require.Equal(t, 1, h.sink.LogRecordCount())
	user, ok := h.sink.AllLogs()[0].ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Attributes().Get("user")
	require.True(t, ok, "the forwarded match is tagged, so a load balancer can route on the row")
	assert.Equal(t, "alice@contoso.com", user.Str())
}

func TestRefusalDuringShutdownIsCounted(t *testing.T) {
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
	next := &errConsumer{err: errors.New("backend down")}
	cfg := testConfig()
	cfg.Passthrough = PassthroughNone
	p, err := newProcessor(metadatatest.NewSettings(tel), cfg, next)
	require.NoError(t, err)
	require.NoError(t, p.Start(context.Background(), componenttest.NewNopHost()))
	require.NoError(t, p.ConsumeLogs(context.Background(), logsOf(t, []string{match("a@contoso.com", "1", "2025-03-04T10:00:00")}, shapeString)))
	assert.Error(t, p.Shutdown(context.Background()))
	metadatatest.AssertEqualProcessorO365DetectDetectionsDropped(t, tel, []metricdata.DataPoint[int64]{{Value: 1, Attributes: escuRule}}, metricdatatest.IgnoreTimestamp())
}

func TestSuppression(t *testing.T) {
	cfg := testConfig()
	cfg.Suppression = time.Hour
	cfg.SignatureIDField = "" // one row for alice, whatever the record
	h := newHarness(t, cfg)
	alice := func(ts string) string { return match("alice@contoso.com", ts, ts) }

	consume(t, h, alice("2025-03-04T10:00:00"))
	h.endWindow()
	require.Len(t, detections(h.sink), 1, "the first detection is emitted at once")

	// Within the hour, repeats are held and counted, window after window.
	for i, ts := range []string{"2025-03-04T10:10:00", "2025-03-04T10:20:00", "2025-03-04T10:30:00"} {
		h.clock.set(testNow.Add(time.Duration(i+1) * 10 * time.Minute))
		consume(t, h, alice(ts))
		h.endWindow()
	}
	consume(t, h, match("bob@contoso.com", "b", "2025-03-04T10:35:00"))
	h.endWindow()
	dets := detections(h.sink)
	require.Len(t, dets, 2, "only bob, whose row is not suppressed, is emitted meanwhile")
	assert.Equal(t, "bob@contoso.com", dets[1].Attributes().AsRaw()["user"])

	// After the period the held row is emitted with every repeat counted.
	h.clock.set(testNow.Add(61 * time.Minute))
	h.endWindow()
	dets = detections(h.sink)
	require.Len(t, dets, 3)
	a := dets[2].Attributes().AsRaw()
	assert.Equal(t, "alice@contoso.com", a["user"])
	assert.Equal(t, int64(3), a["count"])
	assert.Equal(t, "2025-03-04T10:10:00", a["firstTime"])
	assert.Equal(t, "2025-03-04T10:30:00", a["lastTime"])
}

func TestSuppressedRowsFlushOnShutdown(t *testing.T) {
	cfg := testConfig()
	cfg.Suppression = time.Hour
	sink := new(consumertest.LogsSink)
	p, err := newProcessor(processortest.NewNopSettings(metadata.Type), cfg, sink)
	require.NoError(t, err)
	rec := match("alice@contoso.com", "1", "2025-03-04T10:00:00")
	require.NoError(t, p.ConsumeLogs(context.Background(), logsOf(t, []string{rec}, shapeString)))
	require.NoError(t, p.endWindow(context.Background()))
	require.NoError(t, p.ConsumeLogs(context.Background(), logsOf(t, []string{rec}, shapeString)))
	require.NoError(t, p.endWindow(context.Background()))
	require.Len(t, detections(sink), 1, "held")
	require.NoError(t, p.Shutdown(context.Background()))
	assert.Len(t, detections(sink), 2, "a clean stop emits held rows too")
}

// TestConsumeAfterShutdown: the collector stops receivers before processors,
// but a batch that still arrives after Shutdown must not be counted into a
// group that no window end will ever emit.
func TestConsumeAfterShutdown(t *testing.T) {
	h := newHarness(t, testConfig())
	require.NoError(t, h.p.Shutdown(context.Background()))
	consume(t, h, match("late@contoso.com", "1", "2025-03-04T10:00:00"))
	dets := detections(h.sink)
	require.Len(t, dets, 1, "emitted at once")
	assert.Equal(t, "late@contoso.com", dets[0].Attributes().AsRaw()["user"])
	assert.Zero(t, h.p.engine.OpenGroups())
}

// TestTickerEndsWindows: every tick of the window ticker flushes the open
// groups (the other tests end windows with harness.endWindow).
func TestTickerEndsWindows(t *testing.T) {
	h := newHarness(t, testConfig())
	for i, user := range []string{"a@contoso.com", "b@contoso.com"} {
		consume(t, h, match(user, fmt.Sprint(i), "2025-03-04T10:00:00"))
		h.tick <- testNow
		require.Eventually(t, func() bool { return len(detections(h.sink)) == i+1 }, 10*time.Second, time.Millisecond,
			"window %d is emitted by the tick", i+1)
	}
}
