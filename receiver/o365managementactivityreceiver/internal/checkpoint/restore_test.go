package checkpoint

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.uber.org/zap/zapcore"
)

func TestRestoreGivesTheSameState(t *testing.T) {
	ctx := context.Background()
	client, c := newMem(), newClock()
	cfg := testConfig(c)
	s, _ := open(t, client, cfg)

	exchange := time.Date(2026, 7, 1, 11, 0, 0, 123456789, time.FixedZone("CEST", 2*3600))
	require.NoError(t, s.SetCursor(ctx, "Audit.Exchange", exchange))
	require.NoError(t, s.SetCursor(ctx, "Audit.General", t0.Add(-time.Hour)))
	require.NoError(t, s.SetCursor(ctx, "Audit.General", t0)) // the later one counts
	deliver(t, s, "Audit.Exchange", "blob-1", guids(0, 10), false)
	deliver(t, s, "Audit.Exchange", "blob-1", guids(10, 20), true)
	deliver(t, s, "Audit.General", "blob-2", []string{"not-a-guid", ""}, true)
	deliver(t, s, "Audit.General", "blob-3", guids(20, 25), false) // still being sent
	inFlight := guids(25, 30)
	s.Claim(nil, inFlight)
	want := s.Stats()

	// The old store is simply dropped, as a crash drops it.
	s2, logs := open(t, client, cfg)
	got, ok := s2.Cursor("Audit.Exchange")
	require.True(t, ok)
	assert.True(t, exchange.Equal(got), "cursor %v, want %v", got, exchange)
	assert.Equal(t, time.UTC, got.Location())
	got, ok = s2.Cursor("Audit.General")
	require.True(t, ok)
	assert.True(t, t0.Equal(got))
	_, ok = s2.Cursor("Audit.SharePoint")
	assert.False(t, ok)

	assert.True(t, s2.BlobDelivered("Audit.Exchange", "blob-1"))
	assert.True(t, s2.BlobDelivered("Audit.General", "blob-2"))
	assert.False(t, s2.BlobDelivered("Audit.General", "blob-3"), "a blob not done is fetched again")

	assert.Equal(t, repeat(false, 25), freshOf(s2, guids(0, 25)...))
	assert.Equal(t, []bool{false, true}, freshOf(s2, "not-a-guid", ""))
	assert.Equal(t, repeat(true, 5), freshOf(s2, inFlight...), "claims in flight at the crash are fresh again")

	want.Claimed = 0
	assert.Equal(t, want, s2.Stats())
	assert.Equal(t, 1, logs.FilterMessage("restored the checkpoint").Len())
	assert.Zero(t, logs.FilterLevelExact(zapcore.ErrorLevel).Len())

	// Restored state goes on being written: a third store sees both.
	deliver(t, s2, "Audit.General", "blob-3", guids(30, 31), true)
	s3, _ := open(t, client, cfg)
	assert.True(t, s3.BlobDelivered("Audit.General", "blob-3"))
	assert.Equal(t, repeat(false, 25), freshOf(s3, guids(0, 25)...))
	assert.Equal(t, []bool{false}, freshOf(s3, guid(30)))
}

func TestOpenWithoutCheckpoint(t *testing.T) {
	for name, client := range map[string]storage.Client{"memory only": nil, "empty storage": newMem()} {
		t.Run(name, func(t *testing.T) {
			s, _ := open(t, client, testConfig(newClock()))
			assert.Equal(t, Stats{}, s.Stats())
			_, ok := s.Cursor("Audit.Exchange")
			assert.False(t, ok)
			deliver(t, s, "Audit.Exchange", "blob-1", guids(0, 3), true)
			require.NoError(t, s.SetCursor(context.Background(), "Audit.Exchange", t0))
			require.NoError(t, s.Expire(context.Background()))
			assert.True(t, s.BlobDelivered("Audit.Exchange", "blob-1"))
			assert.Equal(t, []bool{false}, freshOf(s, guid(1)))
		})
	}
}

func TestOpenRejectsInvalidConfig(t *testing.T) {
	for name, cfg := range map[string]Config{
		"no retention":        {Dedup: true, MaxIDs: 10},
		"dedup without a max": {Dedup: true, Retention: week},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Open(context.Background(), newMem(), cfg, nil)
			assert.Error(t, err)
		})
	}
}

func TestOpenReturnsStorageErrors(t *testing.T) {
	client := newMem()
	s, _ := open(t, client, testConfig(newClock()))
	for i := range 600 { // more than one read chunk
		deliver(t, s, "Audit.Exchange", "blob", guids(i, i+1), false)
	}
	client.Fail = errors.New("disk gone")
	_, err := Open(context.Background(), client, testConfig(newClock()), nil)
	assert.ErrorIs(t, err, client.Fail)
}

