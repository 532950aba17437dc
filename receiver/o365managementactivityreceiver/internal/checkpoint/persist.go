package checkpoint

import (
	"cmp"
	"context"
	"slices"

	"go.opentelemetry.io/collector/extension/xextension/storage"
)

// pendingEntry is an unsaved delivery as a write takes it from memory.
type pendingEntry struct {
	seq  uint64
	rec  record
	gone bool
}

// flush writes, in one storage batch, everything storage is behind on: the
// unsaved deliveries, the cursors if they changed, the entries a restore
// skipped, up to expireChunk expired entries, and the head. It reports whether expired entries are
// left to delete.
//
// Every caller's change is in memory before it calls flush, and flush takes
// what it writes from memory after acquiring wmu, so a caller whose change
// was carried by a concurrent flush finds nothing left and returns once
// that flush is done: either way, the change is stored before the caller
// returns.
func (s *Store) flush(ctx context.Context) (more bool, err error) {
	if s.client == nil {
		return false, nil
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()

	s.mu.Lock()
	pending := make([]pendingEntry, len(s.unsaved))
	for i, d := range s.unsaved {
		// The record is copied, and eviction only ever reslices a
		// delivery's Ids, so it can be encoded without holding mu.
		pending[i] = pendingEntry{seq: d.seq, rec: d.record, gone: d.gone}
	}
	var cursors []cursor
	if s.cursorsDirty {
		cursors = make([]cursor, 0, len(s.cursors))
		for ct, t := range s.cursors {
			cursors = append(cursors, cursor{ct, t})
		}
		s.cursorsDirty = false
	}
	liveFirst, next := s.liveFirstLocked(), s.next
	s.mu.Unlock()

	ops := make([]*storage.Operation, 0, len(pending)+len(s.doomed)+2+int(min(liveFirst-s.storedFirst, expireChunk)))
	for _, p := range pending {
		if p.gone {
			ops = append(ops, storage.DeleteOperation(entryKey(p.seq)))
		} else {
			ops = append(ops, storage.SetOperation(entryKey(p.seq), encodeEntry(p.rec)))
		}
	}
	if cursors != nil {
		// Sorted, so that the same cursors are always the same bytes.
		slices.SortFunc(cursors, func(a, b cursor) int { return cmp.Compare(a.contentType, b.contentType) })
		ops = append(ops, storage.SetOperation(cursorsKey, encodeCursors(cursors)))
	}
	for _, seq := range s.doomed {
		ops = append(ops, storage.DeleteOperation(entryKey(seq)))
	}
	first := s.storedFirst
	for ; first < liveFirst && first-s.storedFirst < expireChunk; first++ {
		ops = append(ops, storage.DeleteOperation(entryKey(first)))
	}
	if len(ops) == 0 && !s.headStale {
		return false, nil
	}
	ops = append(ops, storage.SetOperation(headKey, encodeHead(first, next)))
	err = s.client.Batch(ctx, ops...)

	s.mu.Lock()
	if err != nil {
		if cursors != nil {
			s.cursorsDirty = true
		}
	} else {
		// Only flush removes from unsaved, under wmu, so the ones written
		// are still its first len(pending).
		clear(s.unsaved[:len(pending)])
		s.unsaved = s.unsaved[len(pending):]
		if len(s.unsaved) == 0 {
			s.unsaved = nil
		}
	}
	s.mu.Unlock()
	if err != nil {
		return false, err
	}
	s.storedFirst, s.headStale, s.doomed = first, false, nil
	return first < liveFirst, nil
}
