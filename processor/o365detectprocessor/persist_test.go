package o365detectprocessor

import (
	"context"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processortest"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/o365detect/o365detect/internal/journal"
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
	return startPersistentWith(t, client, cfg, processortest.NewNopSettings(metadata.Type))
}

// startObserved is startPersistent with the processor's log recorded.
func startObserved(t *testing.T, client *journaltest.MemClient, cfg *Config) (*detectProcessor, *consumertest.LogsSink, chan time.Time, *observer.ObservedLogs) {
	t.Helper()
	set := processortest.NewNopSettings(metadata.Type)
	core, logs := observer.New(zap.InfoLevel)
	set.Logger = zap.New(core)
	p, sink, tick := startPersistentWith(t, client, cfg, set)
	return p, sink, tick, logs
}

func startPersistentWith(t *testing.T, client *journaltest.MemClient, cfg *Config, set processor.Settings) (*detectProcessor, *consumertest.LogsSink, chan time.Time) {
	t.Helper()
	sink := new(consumertest.LogsSink)
	p, tick := startPersistentTo(t, client, cfg, set, sink)
	return p, sink, tick
}

// startPersistentTo starts a processor journaling into client, with next as
// its next consumer.
func startPersistentTo(t *testing.T, client *journaltest.MemClient, cfg *Config, set processor.Settings, next consumer.Logs) (*detectProcessor, chan time.Time) {
	t.Helper()
	cfg.Storage = &storageID
	p, err := newProcessor(set, cfg, next)
	require.NoError(t, err)
	p.now = func() time.Time { return testNow }
	tick := make(chan time.Time)
	p.newTicker = func(time.Duration) (<-chan time.Time, func()) { return tick, func() {} }
	require.NoError(t, p.Start(context.Background(), storageHost{storageID: memStorage{client: client}}))
	return p, tick
}

