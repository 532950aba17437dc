package checkpoint

import (
	"context"
	"time"
)

// Expiry has two halves. In memory, every method that reads or changes
// what is remembered first drops the deliveries whose retention has ended;
// that costs one time comparison when none is due. In storage, each write
// also deletes up to expireChunk expired entries and advances the head
// past them, so a Commit costs O(batch) plus a bounded amount of expiry;
// Expire deletes everything due, for a receiver that stays idle.

// expireChunk is how many expired entries one write deletes.
const expireChunk = 256

// Expire forgets the deliveries whose retention has ended and deletes
// their entries from storage, in as many writes as that takes. The
// receiver calls it once per poll, so that storage shrinks even when
// nothing is committed.
func (s *Store) Expire(ctx context.Context) error {
	now := s.now()
	s.mu.Lock()
	s.expireLocked(now)
	s.mu.Unlock()
	for {
		more, err := s.flush(ctx)
		if err != nil || !more {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

// expireLocked drops the deliveries committed Retention or more before
// now. Deliveries are in commit order, so the expired ones are at the
// front; should the clock step back, a later delivery merely waits for
// the ones before it.
func (s *Store) expireLocked(now time.Time) {
	cutoff := now.Add(-s.cfg.Retention)
	n := 0
	for _, d := range s.deliveries {
		if d.at.After(cutoff) {
			break
		}
		for _, k := range d.ids {
			delete(s.ids, k)
		}
		s.expired += int64(len(d.ids))
		d.ids = nil
		if d.done {
			bk := blobKey{d.contentType, d.contentID}
			// A blob completed again later belongs to that delivery.
			if seq, ok := s.blobs[bk]; ok && seq == d.seq {
				delete(s.blobs, bk)
			}
		}
		d.gone = true
		n++
	}
	if n == 0 {
		return
	}
	clear(s.deliveries[:n])
	s.deliveries = s.deliveries[n:]
	if len(s.deliveries) == 0 {
		s.deliveries = nil // let the backing array go
	}
	s.evictAt = max(0, s.evictAt-n)
}

// liveFirstLocked returns the seq of the oldest delivery remembered: every
// entry before it may be deleted.
func (s *Store) liveFirstLocked() uint64 {
	if len(s.deliveries) > 0 {
		return s.deliveries[0].seq
	}
	return s.next
}
