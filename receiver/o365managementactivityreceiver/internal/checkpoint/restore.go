package checkpoint

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.uber.org/zap"
)

// readChunk is how many entries a restore reads per storage batch: few
// round trips, and never one huge batch.
const readChunk = 256

// Open restores the store from client, or starts it empty when client is
// nil (memory only) or holds no checkpoint. The store does not own client:
// the caller closes it after its last use of the store.
//
// A checkpoint that cannot be decoded does not stop the receiver, which
// would otherwise not start until its storage is wiped: a damaged head, or
// one in a format version this one does not know, is logged at error level
// and the store starts empty (and writes a clean head, so that the loss is
// not reported again at every start); a damaged entry is logged and
// skipped, losing only that delivery; damaged cursors are logged and
// dropped. The loss means repeats, never gaps. Only storage errors, and an
// invalid cfg, are returned.
func Open(ctx context.Context, client storage.Client, cfg Config, logger *zap.Logger) (*Store, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = zap.NewNop()
	}
	s := newStore(client, cfg, logger)
	if client == nil {
		return s, nil
	}
	head, curs := storage.GetOperation(headKey), storage.GetOperation(cursorsKey)
	if err := client.Batch(ctx, head, curs); err != nil {
		return nil, fmt.Errorf("checkpoint: reading the head: %w", err)
	}
	if head.Value == nil {
		// Every write stores the head, so there is no checkpoint.
		return s, nil
	}
	first, next, err := decodeHead(head.Value)
	if err != nil {
		msg := "the checkpoint is corrupt, and the receiver starts without it: blobs and records delivered before may be delivered again"
		if errors.Is(err, errVersion) {
			msg = "the checkpoint is in a format this version cannot read, and the receiver starts without it: blobs and records delivered before may be delivered again"
		}
		logger.Error(msg, zap.Error(err))
		s.reset(ctx)
		return s, nil
	}
	s.storedFirst, s.next = first, next
	if curs.Value != nil {
		cs, err := decodeCursors(curs.Value)
		if err != nil {
			logger.Error("the checkpoint's cursors are corrupt and are dropped: listing starts over from the configured start, skipping the blobs remembered as delivered", zap.Error(err))
			// Rewritten by the next write, so that this is reported once.
			s.cursorsDirty = true
		}
		for _, c := range cs {
			s.cursors[c.contentType] = c.t
		}
	}
	if err := s.restore(ctx, first, next); err != nil {
		return nil, fmt.Errorf("checkpoint: reading its entries: %w", err)
	}
	return s, nil
}

// reset makes the stored checkpoint a clean, empty one.
func (s *Store) reset(ctx context.Context) {
	s.headStale, s.cursorsDirty = true, true
	if _, err := s.flush(ctx); err != nil {
		s.logger.Warn("could not reset the corrupt checkpoint; the next write does", zap.Error(err))
	}
}

// restore reads entries first..next-1 into memory. It reads them newest
// first, so that when more than MaxIDs Ids are stored it keeps the newest,
// and so that an Id stored twice (forgotten early, then delivered again)
// belongs to its newest delivery.
func (s *Store) restore(ctx context.Context, first, next uint64) error {
	cutoff := s.now().Add(-s.cfg.Retention)
	var (
		newestFirst []*delivery
		skipped     []uint64 // entries not restored, to be deleted
		corrupt     int
		firstErr    error
	)
	ops := make([]*storage.Operation, 0, min(next-first, readChunk))
	for end := next; end > first; {
		start := first
		if end-first > readChunk {
			start = end - readChunk
		}
		ops = ops[:0]
		for seq := start; seq < end; seq++ {
			ops = append(ops, storage.GetOperation(entryKey(seq)))
		}
		if err := s.client.Batch(ctx, ops...); err != nil {
			return err
		}
		for i := len(ops) - 1; i >= 0; i-- {
			if ops[i].Value == nil {
				continue
			}
			seq := start + uint64(i)
			rec, err := decodeEntry(ops[i].Value)
			if err != nil {
				corrupt++
				if firstErr == nil {
					firstErr = fmt.Errorf("entry %d: %w", seq, err)
				}
				skipped = append(skipped, seq)
				continue
			}
			if !rec.at.After(cutoff) {
				if s.cfg.Dedup {
					s.expired += int64(len(rec.ids))
				}
				skipped = append(skipped, seq)
				continue
			}
			rec.ids = s.restoreIDs(rec.ids)
			if rec.done {
				bk := blobKey{rec.contentType, rec.contentID}
				if _, newer := s.blobs[bk]; !newer {
					s.blobs[bk] = seq
				}
			}
			newestFirst = append(newestFirst, &delivery{seq: seq, record: rec})
		}
		end = start
	}
	slices.Reverse(newestFirst)
	s.deliveries = newestFirst

	// Entries before the oldest restored one are deleted by the next writes
	// anyway; the others not restored are deleted by the next write, so
	// that a damaged one is reported once, not at every start.
	liveFirst := s.liveFirstLocked()
	for _, seq := range skipped {
		if seq >= liveFirst {
			s.doomed = append(s.doomed, seq)
		}
	}
	if corrupt > 0 {
		s.logger.Error("skipped corrupt checkpoint entries: the records and blobs they held may be delivered again",
			zap.Int("entries", corrupt), zap.Error(firstErr))
	}
	s.logger.Info("restored the checkpoint",
		zap.Int("cursors", len(s.cursors)), zap.Int("blobs", len(s.blobs)), zap.Int("ids", len(s.ids)),
		zap.Int64("ids_evicted", s.evicted))
	return nil
}

// restoreIDs remembers a restored delivery's Ids that no newer delivery
// holds, while fewer than MaxIDs are held, and returns the ones it kept.
func (s *Store) restoreIDs(ids []idKey) []idKey {
	if !s.cfg.Dedup {
		return nil
	}
	kept := ids[:0]
	for _, k := range ids {
		if _, dup := s.ids[k]; dup {
			continue
		}
		if len(s.ids) >= s.cfg.MaxIDs {
			s.evicted++
			continue
		}
		s.ids[k] = struct{}{}
		kept = append(kept, k)
	}
	switch {
	case len(kept) == 0:
		return nil
	case len(kept) < len(ids):
		return slices.Clone(kept) // let the longer array go
	}
	return kept
}
