package checkpoint

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/o365detect/o365detect/internal/journal/journaltest"
)

var t0 = time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)

const week = 7 * 24 * time.Hour

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: t0} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func (c *clock) Add(d time.Duration) { c.Set(c.Now().Add(d)) }

func testConfig(c *clock) Config {
	return Config{Dedup: true, MaxIDs: 1000, Retention: week, Now: c.Now}
}

// open opens a store on client, failing the test on an error, and returns
// the logs it wrote.
func open(t testing.TB, client storage.Client, cfg Config) (*Store, *observer.ObservedLogs) {
	t.Helper()
	core, logs := observer.New(zapcore.InfoLevel)
	s, err := Open(context.Background(), client, cfg, zap.New(core))
	require.NoError(t, err)
	return s, logs
}

// guid returns a distinct, valid, lowercase GUID for n.
func guid(n int) string {
	return fmt.Sprintf("%08x-0000-4000-8000-%012x", n, n)
}

func guids(from, to int) []string {
	ids := make([]string, 0, to-from)
	for n := from; n < to; n++ {
		ids = append(ids, guid(n))
	}
	return ids
}

// deliver claims ids and commits the fresh ones for the blob.
func deliver(t testing.TB, s *Store, contentType, contentID string, ids []string, blobDone bool) []bool {
	t.Helper()
	fresh := s.Claim(nil, ids)
	require.NoError(t, s.Commit(context.Background(), contentType, contentID, ids, fresh, blobDone))
	return fresh
}

// freshOf claims ids, releases them again, and returns which were fresh:
// a look that leaves no claim behind.
func freshOf(s *Store, ids ...string) []bool {
	fresh := s.Claim(nil, ids)
	s.Release(ids, fresh)
	return fresh
}

func repeat(v bool, n int) []bool {
	out := make([]bool, n)
	for i := range out {
		out[i] = v
	}
	return out
}

// storedHead returns the head in client.
func storedHead(t testing.TB, client storage.Client) (first, next uint64) {
	t.Helper()
	raw, err := client.Get(context.Background(), headKey)
	require.NoError(t, err)
	require.NotNil(t, raw, "no head stored")
	first, next, err = decodeHead(raw)
	require.NoError(t, err)
	return first, next
}

// storedEntries returns which of entries 0..upTo-1 are in client.
func storedEntries(t testing.TB, client storage.Client, upTo uint64) []uint64 {
	t.Helper()
	var present []uint64
	for seq := range upTo {
		raw, err := client.Get(context.Background(), entryKey(seq))
		require.NoError(t, err)
		if raw != nil {
			present = append(present, seq)
		}
	}
	return present
}

func newMem() *journaltest.MemClient { return journaltest.NewMemClient() }

// failAfter lets left storage batches through, then fails every one with
// err; a negative left never fails.
type failAfter struct {
	*journaltest.MemClient
	mu   sync.Mutex
	left int
	err  error
}

func (f *failAfter) setLeft(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.left = n
}

func (f *failAfter) Batch(ctx context.Context, ops ...*storage.Operation) error {
	f.mu.Lock()
	fail := f.left == 0
	if f.left > 0 {
		f.left--
	}
	f.mu.Unlock()
	if fail {
		return f.err
	}
	return f.MemClient.Batch(ctx, ops...)
}