// startRefused starts a processor journaling into client whose next
// consumer refuses everything, keeping only detection records
// (passthrough none) and recording its log.
func startRefused(t *testing.T, client *journaltest.MemClient) (*detectProcessor, *errConsumer, *observer.ObservedLogs) {
	t.Helper()
	cfg := testConfig()
	cfg.Passthrough = PassthroughNone
	next := &errConsumer{err: errors.New("backend down")}
	set := processortest.NewNopSettings(metadata.Type)
	core, logs := observer.New(zap.InfoLevel)
	set.Logger = zap.New(core)
	p, _ := startPersistentTo(t, client, cfg, set, next)
	return p, next, logs
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
	require.Error(t, p.endWindow(context.Background()), "refused, so kept and re-journaled")
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

// rawHead encodes a journal head as the journal stores it, to plant corrupt
// ones.
func rawHead(first, next uint64) []byte {
	b := make([]byte, 16)
	binary.BigEndian.PutUint64(b[:8], first)
	binary.BigEndian.PutUint64(b[8:], next)
	return b
}

func TestCorruptJournalDoesNotStopStart(t *testing.T) {
	for _, tc := range []struct {
		name string
		head []byte
	}{
		{"wrong length", []byte("not a head")},
		{"first after next", rawHead(9, 3)},
		{"range beyond memory", rawHead(0, 1<<62)},
		{"range over the maximum", rawHead(0, journal.MaxEntries+1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			client := journaltest.NewMemClient()
			require.NoError(t, client.Set(ctx, "journal.head", tc.head))

			p, _, _, logs := startObserved(t, client, testConfig())
			lost := logs.FilterMessageSnippet("corrupt").All()
			require.Len(t, lost, 1, "the loss is reported")
			assert.Equal(t, zapcore.ErrorLevel, lost[0].Level)
			assert.Contains(t, lost[0].Message, "lost")

			// The replacement journal works and leaves a valid head.
			require.NoError(t, p.ConsumeLogs(ctx, logsOf(t, []string{match("alice@contoso.com", "1", "2025-03-04T10:00:00")}, shapeString)))
			crash(p)
			require.Len(t, restartCleanly(t, client, "the next start is clean"), 1)
		})
	}
}

func TestUnreadableStorageStillFailsStart(t *testing.T) {
	client := journaltest.NewMemClient()
	client.Fail = errors.New("disk gone")
	cfg := testConfig()
	cfg.Storage = &storageID
	p, err := newProcessor(processortest.NewNopSettings(metadata.Type), cfg, consumertest.NewNop())
	require.NoError(t, err)
	err = p.Start(context.Background(), storageHost{storageID: memStorage{client: client}})
	require.ErrorContains(t, err, "storage: reading the journal: disk gone",
		"a storage error is not corruption: starting over would lose groups that are still on disk")
	client.Fail = nil
	require.NoError(t, p.Shutdown(context.Background()))
}

func TestFullJournalIsCompacted(t *testing.T) {
	ctx := context.Background()
	client := journaltest.NewMemClient()
	// A journal at the maximum length Open accepts.
	require.NoError(t, client.Set(ctx, "journal.head", rawHead(0, journal.MaxEntries)))
	p, _, _, logs := startObserved(t, client, testConfig())
	require.NoError(t, p.ConsumeLogs(ctx, logsOf(t, []string{match("alice@contoso.com", "1", "2025-03-04T10:00:00")}, shapeString)))
	assert.Empty(t, logs.FilterLevelExact(zapcore.ErrorLevel).All())
	crash(p)
	require.Len(t, restartCleanly(t, client, "the journal never grows past what Open accepts"), 1)
}

// restartCleanly starts a processor on client after a crash, checks that it
// logs no error, and returns the detection records of one window end.
func restartCleanly(t *testing.T, client *journaltest.MemClient, msg string) []plog.LogRecord {
	t.Helper()
	p, sink, tick, logs := startObserved(t, client, testConfig())
	assert.Empty(t, logs.FilterLevelExact(zapcore.ErrorLevel).All(), msg)
	tick <- testNow
	tick <- testNow
	require.NoError(t, p.Shutdown(context.Background()))
	return detections(sink)
}

// deepResource returns a resource whose one attribute nests depth maps.
func deepResource(depth int) pcommon.Resource {
	r := pcommon.NewResource()
	m := r.Attributes()
	for range depth {
		m = m.PutEmptyMap("a")
	}
	return r
}

// oldEntry is an entry as written before unencodable resources were
// replaced; the format has not changed, and such entries must still read.
const oldEntry = `{"g":[{"k":["d","alice@contoso.com","s","va","vp","sig","1"],"c":2,"f":1741082400000000000,"l":1741082460000000000,"o":1741082400000000000,"p":["p"],` +
	`"r":{"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"o365-audit"}},{"key":"n","value":{"intValue":"7"}}]}}]}}],"i":[{"id":"x","t":5}]}`

// withResource is oldEntry with alice's resource swapped for r.
func withResource(r string) string {
	start := strings.Index(oldEntry, `"r":`) + len(`"r":`)
	return oldEntry[:start] + r + `}],"i":[{"id":"x","t":5}]}`
}

func TestDeepResourceDoesNotStopJournaling(t *testing.T) {
	ctx := context.Background()
	client := journaltest.NewMemClient()
	p, _, _, logs := startObserved(t, client, testConfig())
	ld := logsOf(t, []string{match("alice@contoso.com", "1", "2025-03-04T10:00:00")}, shapeString)
	deep := logsOf(t, []string{match("bob@contoso.com", "2", "2025-03-04T10:00:00")}, shapeString).ResourceLogs().At(0)
	deepResource(2600).CopyTo(deep.Resource())
	deep.CopyTo(ld.ResourceLogs().AppendEmpty())
	require.NoError(t, p.ConsumeLogs(ctx, ld))

	warned := logs.FilterMessageSnippet("resource").FilterLevelExact(zapcore.WarnLevel).All()
	require.Len(t, warned, 1)
	assert.Equal(t, int64(1), warned[0].ContextMap()["groups"])
	assert.Empty(t, logs.FilterLevelExact(zapcore.ErrorLevel).All())
	crash(p)

	p2, sink, tick := startPersistent(t, client, testConfig())
	tick <- testNow
	tick <- testNow
	resources := map[string]map[string]any{}
	for _, d := range detectionLogs(sink) {
		for _, rl := range d.ResourceLogs().All() {
			for _, sl := range rl.ScopeLogs().All() {
				for _, lr := range sl.LogRecords().All() {
					user, _ := lr.Attributes().Get("user")
					resources[user.Str()] = rl.Resource().Attributes().AsRaw()
				}
			}
		}
	}
	assert.Equal(t, map[string]map[string]any{
		"alice@contoso.com": {"service.name": "o365-audit"},
		"bob@contoso.com":   {},
	}, resources, "both groups survive; only bob's resource is lost")
	require.NoError(t, p2.Shutdown(ctx))
}

func TestUnreadableResourceIsRestoredEmpty(t *testing.T) {
	ctx := context.Background()
	client := journaltest.NewMemClient()
	require.NoError(t, client.Set(ctx, "journal.head", rawHead(0, 1)))
	require.NoError(t, client.Set(ctx, "journal.0", []byte(withResource(`{"resourceLogs":"x"}`))))
	p, sink, tick, logs := startObserved(t, client, testConfig())
	warned := logs.FilterMessageSnippet("resource").FilterLevelExact(zapcore.WarnLevel).All()
	require.Len(t, warned, 1)
	assert.Equal(t, int64(1), warned[0].ContextMap()["groups"])
	tick <- testNow
	tick <- testNow
	dets := detectionLogs(sink)
	require.Len(t, dets, 1, "the group is restored, without its resource")
	assert.Equal(t, 0, dets[0].ResourceLogs().At(0).Resource().Attributes().Len())
	require.NoError(t, p.Shutdown(ctx))
}

func TestCorruptJournalIsReportedOnce(t *testing.T) {
	ctx := context.Background()
	client := journaltest.NewMemClient()
	require.NoError(t, client.Set(ctx, "journal.head", []byte("not a head")))
	p, _, _, logs := startObserved(t, client, testConfig())
	require.Len(t, logs.FilterMessageSnippet("corrupt").All(), 1)
	crash(p) // no match seen, so nothing was journaled

	p2, _, _, logs2 := startObserved(t, client, testConfig())
	assert.Empty(t, logs2.FilterLevelExact(zapcore.ErrorLevel).All(), "an idle restart must not report the same loss again")
	require.NoError(t, p2.Shutdown(ctx))
}

// TestBatchAfterShutdownWithStorage: groups the next consumer refuses at
// Shutdown stay in the journal for the restart. A batch that still arrives
// afterwards is emitted at once on its own: it neither re-emits nor reports
// as lost the journaled groups, and it journals nothing into the closed
// client.
func TestBatchAfterShutdownWithStorage(t *testing.T) {
	ctx := context.Background()
	client := journaltest.NewMemClient()
	p, next, logs := startRefused(t, client)

	require.NoError(t, p.ConsumeLogs(ctx, logsOf(t, []string{match("alice@contoso.com", "1", "2025-03-04T10:00:00")}, shapeString)))
	require.Error(t, p.Shutdown(ctx), "the final flush is refused")
	client.Fail = errors.New("the client is closed")
	require.NoError(t, p.ConsumeLogs(ctx, logsOf(t, []string{match("bob@contoso.com", "2", "2025-03-04T10:00:00")}, shapeString)))

	assert.Empty(t, logs.FilterMessageSnippet("could not journal").All())
	lost := logs.FilterMessageSnippet("they are lost").All()
	require.Len(t, lost, 1)
	assert.Equal(t, int64(1), lost[0].ContextMap()["detections"], "only the late batch's group")
	require.Len(t, next.offered, 2)
	assert.Equal(t, "bob@contoso.com", next.offered[1].ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Attributes().AsRaw()["user"])

	client.Fail = nil
	dets := restartCleanly(t, client, "the restart is clean")
	require.Len(t, dets, 1)
	assert.Equal(t, "alice@contoso.com", dets[0].Attributes().AsRaw()["user"], "alice was kept, not lost")
}

// TestShutdownRefusalAfterAJournalFailure: when a journal write has failed,
// the journal may lack open groups, so groups the next consumer refuses at
// Shutdown are reported lost and counted, not said to be kept in storage
// and then silently dropped.
func TestShutdownRefusalAfterAJournalFailure(t *testing.T) {
	ctx := context.Background()
	client := journaltest.NewMemClient()
	p, _, logs := startRefused(t, client)

	client.Fail = errors.New("disk full")
	require.NoError(t, p.ConsumeLogs(ctx, logsOf(t, []string{match("alice@contoso.com", "1", "2025-03-04T10:00:00")}, shapeString)))
	require.Error(t, p.Shutdown(ctx))
	client.Fail = nil

	assert.Empty(t, logs.FilterMessageSnippet("stay in storage").All(), "nothing claims the journal holds them")
	lost := logs.FilterMessageSnippet("they are lost").All()
	require.Len(t, lost, 1)
	assert.Equal(t, zapcore.ErrorLevel, lost[0].Level)
	assert.Equal(t, int64(1), lost[0].ContextMap()["detections"])
	assert.Empty(t, restartCleanly(t, client, "the restart is clean"), "and indeed nothing comes back")
}
