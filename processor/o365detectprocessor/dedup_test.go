package o365detectprocessor

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"

	"github.com/o365detect/o365detect/internal/journal/journaltest"
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

func TestDedupDropsRepeatedDeliveries(t *testing.T) {
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
	metadatatest.AssertEqualProcessorO365DetectRecordsDuplicate(t, tel, []metricdata.DataPoint[int64]{{Value: 3}}, metricdatatest.IgnoreTimestamp())

	passed := h.sink.AllLogs()[0].ResourceLogs().At(0).ScopeLogs().At(0).LogRecords()
	_, tagged := passed.At(1).Attributes().Get("user")
	assert.False(t, tagged, "a repeated delivery passes through untagged")

	// After the TTL the Id counts again.
	h.clock.set(testNow.Add(61 * time.Minute))
	consume(t, h, first)
	h.endWindow()
	assert.Len(t, detections(h.sink), 3)
}

func TestDedupIsBounded(t *testing.T) {
	d := newDedup(DedupConfig{Enabled: true, TTL: time.Hour, MaxIDs: 3})
	for i := range 10 {
		assert.True(t, d.firstDelivery(fmt.Sprint(i), testNow))
	}
	assert.Len(t, d.seen, 3)
	assert.False(t, d.firstDelivery("9", testNow), "the newest are kept")
	assert.True(t, d.firstDelivery("0", testNow), "the oldest were forgotten")
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
