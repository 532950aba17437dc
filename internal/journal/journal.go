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

// Journal is not safe for concurrent use; its owner serializes calls.
type Journal struct {
	client storage.Client
	// Entries first..next-1 are live.
	first, next uint64
}

// Open reads the journal stored in client and returns it with its live
// entries, oldest first.
func Open(ctx context.Context, client storage.Client) (*Journal, [][]byte, error) {
	j := &Journal{client: client}
	head, err := client.Get(ctx, headKey)
	if err != nil {
		return nil, nil, err
	}
	if head == nil {
		return j, nil, nil
	}
	if len(head) != 16 {
		return nil, nil, fmt.Errorf("journal head is %d bytes, want 16", len(head))
	}
	j.first = binary.BigEndian.Uint64(head[:8])
	j.next = binary.BigEndian.Uint64(head[8:])
	if j.first > j.next {
		return nil, nil, errors.New("journal head is corrupt: first entry after next")
	}
	ops := make([]*storage.Operation, 0, j.next-j.first)
	for seq := j.first; seq < j.next; seq++ {
		ops = append(ops, storage.GetOperation(entryKey(seq)))
	}
	if len(ops) > 0 {
		if err := client.Batch(ctx, ops...); err != nil {
			return nil, nil, err
		}
	}
	entries := make([][]byte, 0, len(ops))
	for _, op := range ops {
		if op.Value != nil {
			entries = append(entries, op.Value)
		}
	}
	return j, entries, nil
}

// Append adds entry at the end of the log.
func (j *Journal) Append(ctx context.Context, entry []byte) error {
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
