package journal_test

import (
	"context"
	"encoding/binary"
	"errors"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/extension/xextension/storage"

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
	assert.ErrorIs(t, err, journal.ErrCorrupt)
}

// rawHead encodes a head the way the journal stores it, so tests can plant
// corrupt ones.
func rawHead(first, next uint64) []byte {
	b := make([]byte, 16)
	binary.BigEndian.PutUint64(b[:8], first)
	binary.BigEndian.PutUint64(b[8:], next)
	return b
}

func TestCorruptHeadGivesAUsableEmptyJournal(t *testing.T) {
	for _, tc := range []struct {
		name string
		head []byte
	}{
		{"wrong length", []byte("xx")},
		{"first after next", rawHead(2, 1)},
		// Trusted, it would size a slice past what can be allocated.
		{"range beyond memory", rawHead(0, 1<<62)},
		{"range just over the maximum", rawHead(5, 5+journal.MaxEntries+1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			mem := newMem()
			require.NoError(t, mem.Set(ctx, "journal.head", tc.head))
			require.NoError(t, mem.Set(ctx, "journal.5", []byte("stale")))

			j, entries, err := journal.Open(ctx, mem)
			require.ErrorIs(t, err, journal.ErrCorrupt)
			require.NotNil(t, j, "a corrupt journal is replaced, not fatal")
			assert.Empty(t, entries)
			assert.Equal(t, 0, j.Len())

			// The first write leaves a valid head, so the next start is clean.
			require.NoError(t, j.Append(ctx, []byte("a")))
			_, entries, err = journal.Open(ctx, mem)
			require.NoError(t, err)
			assert.Equal(t, [][]byte{[]byte("a")}, entries)
		})
	}
}

func TestCorruptHeadThenReplace(t *testing.T) {
	ctx := context.Background()
	mem := newMem()
	require.NoError(t, mem.Set(ctx, "journal.head", rawHead(0, 1<<62)))
	j, _, err := journal.Open(ctx, mem)
	require.ErrorIs(t, err, journal.ErrCorrupt)
	require.NoError(t, j.Replace(ctx, nil))
	_, entries, err := journal.Open(ctx, mem)
	require.NoError(t, err)
	assert.Empty(t, entries)
}

func TestStorageErrorIsNotCorruption(t *testing.T) {
	ctx := context.Background()
	mem := newMem()
	j, _, err := journal.Open(ctx, mem)
	require.NoError(t, err)
	require.NoError(t, j.Append(ctx, []byte("a")))

	mem.Fail = errors.New("disk gone")
	j, _, err = journal.Open(ctx, mem)
	require.Error(t, err)
	assert.NotErrorIs(t, err, journal.ErrCorrupt, "a failing disk must not be mistaken for a corrupt journal and wiped")
	assert.Nil(t, j)

	// The head reads but the entries do not.
	mem.Fail = nil
	_, _, err = journal.Open(ctx, &failEntries{MemClient: mem, err: errors.New("read error")})
	require.Error(t, err)
	assert.NotErrorIs(t, err, journal.ErrCorrupt)
}

// failEntries lets the head be read and fails every batch.
type failEntries struct {
	*journaltest.MemClient
	err error
}

func (f *failEntries) Batch(context.Context, ...*storage.Operation) error { return f.err }

// batchSizes records the size of every batch, to see how Open reads.
type batchSizes struct {
	*journaltest.MemClient
	sizes []int
}

func (b *batchSizes) Batch(ctx context.Context, ops ...*storage.Operation) error {
	b.sizes = append(b.sizes, len(ops))
	return b.MemClient.Batch(ctx, ops...)
}

func TestOpenReadsInChunks(t *testing.T) {
	ctx := context.Background()
	mem := newMem()
	j, _, err := journal.Open(ctx, mem)
	require.NoError(t, err)
	const n = 2500
	want := make([][]byte, n)
	for i := range want {
		want[i] = []byte(strconv.Itoa(i))
		require.NoError(t, j.Append(ctx, want[i]))
	}

	counting := &batchSizes{MemClient: mem}
	_, entries, err := journal.Open(ctx, counting)
	require.NoError(t, err)
	assert.Equal(t, want, entries, "every entry, in order, across chunks")
	require.NotEmpty(t, counting.sizes)
	for _, size := range counting.sizes {
		assert.LessOrEqual(t, size, 1024, "entries are read in bounded batches")
	}
}

func TestFullJournalRefusesAppend(t *testing.T) {
	ctx := context.Background()
	mem := newMem()
	// The largest live range Open accepts; the entries themselves are gone.
	require.NoError(t, mem.Set(ctx, "journal.head", rawHead(7, 7+journal.MaxEntries)))
	j, entries, err := journal.Open(ctx, mem)
	require.NoError(t, err)
	assert.Empty(t, entries)

	// Appending would write a head the next Open rejects as corrupt.
	require.ErrorIs(t, j.Append(ctx, []byte("a")), journal.ErrFull)
	require.NoError(t, j.Replace(ctx, []byte("s")))
	require.NoError(t, j.Append(ctx, []byte("a")))
	_, entries, err = journal.Open(ctx, mem)
	require.NoError(t, err)
	assert.Equal(t, [][]byte{[]byte("s"), []byte("a")}, entries)
}
