package checkpoint

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite testdata/checkpoint_v1.json")

const goldenPath = "testdata/checkpoint_v1.json"

const goldenBlob = "20260701110000123000001$20260701110000123000001$audit_exchange$Audit_Exchange$emea0001"

var goldenIDs = []string{sampleGUID, strings.ToUpper(guid(2)), "not-a-guid"}

// writeGoldenScenario writes the checkpoint the golden file holds.
func writeGoldenScenario(t *testing.T) map[string]string {
	ctx := context.Background()
	client, c := newMem(), newClock()
	s, _ := open(t, client, testConfig(c))
	require.NoError(t, s.SetCursor(ctx, "Audit.Exchange", time.Date(2026, 7, 1, 11, 0, 0, 500_000_000, time.UTC)))
	require.NoError(t, s.SetCursor(ctx, "Audit.AzureActiveDirectory", time.Date(2026, 6, 30, 23, 59, 59, 0, time.UTC)))
	deliver(t, s, "Audit.Exchange", goldenBlob, goldenIDs, false)
	c.Add(time.Second)
	deliver(t, s, "Audit.Exchange", goldenBlob, []string{guid(3), "", guid(2)}, true)
	c.Add(time.Second)
	deliver(t, s, "Audit.AzureActiveDirectory", "blob-aad", nil, true)

	dump := map[string]string{}
	for _, key := range []string{headKey, cursorsKey, entryKey(0), entryKey(1), entryKey(2), entryKey(3)} {
		raw, err := client.Get(ctx, key)
		require.NoError(t, err)
		if raw != nil {
			dump[key] = hex.EncodeToString(raw)
		}
	}
	require.Len(t, dump, 5)
	require.Equal(t, 5, client.Len())
	return dump
}

// TestGoldenV1 reads a checkpoint written by version 1 of the format and
// checks that this version still writes exactly those bytes, so a change to
// the format cannot go unnoticed without a new version.
func TestGoldenV1(t *testing.T) {
	written := writeGoldenScenario(t)
	if *update {
		b, err := json.MarshalIndent(written, "", "\t")
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(goldenPath, append(b, '\n'), 0o644))
	}
	raw, err := os.ReadFile(filepath.FromSlash(goldenPath))
	require.NoError(t, err)
	var golden map[string]string
	require.NoError(t, json.Unmarshal(raw, &golden))
	assert.Equal(t, golden, written, "the encoding changed; a change needs a new format version")

	ctx := context.Background()
	client := newMem()
	for key, v := range golden {
		b, err := hex.DecodeString(v)
		require.NoError(t, err)
		require.NoError(t, client.Set(ctx, key, b))
	}

	t.Run("entry", func(t *testing.T) {
		b, err := client.Get(ctx, entryKey(0))
		require.NoError(t, err)
		rec, err := decodeEntry(b)
		require.NoError(t, err)
		assert.Equal(t, record{
			at:          t0,
			contentType: "Audit.Exchange",
			contentID:   goldenBlob,
			ids:         []idKey{sampleGUIDBytes, mustHex("00000002000040008000000000000002"), mustHex(goldenHashNotAGUID)},
		}, rec)
		b, err = client.Get(ctx, entryKey(2))
		require.NoError(t, err)
		rec, err = decodeEntry(b)
		require.NoError(t, err)
		assert.Equal(t, record{at: t0.Add(2 * time.Second), contentType: "Audit.AzureActiveDirectory", contentID: "blob-aad", done: true}, rec)
	})

	t.Run("store", func(t *testing.T) {
		c := newClock()
		c.Add(time.Hour)
		s, _ := open(t, client, testConfig(c))
		got, ok := s.Cursor("Audit.Exchange")
		require.True(t, ok)
		assert.Equal(t, time.Date(2026, 7, 1, 11, 0, 0, 500_000_000, time.UTC), got)
		got, ok = s.Cursor("Audit.AzureActiveDirectory")
		require.True(t, ok)
		assert.Equal(t, time.Date(2026, 6, 30, 23, 59, 59, 0, time.UTC), got)
		assert.True(t, s.BlobDelivered("Audit.Exchange", goldenBlob))
		assert.True(t, s.BlobDelivered("Audit.AzureActiveDirectory", "blob-aad"))
		assert.Equal(t, []bool{false, false, false, false, true, true},
			freshOf(s, sampleGUID, guid(2), "not-a-guid", guid(3), guid(4), "Not-a-guid"))
		assert.Equal(t, Stats{IDs: 4, Blobs: 2}, s.Stats())
	})
}