func TestRestoreKeepsTheNewestMaxIDs(t *testing.T) {
	client, c := newMem(), newClock()
	cfg := testConfig(c)
	s, _ := open(t, client, cfg)
	deliver(t, s, "Audit.Exchange", "blob-1", guids(0, 10), true)
	c.Add(time.Second)
	deliver(t, s, "Audit.Exchange", "blob-2", guids(10, 20), true)
	c.Add(time.Second)
	deliver(t, s, "Audit.Exchange", "blob-3", guids(20, 30), true)

	cfg.MaxIDs = 15
	s2, _ := open(t, client, cfg)
	assert.Equal(t, Stats{IDs: 15, Blobs: 3, Evicted: 15}, s2.Stats())
	fresh := freshOf(s2, guids(0, 30)...)
	assert.Equal(t, repeat(true, 10), fresh[:10], "the oldest delivery's Ids are forgotten")
	assert.Equal(t, 5, countTrue(fresh[10:20]), "the middle one loses the rest")
	assert.Equal(t, repeat(false, 10), fresh[20:], "the newest is kept whole")
	assert.True(t, s2.BlobDelivered("Audit.Exchange", "blob-1"), "blobs outlive their evicted Ids")

	// The entries still hold every Id: a larger MaxIDs gets them back.
	cfg.MaxIDs = 100
	s3, _ := open(t, client, cfg)
	assert.Equal(t, Stats{IDs: 30, Blobs: 3}, s3.Stats())
}

// An Id forgotten early and delivered again is in two entries; the restore
// gives it to the newer one, so evicting the older does not forget it.
func TestRestoreAnIdStoredTwice(t *testing.T) {
	client, c := newMem(), newClock()
	cfg := testConfig(c)
	cfg.MaxIDs = 2
	s, _ := open(t, client, cfg)
	deliver(t, s, "Audit.Exchange", "blob-1", []string{guid(1), guid(2)}, true)
	deliver(t, s, "Audit.Exchange", "blob-2", []string{guid(3)}, true) // evicts guid(1)
	assert.Equal(t, []bool{true}, deliver(t, s, "Audit.Exchange", "blob-3", []string{guid(1)}, true))

	cfg.MaxIDs = 3
	s2, _ := open(t, client, cfg)
	assert.Equal(t, Stats{IDs: 3, Blobs: 3}, s2.Stats())
	deliver(t, s2, "Audit.Exchange", "blob-4", []string{guid(4)}, true) // evicts blob-1's guid(2)
	assert.Equal(t, []bool{false, true, false, false}, freshOf(s2, guid(1), guid(2), guid(3), guid(4)))
}

func TestCorruptCheckpointStartsEmpty(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		head    func(valid []byte) []byte
		message string
	}{
		{"garbage", func([]byte) []byte { return []byte("not a head") }, "the checkpoint is corrupt"},
		{"one byte", func([]byte) []byte { return []byte{formatVersion} }, "the checkpoint is corrupt"},
		{"flipped bit", func(v []byte) []byte { v[5] ^= 0x10; return v }, "the checkpoint is corrupt"},
		{"truncated", func(v []byte) []byte { return v[:len(v)-1] }, "the checkpoint is corrupt"},
		{"first after next", func([]byte) []byte { return encodeHead(5, 4) }, "the checkpoint is corrupt"},
		{"unknown version", func(v []byte) []byte {
			v[0] = 2
			return appendCRC(v[:len(v)-crcLen])
		}, "the checkpoint is in a format this version cannot read"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client := newMem()
			s, _ := open(t, client, testConfig(newClock()))
			require.NoError(t, s.SetCursor(ctx, "Audit.Exchange", t0))
			deliver(t, s, "Audit.Exchange", "blob-1", guids(0, 3), true)
			raw, err := client.Get(ctx, headKey)
			require.NoError(t, err)
			require.NoError(t, client.Set(ctx, headKey, tt.head(raw)))

			s2, logs := open(t, client, testConfig(newClock()))
			errs := logs.FilterLevelExact(zapcore.ErrorLevel).All()
			require.Len(t, errs, 1)
			assert.Contains(t, errs[0].Message, tt.message)
			assert.Equal(t, Stats{}, s2.Stats())
			_, ok := s2.Cursor("Audit.Exchange")
			assert.False(t, ok)
			assert.False(t, s2.BlobDelivered("Audit.Exchange", "blob-1"))

			// A clean head is written at once, so the next start is quiet,
			// and the old cursors are not picked up by it.
			first, next := storedHead(t, client)
			assert.Equal(t, [2]uint64{0, 0}, [2]uint64{first, next})
			s3, logs := open(t, client, testConfig(newClock()))
			assert.Zero(t, logs.FilterLevelExact(zapcore.ErrorLevel).Len())
			_, ok = s3.Cursor("Audit.Exchange")
			assert.False(t, ok)

			// It starts over from seq 0 and overwrites the old entries.
			deliver(t, s3, "Audit.Exchange", "blob-9", guids(10, 11), true)
			s4, _ := open(t, client, testConfig(newClock()))
			assert.Equal(t, Stats{IDs: 1, Blobs: 1}, s4.Stats())
			assert.True(t, s4.BlobDelivered("Audit.Exchange", "blob-9"))
		})
	}
}

