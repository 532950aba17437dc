package o365detectprocessor // import "github.com/o365detect/o365detect/processor/o365detectprocessor"

import (
	"strings"
	"sync"
	"time"
)

// dedup remembers the Ids of matching records for a TTL, so that repeated
// deliveries by the Management Activity API (at least once) count once. It
// is bounded: past maxIDs the oldest Id is forgotten, which at worst counts
// a repeat as Splunk would.
type dedup struct {
	mu     sync.Mutex
	ttl    time.Duration
	maxIDs int
	seen   map[string]time.Time
	order  []seenID // first-seen order; entries may be stale
}

type seenID struct {
	ID   string `json:"id"`
	Seen int64  `json:"t"` // unix nanoseconds
}

func newDedup(cfg DedupConfig) *dedup {
	return &dedup{ttl: cfg.TTL, maxIDs: cfg.MaxIDs, seen: make(map[string]time.Time)}
}

// firstDelivery reports whether id was not seen within the TTL before now,
// and if so remembers it and returns the copy it keeps. The copy matters:
// id is usually a substring of a record body, which it would otherwise
// keep alive for the TTL.
func (d *dedup) firstDelivery(id string, now time.Time) (string, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.expire(now)
	if t, ok := d.seen[id]; ok && now.Sub(t) < d.ttl {
		return "", false
	}
	id = strings.Clone(id)
	d.remember(id, now)
	return id, true
}

// restore re-remembers Ids from the journal, skipping expired ones.
func (d *dedup) restore(ids []seenID, now time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, s := range ids {
		t := time.Unix(0, s.Seen)
		if now.Sub(t) < d.ttl {
			d.remember(s.ID, t)
		}
	}
}

// snapshot returns the remembered Ids for the journal.
func (d *dedup) snapshot() []seenID {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]seenID, 0, len(d.seen))
	for id, t := range d.seen {
		out = append(out, seenID{ID: id, Seen: t.UnixNano()})
	}
	return out
}

func (d *dedup) remember(id string, t time.Time) {
	for len(d.seen) >= d.maxIDs && len(d.order) > 0 {
		d.forgetOldest()
	}
	d.seen[id] = t
	d.order = append(d.order, seenID{ID: id, Seen: t.UnixNano()})
}

func (d *dedup) expire(now time.Time) {
	for len(d.order) > 0 && now.Sub(time.Unix(0, d.order[0].Seen)) >= d.ttl {
		d.forgetOldest()
	}
}

func (d *dedup) forgetOldest() {
	old := d.order[0]
	d.order = d.order[1:]
	// A later delivery may have refreshed the Id; only forget this one.
	if t, ok := d.seen[old.ID]; ok && t.UnixNano() == old.Seen {
		delete(d.seen, old.ID)
	}
	if len(d.order) == 0 {
		d.order = nil // let the backing array go
	}
}
