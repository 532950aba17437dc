package checkpoint

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCommitStorageFailure(t *testing.T) {
	ctx := context.Background()
	client := newMem()
	s, _ := open(t, client, testConfig(newClock()))
	deliver(t, s, "Audit.Exchange", "blob-1", guids(0, 2), true)

	client.Fail = errors.New("disk full")
	ids := guids(2, 5)
	fresh := s.Claim(nil, ids)
	err := s.Commit(ctx, "Audit.Exchange", "blob-2", ids, fresh, true)
	require.ErrorIs(t, err, client.Fail)
	// They were delivered: memory counts them.
	assert.Equal(t, repeat(false, 3), freshOf(s, ids...))
	assert.True(t, s.BlobDelivered("Audit.Exchange", "blob-2"))
	assert.Equal(t, Stats{IDs: 5, Blobs: 2, Unsaved: 1}, s.Stats())
	require.ErrorIs(t, s.SetCursor(ctx, "Audit.Exchange", t0), client.Fail)
	got, ok := s.Cursor("Audit.Exchange")
	assert.True(t, ok && got.Equal(t0), "the cursor is set in memory")

	// What is stored is what was stored before the failure.
	client.Fail = nil
	s2, _ := open(t, client, testConfig(newClock()))
	assert.Equal(t, Stats{IDs: 2, Blobs: 1}, s2.Stats())

	// The next write carries what the failed ones left due.
	require.NoError(t, s.Commit(ctx, "Audit.Exchange", "blob-3", nil, nil, false))
	assert.Equal(t, 0, s.Stats().Unsaved)
	s3, _ := open(t, client, testConfig(newClock()))
	assert.Equal(t, Stats{IDs: 5, Blobs: 2}, s3.Stats())
	assert.Equal(t, repeat(false, 3), freshOf(s3, ids...))
	got, ok = s3.Cursor("Audit.Exchange")
	assert.True(t, ok && got.Equal(t0))
}

// Storage that is down does not hold Claim up: Claim never touches it.
func TestClaimDoesNotTouchStorage(t *testing.T) {
	client := newMem()
	s, _ := open(t, client, testConfig(newClock()))
	client.Fail = errors.New("unreachable")
	assert.Equal(t, []bool{true, true}, s.Claim(nil, guids(0, 2)))
	assert.False(t, s.BlobDelivered("Audit.Exchange", "blob-1"))
}

// A write of nothing new costs no storage call.
func TestNothingToWriteWritesNothing(t *testing.T) {
	mem := newMem()
	client := &failAfter{MemClient: mem, left: -1}
	s, _ := open(t, client, testConfig(newClock()))
	deliver(t, s, "Audit.Exchange", "blob-1", guids(0, 2), true)
	client.setLeft(0)
	client.err = errors.New("no call expected")
	require.NoError(t, s.Expire(context.Background()))
	require.NoError(t, s.Commit(context.Background(), "Audit.Exchange", "blob-1", guids(0, 2), []bool{false, false}, false))
}
