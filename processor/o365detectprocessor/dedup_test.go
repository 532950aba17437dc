package o365detectprocessor

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/processor/processortest"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"

	"github.com/o365detect/o365detect/internal/journal/journaltest"
	"github.com/o365detect/o365detect/processor/o365detectprocessor/internal/metadata"
	"github.com/o365detect/o365detect/processor/o365detectprocessor/internal/metadatatest"
)

func TestDedupOffCountsEveryDelivery(t *testing.T) {
	h := newHarness(t, testConfig())
	rec := match("alice@contoso.com", "1", "2025-03-04T10:00:00")
	consume(t, h, rec, rec)
	consume(t, h, rec)
	h.endWindow()
	require.Len(t, detections(h.sink), 1)
	assert.Equal(t, int64(3), detections(h.sink)[0].Attributes().AsRaw()["count"])
}

func TestDedupCountsRepeatedDeliveriesOnce(t *testing.T) {
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
	cfg := testConfig()
	cfg.Dedup = DedupConfig{Enabled: true, TTL: time.Hour, MaxIDs: 100}
	h := newHarnessWith(t, cfg, metadatatest.NewSettings(tel), nil)

	first := match("alice@contoso.com", "id-1", "2025-03-04T10:00:00")
	consume(t, h, first, first, match("alice@contoso.com", "id-2", "2025-03-04T10:01:00"))
	consume(t, h, first)
	h.clock.set(testNow.Add(59 * time.Minute))
	consume(t, h, first)
	h.endWindow()

	dets := detections(h.sink)
	require.Len(t, dets, 2, "signature_id is the Id, so two rows")
	for _, d := range dets {
		assert.Equal(t, int64(1), d.Attributes().AsRaw()["count"], "each Id counted once")
	}
	metadatatest.AssertEqualProcessorO365DetectRecordsDuplicate(t, tel, []metricdata.DataPoint[int64]{{Value: 3, Attributes: escuRule}}, metricdatatest.IgnoreTimestamp())

	passed := h.sink.AllLogs()[0].ResourceLogs().At(0).ScopeLogs().At(0).LogRecords()
	_, tagged := passed.At(1).Attributes().Get("user")
	assert.True(t, tagged, "a repeated delivery is still a match: tagged, only not counted again")

	// After the TTL the Id counts again.
	h.clock.set(testNow.Add(61 * time.Minute))
	consume(t, h, first)
	h.endWindow()
	assert.Len(t, detections(h.sink), 3)
}

func TestDedupStateSurvivesACrash(t *testing.T) {
	client := journaltest.NewMemClient()
	cfg := testConfig()
	cfg.Dedup = DedupConfig{Enabled: true, TTL: time.Hour, MaxIDs: 100}
	p, _, tick := startPersistent(t, client, cfg)
	rec := match("alice@contoso.com", "id-1", "2025-03-04T10:00:00")
	require.NoError(t, p.ConsumeLogs(context.Background(), logsOf(t, []string{rec}, shapeString)))
	tick <- testNow // emitted and compacted; the Id stays remembered
	tick <- testNow
	crash(p)

	cfg2 := testConfig()
	cfg2.Dedup = cfg.Dedup
	p2, sink2, _ := startPersistent(t, client, cfg2)
	require.NoError(t, p2.ConsumeLogs(context.Background(), logsOf(t, []string{rec}, shapeString)))
	require.NoError(t, p2.Shutdown(context.Background()))
	assert.Empty(t, detections(sink2), "the redelivery after the restart is recognised")
}

// refuseOnce refuses its first batch with a retryable error, as a full
// exporter queue does, and passes every later one to next.
type refuseOnce struct {
	next    *consumertest.LogsSink
	refused bool
}

func (r *refuseOnce) Capabilities() consumer.Capabilities { return consumer.Capabilities{} }

func (r *refuseOnce) ConsumeLogs(ctx context.Context, ld plog.Logs) error {
	if !r.refused {
		r.refused = true
		return errors.New("exporter queue is full")
	}
	return r.next.ConsumeLogs(ctx, ld)
}

// TestRetryOfRefusedBatch: the next consumer refuses a batch, and the caller
// (an OTLP receiver whose client retries, say) sends it again. The record
// must reach the next consumer tagged on the retry in every passthrough
// mode, and its match is counted on the first attempt, so that a refusal
// never loses a detection: once more on the retry without dedup
// (at-least-once), exactly once with it.
func TestRetryOfRefusedBatch(t *testing.T) {
	for _, tt := range []struct {
		dedup     bool
		mode      Passthrough
		wantCount int64
	}{
		{false, PassthroughAll, 2},
		{false, PassthroughMatched, 2},
		{true, PassthroughAll, 1},
		{true, PassthroughMatched, 1},
	} {
		t.Run(fmt.Sprintf("dedup %v, passthrough %s", tt.dedup, tt.mode), func(t *testing.T) {
			cfg := testConfig()
			cfg.Passthrough = tt.mode
			cfg.Dedup = DedupConfig{Enabled: tt.dedup, TTL: time.Hour, MaxIDs: 100}
			next := &refuseOnce{next: new(consumertest.LogsSink)}
			h := newHarnessWith(t, cfg, processortest.NewNopSettings(metadata.Type), next)
			rec := match("alice@contoso.com", "id-1", "2025-03-04T10:00:00")

			require.Error(t, h.p.ConsumeLogs(context.Background(), logsOf(t, []string{rec}, shapeString)))
			require.NoError(t, h.p.ConsumeLogs(context.Background(), logsOf(t, []string{rec}, shapeString)), "the retry")

			require.Equal(t, 1, passedThrough(next.next), "the retried record reaches the next consumer")
			lr := next.next.AllLogs()[0].ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0)
			assert.Equal(t, rec, lr.Body().Str())
			user, tagged := lr.Attributes().Get("user")
			require.True(t, tagged, "and it is tagged")
			assert.Equal(t, "alice@contoso.com", user.Str())

			h.endWindow()
			dets := detections(next.next)
			require.Len(t, dets, 1)
			assert.Equal(t, tt.wantCount, dets[0].Attributes().AsRaw()["count"])
		})
	}
}

// TestEdgeTierJournalIsCompacted: an edge tier (emit_detections false) with
// dedup and storage journals the Ids of every batch with a match and never
// emits, so the window end must compact the journal by itself.
func TestEdgeTierJournalIsCompacted(t *testing.T) {
	client := journaltest.NewMemClient()
	cfg := testConfig()
	cfg.EmitDetections = false
	cfg.Dedup = DedupConfig{Enabled: true, TTL: time.Hour, MaxIDs: 1000}
	p, _, tick := startPersistent(t, client, cfg)
	for i := range 100 {
		rec := match("alice@contoso.com", fmt.Sprint("id-", i), "2025-03-04T10:00:00")
		require.NoError(t, p.ConsumeLogs(context.Background(), logsOf(t, []string{rec}, shapeString)))
	}
	require.Equal(t, 100, p.engine.JournalEntries(), "one entry per batch until the window ends")
	tick <- testNow
	tick <- testNow
	assert.Equal(t, 1, p.engine.JournalEntries(), "compacted to one entry of the remembered Ids")
	assert.Equal(t, 100, p.dedup.Len())
	crash(p)

	cfg2 := testConfig()
	cfg2.EmitDetections = false
	cfg2.Dedup = cfg.Dedup
	p2, _, _ := startPersistent(t, client, cfg2)
	t.Cleanup(func() { require.NoError(t, p2.Shutdown(context.Background())) })
	assert.Equal(t, 100, p2.dedup.Len(), "the compacted Ids survive a crash")
}
