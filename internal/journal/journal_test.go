package journal_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/o365detect/o365detect/internal/journal"
	"github.com/o365detect/o365detect/internal/journal/journaltest"
)

func newMem() *journaltest.MemClient { return journaltest.NewMemClient() }

func TestAppendReplaceReopen(t *testing.T) {
	ctx := context.Background()
	mem := newMem()
	j, entries, err := journal.Open(ctx, mem)
	require.NoError(t, err)
	assert.Empty(t, entries)

	require.NoError(t, j.Append(ctx, []byte("a")))
	require.NoError(t, j.Append(ctx, []byte("b")))
	_, entries, err = journal.Open(ctx, mem)
	require.NoError(t, err)
	assert.Equal(t, [][]byte{[]byte("a"), []byte("b")}, entries, "a crash after Append keeps every entry, in order")

	require.NoError(t, j.Replace(ctx, []byte("snapshot")))
	require.NoError(t, j.Append(ctx, []byte("c")))
	_, entries, err = journal.Open(ctx, mem)
	require.NoError(t, err)
	assert.Equal(t, [][]byte{[]byte("snapshot"), []byte("c")}, entries)

	require.NoError(t, j.Replace(ctx, nil))
	_, entries, err = journal.Open(ctx, mem)
	require.NoError(t, err)
	assert.Empty(t, entries)
	assert.Equal(t, 1, mem.Len(), "only the head is left: replaced entries are deleted")
}

func TestFailedWriteChangesNothing(t *testing.T) {
	ctx := context.Background()
	mem := newMem()
	j, _, err := journal.Open(ctx, mem)
	require.NoError(t, err)
	require.NoError(t, j.Append(ctx, []byte("a")))
	mem.Fail = errors.New("disk full")
	assert.Error(t, j.Append(ctx, []byte("b")))
	assert.Error(t, j.Replace(ctx, []byte("s")))
	mem.Fail = nil
	require.NoError(t, j.Append(ctx, []byte("c")))
	_, entries, err := journal.Open(ctx, mem)
	require.NoError(t, err)
	assert.Equal(t, [][]byte{[]byte("a"), []byte("c")}, entries)
	assert.Equal(t, 2, j.Len())
}

func TestCorruptHead(t *testing.T) {
	mem := newMem()
	require.NoError(t, mem.Set(context.Background(), "journal.head", []byte("xx")))
	_, _, err := journal.Open(context.Background(), mem)
	assert.Error(t, err)
}
