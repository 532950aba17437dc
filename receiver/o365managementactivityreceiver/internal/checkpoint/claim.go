package checkpoint

import (
	"context"
	"strings"
	"sync"
)

// Claim reserves ids for a delivery and appends one flag per Id to dst
// (which lets the caller reuse a slice). fresh[i] is false when ids[i] was
// delivered before (and is still remembered), is claimed by a delivery
// still in flight (another blob being sent concurrently holding the same
// Id), or appears earlier in ids; otherwise ids[i] is now claimed, until
// Commit or Release. An empty Id is always fresh and never claimed. Claims
// live in memory only: after a crash nothing is claimed.
//
// The caller sends the records whose Id is fresh, then passes the same ids
// and flags to Commit when the next consumer accepted them, or to Release
// when it did not.
func (s *Store) Claim(dst []bool, ids []string) []bool {
	if !s.cfg.Dedup {
		for range ids {
			dst = append(dst, true)
		}
		return dst
	}
	// Hashing can cost more than the map lookups, so it is done before
	// taking the lock.
	buf := getKeys(len(ids))
	keys := *buf
	for i, id := range ids {
		if id != "" {
			keys[i] = keyOf(id)
		}
	}
	now := s.now()
	s.mu.Lock()
	s.expireLocked(now)
	for i, id := range ids {
		if id == "" {
			dst = append(dst, true)
			continue
		}
		k := keys[i]
		_, delivered := s.ids[k]
		_, inFlight := s.claimed[k]
		if delivered || inFlight {
			dst = append(dst, false)
			continue
		}
		s.claimed[k] = struct{}{}
		dst = append(dst, true)
	}
	s.mu.Unlock()
	putKeys(buf)
	return dst
}

// Release gives back the Ids of a Claim that were not delivered: the next
// consumer refused the batch, or the receiver is stopping. ids and fresh
// are what was passed to and returned by Claim.
func (s *Store) Release(ids []string, fresh []bool) {
	checkLengths(ids, fresh)
	if !s.cfg.Dedup {
		return
	}
	buf := getKeys(len(ids))
	keys := (*buf)[:0]
	for i, id := range ids {
		if fresh[i] && id != "" {
			keys = append(keys, keyOf(id))
		}
	}
	s.mu.Lock()
	for _, k := range keys {
		delete(s.claimed, k)
	}
	s.mu.Unlock()
	putKeys(buf)
}

// Commit records that the next consumer accepted a batch of one blob: the
// Ids whose flag is set (ids and fresh as passed to and returned by Claim)
// are delivered, and if blobDone so is the whole blob. The delivery is
// written to storage, in one batch, before Commit returns. When the write
// fails the delivery counts in memory all the same (the records were
// delivered; forgetting them would send them again), the error is
// returned, and the next write carries the delivery.
//
// A Commit with no fresh Id and blobDone false records nothing, but still
// writes whatever an earlier failed write left due.
func (s *Store) Commit(ctx context.Context, contentType, contentID string, ids []string, fresh []bool, blobDone bool) error {
	checkLengths(ids, fresh)
	var keys []idKey
	if s.cfg.Dedup {
		n := 0
		for i, id := range ids {
			if fresh[i] && id != "" {
				n++
			}
		}
		if n > 0 {
			// The delivery keeps this slice, so it is sized exactly.
			keys = make([]idKey, 0, n)
			for i, id := range ids {
				if fresh[i] && id != "" {
					keys = append(keys, keyOf(id))
				}
			}
		}
	}
	now := s.now()
	s.mu.Lock()
	s.expireLocked(now)
	kept := keys[:0]
	for _, k := range keys {
		delete(s.claimed, k)
		// Each Id belongs to one delivery, which eviction relies on. Only
		// a caller that committed an Id it did not claim gets here with
		// one already delivered.
		if _, dup := s.ids[k]; dup {
			continue
		}
		s.ids[k] = struct{}{}
		kept = append(kept, k)
	}
	if len(kept) > 0 || blobDone {
		if len(kept) == 0 {
			kept = nil
		}
		d := &delivery{seq: s.next, record: record{
			at:          now,
			contentType: strings.Clone(contentType),
			// contentID often points into a larger response buffer.
			contentID: strings.Clone(contentID),
			done:      blobDone,
			ids:       kept,
		}}
		s.next++
		s.deliveries = append(s.deliveries, d)
		if blobDone {
			s.blobs[blobKey{d.contentType, d.contentID}] = d.seq
		}
		if s.client != nil {
			s.unsaved = append(s.unsaved, d)
		}
		s.evictLocked()
	}
	s.mu.Unlock()
	_, err := s.flush(ctx)
	return err
}

// evictLocked forgets the oldest deliveries' Ids until at most MaxIDs are
// held. The deliveries themselves stay, for their blobs, until they
// expire; their entries in storage keep the Ids, so a restore with a
// larger MaxIDs gets them back.
func (s *Store) evictLocked() {
	for len(s.ids) > s.cfg.MaxIDs {
		d := s.deliveries[s.evictAt]
		if len(d.ids) == 0 {
			s.evictAt++
			continue
		}
		n := min(len(d.ids), len(s.ids)-s.cfg.MaxIDs)
		for _, k := range d.ids[:n] {
			delete(s.ids, k)
		}
		s.evicted += int64(n)
		d.ids = d.ids[n:]
		if len(d.ids) == 0 {
			d.ids = nil
			s.evictAt++
		}
	}
}

func checkLengths(ids []string, fresh []bool) {
	if len(ids) != len(fresh) {
		panic("checkpoint: ids and fresh differ in length")
	}
}

// keysPool holds scratch slices of keys, so that Claim and Release do not
// allocate per call.
var keysPool sync.Pool

func getKeys(n int) *[]idKey {
	if p, ok := keysPool.Get().(*[]idKey); ok && cap(*p) >= n {
		*p = (*p)[:n]
		return p
	}
	ks := make([]idKey, n)
	return &ks
}

func putKeys(p *[]idKey) {
	// A huge batch's slice is not worth keeping around.
	if cap(*p) <= 1<<14 {
		keysPool.Put(p)
	}
}
