package checkpoint

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestExpiryByRetention(t *testing.T) {
	ctx := context.Background()
	client, c := newMem(), newClock()
	cfg := testConfig(c)
	s, _ := open(t, client, cfg)
	deliver(t, s, "Audit.Exchange", "blob-1", guids(0, 2), true) // seq 0, at t0
	c.Add(time.Hour)
	deliver(t, s, "Audit.Exchange", "blob-2", guids(2, 4), true) // seq 1, at t0+1h
	require.NoError(t, s.SetCursor(ctx, "Audit.Exchange", t0))

	c.Set(t0.Add(week - time.Nanosecond))
	assert.True(t, s.BlobDelivered("Audit.Exchange", "blob-1"), "remembered for all of its retention")
	assert.Equal(t, []bool{false, false}, freshOf(s, guids(0, 2)...))

	c.Set(t0.Add(week))
	assert.False(t, s.BlobDelivered("Audit.Exchange", "blob-1"))
	assert.True(t, s.BlobDelivered("Audit.Exchange", "blob-2"))
	assert.Equal(t, []bool{true, true, false, false}, freshOf(s, guids(0, 4)...))
	assert.Equal(t, Stats{IDs: 2, Blobs: 1, Expired: 2}, s.Stats())

	require.NoError(t, s.Expire(ctx))
	assert.Equal(t, []uint64{1}, storedEntries(t, client, 2))
	first, next := storedHead(t, client)
	assert.Equal(t, [2]uint64{1, 2}, [2]uint64{first, next})
	_, ok := s.Cursor("Audit.Exchange")
	assert.True(t, ok, "cursors do not expire")

	// A restore agrees.
	s2, _ := open(t, client, cfg)
	assert.Equal(t, Stats{IDs: 2, Blobs: 1}, s2.Stats())

	c.Add(time.Hour)
	require.NoError(t, s2.Expire(ctx))
	assert.Empty(t, storedEntries(t, client, 2))
	assert.Equal(t, 2, client.Len(), "the head and the cursors are left")
}

func TestExpiryDeletesInChunks(t *testing.T) {
	ctx := context.Background()
	client, c := newMem(), newClock()
	s, _ := open(t, client, testConfig(c))
	const n = 3*expireChunk + 10
	for i := range n {
		deliver(t, s, "Audit.Exchange", guid(i), guids(i, i+1), true)
	}
	require.Equal(t, n+1, client.Len())
	c.Add(week)

	// A Commit deletes one chunk of the expired entries with its own.
	deliver(t, s, "Audit.Exchange", "new", guids(n, n+1), true)
	assert.Equal(t, n+1-expireChunk+1, client.Len())
	first, next := storedHead(t, client)
	assert.Equal(t, [2]uint64{expireChunk, n + 1}, [2]uint64{first, next})

	// Expire deletes the rest.
	require.NoError(t, s.Expire(ctx))
	assert.Equal(t, 2, client.Len())
	assert.Equal(t, []uint64{n}, storedEntries(t, client, n+1))
	assert.Equal(t, Stats{IDs: 1, Blobs: 1, Expired: n}, s.Stats())
}

// After a downtime longer than the retention nothing is restored, and the
// old entries are deleted by the writes that follow.
func TestRestoreAfterRetention(t *testing.T) {
	ctx := context.Background()
	client, c := newMem(), newClock()
	cfg := testConfig(c)
	s, _ := open(t, client, cfg)
	for i := range 10 {
		deliver(t, s, "Audit.Exchange", guid(i), guids(i, i+1), true)
	}
	c.Add(week + time.Hour)
	s2, _ := open(t, client, cfg)
	assert.Equal(t, Stats{Expired: 10}, s2.Stats())
	assert.Equal(t, repeat(true, 10), freshOf(s2, guids(0, 10)...))
	require.NoError(t, s2.Expire(ctx))
	assert.Equal(t, 1, client.Len(), "only the head is left")
}

// A delivery whose write failed and which expires before any write
// succeeds is deleted, not written, by the next write, even when expiry
// has not reached it yet: the head then names its key, which must not hold
// anything from before.
func TestUnsavedDeliveryExpires(t *testing.T) {
	ctx := context.Background()
	mem, c := newMem(), newClock()
	client := &failAfter{MemClient: mem, left: -1, err: assert.AnError}
	s, _ := open(t, client, testConfig(c))
	const n = expireChunk + 10
	for i := range n {
		deliver(t, s, "Audit.Exchange", guid(i), nil, true)
	}
	client.setLeft(0)
	require.ErrorIs(t, s.Commit(ctx, "Audit.Exchange", "failed", nil, nil, true), assert.AnError)
	require.NoError(t, mem.Set(ctx, entryKey(n), []byte("left over from before")))
	c.Add(week)
	client.setLeft(-1)
	deliver(t, s, "Audit.Exchange", "new", nil, true) // one write
	present := storedEntries(t, mem, n+2)
	assert.Len(t, present, n-expireChunk+1, "one chunk of expiry")
	assert.NotContains(t, present, uint64(n))
	assert.Contains(t, present, uint64(n+1))
	first, next := storedHead(t, mem)
	assert.Equal(t, [2]uint64{expireChunk, n + 2}, [2]uint64{first, next})
}

func TestMaxIDsEvictsOldestFirst(t *testing.T) {
	client, c := newMem(), newClock()
	cfg := testConfig(c)
	cfg.MaxIDs = 5
	s, _ := open(t, client, cfg)
	deliver(t, s, "Audit.Exchange", "blob-1", guids(0, 3), true)
	deliver(t, s, "Audit.Exchange", "blob-2", guids(3, 6), true)
	assert.Equal(t, Stats{IDs: 5, Blobs: 2, Evicted: 1}, s.Stats())
	assert.Equal(t, []bool{true, false, false, false, false, false}, freshOf(s, guids(0, 6)...))

	// One batch larger than MaxIDs evicts everything older, then its own
	// first Ids.
	deliver(t, s, "Audit.Exchange", "blob-3", guids(10, 17), false)
	assert.Equal(t, Stats{IDs: 5, Blobs: 2, Evicted: 8}, s.Stats())
	assert.Equal(t, append(repeat(true, 2), repeat(false, 5)...), freshOf(s, guids(10, 17)...))
	assert.True(t, s.BlobDelivered("Audit.Exchange", "blob-1"), "the blob is remembered past its Ids")

	// Expiry then counts only what eviction left.
	c.Add(week)
	assert.Equal(t, Stats{Evicted: 8, Expired: 5}, s.Stats())
}