func TestFormatRoundTrip(t *testing.T) {
	times := []time.Time{
		t0,
		{},
		time.Unix(0, 0).UTC(),
		time.Date(1600, 1, 1, 0, 0, 0, 1, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999_999_999, time.UTC),
	}
	for _, at := range times {
		for _, rec := range []record{
			{at: at},
			{at: at, contentType: "Audit.General", contentID: strings.Repeat("c", 1000), done: true,
				ids: []idKey{sampleGUIDBytes, keyOf("x")}},
		} {
			got, err := decodeEntry(encodeEntry(rec))
			require.NoError(t, err)
			assert.Equal(t, rec, got)
		}
		cs := []cursor{{"Audit.Exchange", at}, {"", at}}
		got, err := decodeCursors(encodeCursors(cs))
		require.NoError(t, err)
		assert.Equal(t, cs, got)
	}
	got, err := decodeCursors(encodeCursors(nil))
	require.NoError(t, err)
	assert.Empty(t, got)
	first, next, err := decodeHead(encodeHead(7, 1<<40))
	require.NoError(t, err)
	assert.Equal(t, [2]uint64{7, 1 << 40}, [2]uint64{first, next})
}

// Every single-bit flip and every truncation of a stored value is caught.
func TestDecodeRejectsDamage(t *testing.T) {
	values := map[string]struct {
		b      []byte
		decode func([]byte) error
	}{
		"head": {encodeHead(3, 9), func(b []byte) error { _, _, err := decodeHead(b); return err }},
		"cursors": {encodeCursors([]cursor{{"Audit.Exchange", t0}}), func(b []byte) error {
			_, err := decodeCursors(b)
			return err
		}},
		"entry": {encodeEntry(record{at: t0, contentType: "Audit.Exchange", contentID: "blob", done: true, ids: []idKey{sampleGUIDBytes}}),
			func(b []byte) error { _, err := decodeEntry(b); return err }},
	}
	for name, v := range values {
		t.Run(name, func(t *testing.T) {
			require.NoError(t, v.decode(v.b))
			for i := range v.b {
				for bit := range 8 {
					b := append([]byte(nil), v.b...)
					b[i] ^= 1 << bit
					assert.ErrorIs(t, v.decode(b), errCorrupt, "byte %d bit %d", i, bit)
				}
			}
			for n := range len(v.b) {
				assert.ErrorIs(t, v.decode(v.b[:n]), errCorrupt, "%d bytes", n)
			}
		})
	}
}

// Values whose checksum holds but whose content cannot be right.
func TestDecodeRejectsBadStructure(t *testing.T) {
	entry := func(parts ...[]byte) []byte {
		b := []byte{formatVersion}
		for _, p := range parts {
			b = append(b, p...)
		}
		return appendCRC(b)
	}
	at := appendTime(nil, t0)
	str := func(s string) []byte { return appendString(nil, s) }
	uv := func(n uint64) []byte { return binary.AppendUvarint(nil, n) }
	tests := map[string][]byte{
		"unknown flag":        entry([]byte{2}, at, str("t"), str("b"), uv(0)),
		"nanoseconds too big": entry([]byte{0}, binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint64(nil, 1), 1e9), str("t"), str("b"), uv(0)),
		"string too long":     entry([]byte{0}, at, uv(1<<20), str("b"), uv(0)),
		"string past the end": entry([]byte{0}, at, uv(5), []byte("ab")),
		"too many Ids":        entry([]byte{0}, at, str("t"), str("b"), uv(2), sampleGUIDBytes[:]),
		"huge count":          entry([]byte{0}, at, str("t"), str("b"), uv(1<<62)),
		"bad varint":          entry([]byte{0}, at, []byte{0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}),
		"trailing bytes":      entry([]byte{0}, at, str("t"), str("b"), uv(0), []byte{0}),
		"no body":             entry(),
	}
	for name, b := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := decodeEntry(b)
			assert.ErrorIs(t, err, errCorrupt)
		})
	}
	_, err := decodeCursors(appendCRC([]byte{formatVersion, 3}))
	assert.ErrorIs(t, err, errCorrupt, "cursors: count past the end")
	_, _, err = decodeHead(appendCRC([]byte{formatVersion, 1, 2, 3}))
	assert.ErrorIs(t, err, errCorrupt, "head: short")
}

func TestDecodeRejectsOtherVersions(t *testing.T) {
	for _, b := range [][]byte{
		encodeHead(0, 1),
		encodeCursors(nil),
		encodeEntry(record{at: t0, done: true}),
	} {
		b[0] = formatVersion + 1
		b = appendCRC(b[:len(b)-crcLen])
		_, errEntry := decodeEntry(b)
		_, errCursors := decodeCursors(b)
		_, _, errHead := decodeHead(b)
		for _, err := range []error{errEntry, errCursors, errHead} {
			assert.ErrorIs(t, err, errVersion)
			assert.NotErrorIs(t, err, errCorrupt)
		}
	}
}
