package o365detectprocessor

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/o365detect/o365detect/internal/journal/journaltest"
	"github.com/o365detect/o365detect/processor/o365detectprocessor/internal/metadata"
)

var storageID = component.MustNewID("file_storage")

// memStorage is a storage extension backed by one in-memory client that
// outlives processors, as a file does across restarts.
type memStorage struct {
	component.StartFunc
	component.ShutdownFunc
	client *journaltest.MemClient
}

func (m memStorage) GetClient(context.Context, component.Kind, component.ID, string) (storage.Client, error) {
	return m.client, nil
}

type storageHost map[component.ID]component.Component

func (h storageHost) GetExtensions() map[component.ID]component.Component { return h }

// startPersistent starts a processor journaling into client.
func startPersistent(t *testing.T, client *journaltest.MemClient, cfg *Config) (*detectProcessor, *consumertest.LogsSink, chan time.Time) {
	t.Helper()
	cfg.Storage = &storageID
	sink := new(consumertest.LogsSink)
	p, err := newProcessor(processortest.NewNopSettings(metadata.Type), cfg, sink)
	require.NoError(t, err)
	p.now = func() time.Time { return testNow }
	tick := make(chan time.Time)
	p.newTicker = func(time.Duration) (<-chan time.Time, func()) { return tick, func() {} }
	require.NoError(t, p.Start(context.Background(), storageHost{storageID: memStorage{client: client}}))
	return p, sink, tick
}

// crash stops p the way kill -9 would: no flush, no journal compaction.
func crash(p *detectProcessor) {
	p.cancel()
	p.wg.Wait()
	p.telemetry.Shutdown()
}

func TestGroupsSurviveACrash(t *testing.T) {
	client := journaltest.NewMemClient()
	p, sink, _ := startPersistent(t, client, testConfig())
	ctx := context.Background()
	require.NoError(t, p.ConsumeLogs(ctx, logsOf(t, []string{
		match("alice@contoso.com", "1", "2025-03-04T10:00:00"),
		match("alice@contoso.com", "1", "2025-03-04T10:07:00"),
	}, shapeString)))
	require.NoError(t, p.ConsumeLogs(ctx, logsOf(t, []string{
		match("alice@contoso.com", "1", "2025-03-04T09:55:00"),
		match("bob@contoso.com", "2", "2025-03-04T11:00:00"),
	}, shapeString)))
	crash(p)
	require.Empty(t, detections(sink))

	p2, sink2, tick := startPersistent(t, client, testConfig())
	tick <- testNow
	tick <- testNow
	dets := detections(sink2)
	require.Len(t, dets, 2)
	a := dets[0].Attributes().AsRaw()
	assert.Equal(t, "alice@contoso.com", a["user"])
	assert.Equal(t, int64(3), a["count"], "counts intact across the restart")
	assert.Equal(t, "2025-03-04T09:55:00", a["firstTime"])
	assert.Equal(t, "2025-03-04T10:07:00", a["lastTime"])
	res, _ := detectionLogs(sink2)[0].ResourceLogs().At(0).Resource().Attributes().Get("service.name")
	assert.Equal(t, "o365-audit", res.Str(), "the resource is restored with its types")
	require.NoError(t, p2.Shutdown(ctx))

	// Emitted groups are compacted away: a third start has nothing to emit.
	p3, sink3, _ := startPersistent(t, client, testConfig())
	require.NoError(t, p3.Shutdown(ctx))
	assert.Empty(t, detections(sink3))
}

func TestRefusedGroupsSurviveACrash(t *testing.T) {
	client := journaltest.NewMemClient()
	cfg := testConfig()
	cfg.Passthrough = PassthroughNone
	cfg.Storage = &storageID
	next := &errConsumer{err: errors.New("backend down")}
	p, err := newProcessor(processortest.NewNopSettings(metadata.Type), cfg, next)
	require.NoError(t, err)
	p.now = func() time.Time { return testNow }
	require.NoError(t, p.Start(context.Background(), storageHost{storageID: memStorage{client: client}}))
	require.NoError(t, p.ConsumeLogs(context.Background(), logsOf(t, []string{match("alice@contoso.com", "1", "2025-03-04T10:00:00")}, shapeString)))
	require.Error(t, p.flush(context.Background()), "refused, so kept and re-journaled")
	crash(p)

	p2, sink, tick := startPersistent(t, client, testConfig())
	tick <- testNow
	tick <- testNow
	require.Len(t, detections(sink), 1)
	require.NoError(t, p2.Shutdown(context.Background()))
}

func TestMissingStorageExtension(t *testing.T) {
	cfg := testConfig()
	cfg.Storage = &storageID
	p, err := newProcessor(processortest.NewNopSettings(metadata.Type), cfg, consumertest.NewNop())
	require.NoError(t, err)
	err = p.Start(context.Background(), storageHost{})
	require.ErrorContains(t, err, `storage: extension "file_storage" not found`)
	require.NoError(t, p.Shutdown(context.Background()))
}
