// Package journal keeps an append-only log of opaque entries in a collector
// storage extension, so that state built from them survives a crash. The
// log is a run of numbered keys plus a small head key naming the run; every
// change to it is a single storage batch, so a crash leaves either the old
// run or the new one, never a mix.
package journal // import "github.com/o365detect/o365detect/internal/journal"

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"

	"go.opentelemetry.io/collector/extension/xextension/storage"
)

const headKey = "journal.head"

// MaxEntries bounds the live range. The owner compacts far more often than
// this many appends, and Append refuses past it, so a longer range is taken
// for a corrupt head: trusting it would mean an allocation or a read loop
// of any size.
const MaxEntries = 1 << 20

// readChunk is how many entries Open reads per storage batch, so that a long
// journal never needs one huge batch.
const readChunk = 1024

// ErrCorrupt is wrapped by Open's error when the stored head cannot be
// trusted; Open then also returns a usable, empty journal.
var ErrCorrupt = errors.New("journal is corrupt")

// ErrFull is returned by Append when the journal holds MaxEntries entries:
// a longer range would be rejected by the next Open. Replace (compaction)
// makes room.
var ErrFull = errors.New("journal is full")

// Journal is not safe for concurrent use; its owner serializes calls.
type Journal struct {
	client storage.Client
	// Entries first..next-1 are live.
	first, next uint64
}

// Open reads the journal stored in client and returns it with its live
// entries, oldest first. When the stored head is corrupt, the error wraps
// ErrCorrupt and the returned journal is empty and usable: its first write
// replaces the head. The old entries are then lost, which beats a collector
// that cannot start until its storage is wiped. Any other error is the
// storage's own, and no journal is returned.
func Open(ctx context.Context, client storage.Client) (*Journal, [][]byte, error) {
	raw, err := client.Get(ctx, headKey)
	if err != nil {
		return nil, nil, err
	}
	if raw == nil {
		return &Journal{client: client}, nil, nil
	}
	first, next, err := parseHead(raw)
	if err != nil {
		return &Journal{client: client}, nil, err
	}
	entries, err := readEntries(ctx, client, first, next)
	if err != nil {
		return nil, nil, err
	}
	return &Journal{client: client, first: first, next: next}, entries, nil
}

// parseHead decodes a head and checks that its range is one the journal
// could have written.
func parseHead(raw []byte) (first, next uint64, err error) {
	if len(raw) != 16 {
		return 0, 0, fmt.Errorf("%w: head is %d bytes, want 16", ErrCorrupt, len(raw))
	}
	first = binary.BigEndian.Uint64(raw[:8])
	next = binary.BigEndian.Uint64(raw[8:])
	if first > next {
		return 0, 0, fmt.Errorf("%w: head's first entry %d is after its next %d", ErrCorrupt, first, next)
	}
	if next-first > MaxEntries {
		return 0, 0, fmt.Errorf("%w: head names %d entries, at most %d are kept", ErrCorrupt, next-first, MaxEntries)
	}
	return first, next, nil
}

// readEntries reads entries first..next-1 in chunks, skipping missing ones.
func readEntries(ctx context.Context, client storage.Client, first, next uint64) ([][]byte, error) {
	var entries [][]byte
	ops := make([]*storage.Operation, 0, min(next-first, readChunk))
	for start := first; start < next; start += uint64(len(ops)) {
		ops = ops[:0]
		for seq := start; seq < next && len(ops) < readChunk; seq++ {
			ops = append(ops, storage.GetOperation(entryKey(seq)))
		}
		if err := client.Batch(ctx, ops...); err != nil {
			return nil, err
		}
		for _, op := range ops {
			if op.Value != nil {
				entries = append(entries, op.Value)
			}
		}
	}
	return entries, nil
}

// Append adds entry at the end of the log, or returns ErrFull.
func (j *Journal) Append(ctx context.Context, entry []byte) error {
	if j.next-j.first >= MaxEntries {
		return ErrFull
	}
	seq := j.next
	if err := j.client.Batch(ctx,
		storage.SetOperation(entryKey(seq), entry),
		storage.SetOperation(headKey, head(j.first, seq+1)),
	); err != nil {
		return err
	}
	j.next = seq + 1
	return nil
}

// Replace swaps the whole log for one entry (none when entry is nil): a
// compaction, written atomically.
func (j *Journal) Replace(ctx context.Context, entry []byte) error {
	ops := make([]*storage.Operation, 0, j.next-j.first+2)
	for seq := j.first; seq < j.next; seq++ {
		ops = append(ops, storage.DeleteOperation(entryKey(seq)))
	}
	first, next := j.next, j.next
	if entry != nil {
		ops = append(ops, storage.SetOperation(entryKey(next), entry))
		next++
	}
	ops = append(ops, storage.SetOperation(headKey, head(first, next)))
	if err := j.client.Batch(ctx, ops...); err != nil {
		return err
	}
	j.first, j.next = first, next
	return nil
}

// Len returns the number of live entries.
func (j *Journal) Len() int {
	return int(j.next - j.first)
}

func entryKey(seq uint64) string {
	return "journal." + strconv.FormatUint(seq, 10)
}

func head(first, next uint64) []byte {
	b := make([]byte, 16)
	binary.BigEndian.PutUint64(b[:8], first)
	binary.BigEndian.PutUint64(b[8:], next)
	return b
}
