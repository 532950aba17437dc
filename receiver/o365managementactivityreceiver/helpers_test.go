package o365managementactivityreceiver

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/o365detect/o365detect/internal/activityemulator"
	"github.com/o365detect/o365detect/internal/journal/journaltest"
	"github.com/o365detect/o365detect/receiver/o365managementactivityreceiver/internal/metadatatest"
)

const aad = ContentTypeAzureActiveDirectory

// harness runs one receiver against an emulator.
type harness struct {
	t     *testing.T
	em    *activityemulator.Server
	cfg   *Config
	sink  *recordSink
	tel   *componenttest.Telemetry
	logs  *observer.ObservedLogs
	store *journaltest.MemClient
	rcv   *o365Receiver
	// polls counts the polls the receiver finished.
	polls atomic.Int64
}

// newHarness returns a receiver configured for em: its endpoints and CA, a
// short poll interval and fast retries.
func newHarness(t *testing.T, em *activityemulator.Server) *harness {
	t.Helper()
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	require.NoError(t, os.WriteFile(ca, em.CACertPEM(), 0o600))
	cfg := createDefaultConfig().(*Config)
	opts := em.Options()
	cfg.TenantID, cfg.ClientID, cfg.ClientSecret = opts.TenantID, opts.ClientID, configopaque.String(opts.ClientSecret)
	cfg.Endpoint = em.URL()
	cfg.LoginEndpoint = em.LoginURL()
	cfg.TLS.CAFile = ca
	cfg.PollInterval = 200 * time.Millisecond
	cfg.RetryOnFailure.InitialInterval = 10 * time.Millisecond
	cfg.RetryOnFailure.MaxInterval = 50 * time.Millisecond
	cfg.RetryOnFailure.MaxElapsedTime = 2 * time.Second
	cfg.MaxRequestsPerMinute = microsoftRequestsPerMinute
	return &harness{t: t, em: em, cfg: cfg, sink: &recordSink{}, store: journaltest.NewMemClient()}
}

// start creates and starts the receiver with storage; it is shut down when
// the test ends.
func (h *harness) start() {
	h.t.Helper()
	h.startWith(h.sink)
}

func (h *harness) startWith(next consumer.Logs) {
	h.t.Helper()
	require.NoError(h.t, h.cfg.Validate(), "the test's config must be one a user could write")
	h.tel = componenttest.NewTelemetry()
	h.t.Cleanup(func() { _ = h.tel.Shutdown(context.Background()) })
	set := metadatatest.NewSettings(h.tel)
	core, logs := observer.New(zap.DebugLevel)
	set.Logger = zap.New(core)
	h.logs = logs
	h.t.Cleanup(func() {
		if h.t.Failed() {
			for _, e := range logs.All() {
				h.t.Logf("receiver log: %s %s %v", e.Level, e.Message, e.ContextMap())
			}
		}
	})
	storageID := component.MustNewID("memory_storage")
	h.cfg.Storage = &storageID
	rcv, err := newReceiver(set, h.cfg, next)
	require.NoError(h.t, err)
	rcv.pollDone = func(string) { h.polls.Add(1) }
	h.rcv = rcv
	host := &storageHost{id: storageID, client: h.store}
	require.NoError(h.t, rcv.Start(context.Background(), host))
	h.t.Cleanup(func() { h.stop() })
}

// stop shuts the receiver down; it is idempotent.
func (h *harness) stop() {
	if h.rcv != nil {
		require.NoError(h.t, h.rcv.Shutdown(context.Background()))
		h.rcv = nil
	}
}

// waitRecords waits until the sink holds n records.
func (h *harness) waitRecords(n int) {
	h.t.Helper()
	require.Eventually(h.t, func() bool { return h.sink.count() >= n }, 60*time.Second, 10*time.Millisecond,
		"want %d records, have %d", n, h.sink.count())
}

// waitPolls waits until the receiver finished n more polls (of any content
// type), so that whatever a poll started meanwhile found has been handled.
func (h *harness) waitPolls(n int) {
	h.t.Helper()
	from := h.polls.Load()
	require.Eventually(h.t, func() bool { return h.polls.Load() >= from+int64(n) }, 20*time.Second, 10*time.Millisecond)
}

// counter returns the sum of a counter's data points whose attributes
// include every key=value of want.
func (h *harness) counter(name string, want ...string) int64 {
	h.t.Helper()
	m, err := h.tel.GetMetric("otelcol_" + name)
	if err != nil {
		return 0
	}
	return sumPoints(m, want...)
}