func TestCorruptHeadResetFailureIsRetried(t *testing.T) {
	ctx := context.Background()
	client := newMem()
	require.NoError(t, client.Set(ctx, headKey, []byte("junk")))
	require.NoError(t, client.Set(ctx, cursorsKey, encodeCursors([]cursor{{"Audit.Exchange", t0}})))
	failing := &failAfter{MemClient: client, left: 1, err: errors.New("read-only")}
	s, logs := open(t, failing, testConfig(newClock()))
	assert.Equal(t, 1, logs.FilterMessage("could not reset the corrupt checkpoint; the next write does").Len())

	// The next write, even one of nothing, resets it.
	failing.setLeft(-1)
	require.NoError(t, s.Expire(ctx))
	s2, logs := open(t, client, testConfig(newClock()))
	assert.Zero(t, logs.FilterLevelExact(zapcore.ErrorLevel).Len())
	_, ok := s2.Cursor("Audit.Exchange")
	assert.False(t, ok, "the old cursors went with the reset")
}

func TestCorruptEntryIsSkipped(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name  string
		entry func(valid []byte) []byte
	}{
		{"garbage", func([]byte) []byte { return []byte{1, 2, 3} }},
		{"flipped bit", func(v []byte) []byte { v[len(v)/2] ^= 1; return v }},
		{"unknown version", func(v []byte) []byte { v[0] = 9; return appendCRC(v[:len(v)-crcLen]) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client := newMem()
			s, _ := open(t, client, testConfig(newClock()))
			for i := range 3 {
				deliver(t, s, "Audit.Exchange", guid(100+i), guids(i*10, i*10+10), true)
			}
			raw, err := client.Get(ctx, entryKey(1))
			require.NoError(t, err)
			require.NoError(t, client.Set(ctx, entryKey(1), tt.entry(raw)))

			s2, logs := open(t, client, testConfig(newClock()))
			errs := logs.FilterMessage("skipped corrupt checkpoint entries: the records and blobs they held may be delivered again").All()
			require.Len(t, errs, 1)
			assert.Equal(t, zapcore.ErrorLevel, errs[0].Level)
			assert.EqualValues(t, 1, errs[0].ContextMap()["entries"])
			assert.Equal(t, Stats{IDs: 20, Blobs: 2}, s2.Stats())
			assert.False(t, s2.BlobDelivered("Audit.Exchange", guid(101)))
			fresh := freshOf(s2, guids(0, 30)...)
			assert.Equal(t, append(append(repeat(false, 10), repeat(true, 10)...), repeat(false, 10)...), fresh)

			// The next write deletes it, so it is reported once.
			require.NoError(t, s2.Expire(ctx))
			assert.Equal(t, []uint64{0, 2}, storedEntries(t, client, 3))
			_, logs = open(t, client, testConfig(newClock()))
			assert.Zero(t, logs.FilterLevelExact(zapcore.ErrorLevel).Len())
		})
	}
}

func TestCorruptCursorsAreDropped(t *testing.T) {
	ctx := context.Background()
	client := newMem()
	s, _ := open(t, client, testConfig(newClock()))
	require.NoError(t, s.SetCursor(ctx, "Audit.Exchange", t0))
	deliver(t, s, "Audit.Exchange", "blob-1", guids(0, 3), true)
	require.NoError(t, client.Set(ctx, cursorsKey, []byte{1, 0xFF}))

	s2, logs := open(t, client, testConfig(newClock()))
	require.Equal(t, 1, logs.FilterLevelExact(zapcore.ErrorLevel).Len())
	assert.Contains(t, logs.FilterLevelExact(zapcore.ErrorLevel).All()[0].Message, "cursors are corrupt")
	_, ok := s2.Cursor("Audit.Exchange")
	assert.False(t, ok)
	assert.True(t, s2.BlobDelivered("Audit.Exchange", "blob-1"), "deliveries are kept")
	assert.Equal(t, 3, s2.Stats().IDs)

	require.NoError(t, s2.Expire(ctx)) // rewrites the cursors
	_, logs = open(t, client, testConfig(newClock()))
	assert.Zero(t, logs.FilterLevelExact(zapcore.ErrorLevel).Len())
}

func countTrue(bs []bool) int {
	n := 0
	for _, b := range bs {
		if b {
			n++
		}
	}
	return n
}
