package checkpoint

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.uber.org/zap"
)

// Config says what a Store remembers and for how long.
type Config struct {
	// Dedup enables remembering records' Ids. When false, Claim says every
	// Id is fresh and no Ids are kept; cursors and blobs still are.
	Dedup bool
	// MaxIDs is the most Ids held in memory. Beyond it the oldest
	// deliveries' Ids are forgotten before their retention ends (counted
	// in Stats.Evicted); a restore keeps the newest MaxIDs. It must be
	// positive when Dedup is set.
	MaxIDs int
	// Retention is how long a delivery (its blob and its Ids) is
	// remembered after it was committed. It should be at least as long as
	// the API keeps content (7 days), or a blob still listed could be
	// fetched again. It must be positive.
	Retention time.Duration
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

func (c Config) validate() error {
	if c.Retention <= 0 {
		return errors.New("checkpoint: retention must be positive")
	}
	if c.Dedup && c.MaxIDs <= 0 {
		return errors.New("checkpoint: max Ids must be positive when de-duplicating")
	}
	return nil
}

// Store is the receiver's checkpoint. All its methods are safe for
// concurrent use.
type Store struct {
	cfg    Config
	now    func() time.Time
	client storage.Client // nil: memory only
	logger *zap.Logger

	// wmu is held across each storage write, and the state a write carries
	// is taken from memory while holding it. The head names the range of
	// live entries, so two writes landing out of order could leave it
	// naming a range that ends before an entry already written; with wmu,
	// storage sees writes in the order their contents were decided. mu is
	// never held across storage I/O, so Claim, Release, BlobDelivered and
	// Cursor never wait for storage.
	wmu sync.Mutex
	// storedFirst is the first entry the stored head names. Guarded by wmu.
	storedFirst uint64
	// headStale forces the next write, even one with nothing else to
	// write, after a reset of a damaged checkpoint failed. Guarded by wmu.
	headStale bool
	// doomed are entries a restore skipped (damaged, or expired behind a
	// live one), for the next write to delete. Guarded by wmu.
	doomed []uint64

	mu      sync.Mutex
	ids     map[idKey]struct{} // delivered: each belongs to exactly one delivery's ids
	claimed map[idKey]struct{} // claimed by a delivery in flight
	blobs   map[blobKey]uint64 // delivered blobs, to the seq of the delivery that completed them
	// deliveries are the remembered deliveries in seq order, oldest first.
	deliveries []*delivery
	// evictAt indexes the oldest delivery that may still hold Ids: every
	// one before it has had its Ids evicted.
	evictAt int
	next    uint64 // seq of the next delivery
	cursors map[string]time.Time
	// cursorsDirty says the stored cursors are behind memory.
	cursorsDirty bool
	// unsaved are deliveries whose entry has not been written yet, in seq
	// order: the next write carries them.
	unsaved          []*delivery
	evicted, expired int64
}

// delivery is one Commit in memory.
type delivery struct {
	seq uint64
	record
	// gone says it expired; if it was never written, the next write
	// deletes its key instead, so that the head never names a key that
	// could hold something else.
	gone bool
}

type blobKey struct{ contentType, contentID string }

func newStore(client storage.Client, cfg Config, logger *zap.Logger) *Store {
	s := &Store{
		cfg:     cfg,
		now:     cfg.Now,
		client:  client,
		logger:  logger,
		ids:     make(map[idKey]struct{}),
		claimed: make(map[idKey]struct{}),
		blobs:   make(map[blobKey]uint64),
		cursors: make(map[string]time.Time),
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s
}

// Cursor returns the content type's cursor, in UTC, and whether it has
// one.
func (s *Store) Cursor(contentType string) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.cursors[contentType]
	return t, ok
}

// SetCursor sets the content type's cursor and writes it to storage before
// it returns. When the write fails the cursor is set in memory all the
// same and the error is returned; the next write carries it. The cursor
// is kept to the nanosecond, in UTC.
func (s *Store) SetCursor(ctx context.Context, contentType string, t time.Time) error {
	now := s.now()
	s.mu.Lock()
	s.expireLocked(now)
	if _, ok := s.cursors[contentType]; !ok {
		contentType = strings.Clone(contentType)
	}
	s.cursors[contentType] = t.Round(0).UTC()
	s.cursorsDirty = true
	s.mu.Unlock()
	_, err := s.flush(ctx)
	return err
}

// BlobDelivered reports whether the whole blob was delivered (committed
// with blobDone) within the retention.
func (s *Store) BlobDelivered(contentType, contentID string) bool {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expireLocked(now)
	_, ok := s.blobs[blobKey{contentType, contentID}]
	return ok
}

// Stats describes what a Store holds and what it forgot.
type Stats struct {
	// IDs and Blobs are the Ids and blobs remembered as delivered.
	IDs, Blobs int
	// Claimed is the Ids claimed by deliveries in flight.
	Claimed int
	// Unsaved is the deliveries committed in memory whose write to
	// storage failed and is still due.
	Unsaved int
	// Evicted counts Ids forgotten before their retention ended because
	// more than MaxIDs were held (at a restore too); Expired counts Ids
	// forgotten when their retention ended.
	Evicted, Expired int64
}

// Stats returns the store's current counts.
func (s *Store) Stats() Stats {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expireLocked(now)
	return Stats{
		IDs: len(s.ids), Blobs: len(s.blobs), Claimed: len(s.claimed), Unsaved: len(s.unsaved),
		Evicted: s.evicted, Expired: s.expired,
	}
}