// recordSink keeps every record received, and the batch sizes.
type recordSink struct {
	mu      sync.Mutex
	records []plog.LogRecord
	tenants []string
	batches []int
	// refuse, when positive, is how many more batches to refuse, after
	// the first acceptFirst batches.
	refuse      int
	acceptFirst int
	calls       int
}

// refuseAfter makes the sink accept n batches, then refuse the next m.
func (s *recordSink) refuseAfter(n, m int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.acceptFirst, s.refuse = n, m
}

func (s *recordSink) Capabilities() consumer.Capabilities { return consumer.Capabilities{} }

func (s *recordSink) ConsumeLogs(_ context.Context, ld plog.Logs) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if s.refuse > 0 && s.calls > s.acceptFirst {
		s.refuse--
		return fmt.Errorf("refused on purpose")
	}
	s.batches = append(s.batches, ld.LogRecordCount())
	for _, rl := range ld.ResourceLogs().All() {
		tenant, _ := rl.Resource().Attributes().Get(attrTenantID)
		for _, sl := range rl.ScopeLogs().All() {
			for _, lr := range sl.LogRecords().All() {
				s.records = append(s.records, lr)
				s.tenants = append(s.tenants, tenant.AsString())
			}
		}
	}
	return nil
}

func (s *recordSink) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.records)
}

// bodies returns how often each body was received.
func (s *recordSink) bodies() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	for _, r := range s.records {
		out[r.Body().Str()]++
	}
	return out
}

func (s *recordSink) all() []plog.LogRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]plog.LogRecord(nil), s.records...)
}

// storageHost is a component.Host with one storage extension.
type storageHost struct {
	id     component.ID
	client storage.Client
}

func (h *storageHost) GetExtensions() map[component.ID]component.Component {
	return map[component.ID]component.Component{h.id: &memStorage{client: h.client}}
}

// memStorage is a storage extension whose clients all share one store, as
// file_storage's do across restarts of one collector.
type memStorage struct {
	component.StartFunc
	component.ShutdownFunc
	client storage.Client
}

func (m *memStorage) GetClient(context.Context, component.Kind, component.ID, string) (storage.Client, error) {
	return noClose{m.client}, nil
}

// noClose keeps the shared store open when one receiver closes its client.
type noClose struct{ storage.Client }

func (noClose) Close(context.Context) error { return nil }

// record returns an audit record with the given Id, in the layout of the
// Management Activity schema.
func record(id string, n int) string {
	return fmt.Sprintf(`{"CreationTime":"2025-03-04T10:%02d:%02d","Id":%q,"Operation":"Update user.","OrganizationId":"5f2b8c1d-3e4a-4b6c-9d7e-0a1b2c3d4e5f","RecordType":8,"ResultStatus":"Success","UserKey":"1003200042E5F0B1","UserType":0,"Version":1,"Workload":"AzureActiveDirectory","ClientIP":"203.0.113.10","ObjectId":"user%d@contoso.com","UserId":"admin@contoso.com","Target":[{"ID":"User_%d","Type":2}]}`,
		n/60%60, n%60, id, n, n)
}

// guid returns a distinct GUID for n.
func guid(n int) string {
	return fmt.Sprintf("%08x-0000-4000-8000-%012x", n, n)
}

// records returns count records numbered from first.
func records(first, count int) []string {
	out := make([]string, count)
	for i := range out {
		out[i] = record(guid(first+i), first+i)
	}
	return out
}

// newEmulator starts an emulator stopped when the test ends.
func newEmulator(t *testing.T, opts activityemulator.Options) *activityemulator.Server {
	t.Helper()
	em := activityemulator.New(opts)
	t.Cleanup(em.Close)
	return em
}

// logged reports whether a log entry at or above zap's level contains all
// of parts in its message or fields.
func logged(logs *observer.ObservedLogs, parts ...string) bool {
	for _, e := range logs.All() {
		text := e.Message
		for _, f := range e.Context {
			text += " " + f.String
			if f.Interface != nil {
				text += fmt.Sprint(" ", f.Interface)
			}
		}
		ok := true
		for _, p := range parts {
			if !strings.Contains(text, p) {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// sumPoints adds up an int counter's points whose attributes include every
// key=value of want.
func sumPoints(m metricdata.Metrics, want ...string) int64 {
	sum, ok := m.Data.(metricdata.Sum[int64])
	if !ok {
		return 0
	}
	var n int64
	for _, dp := range sum.DataPoints {
		match := true
		for _, kv := range want {
			k, v, _ := strings.Cut(kv, "=")
			if got, ok := dp.Attributes.Value(attribute.Key(k)); !ok || got.AsString() != v {
				match = false
			}
		}
		if match {
			n += dp.Value
		}
	}
	return n
}
