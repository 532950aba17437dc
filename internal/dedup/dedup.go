// Package dedup remembers the Ids of matching records for a time, so that
// the Management Activity API's repeated deliveries (it delivers at least
// once) count once.
package dedup // import "github.com/o365detect/o365detect/internal/dedup"

import (
	"strings"
	"sync"
	"time"
)

// Cache remembers Ids for a TTL. It is bounded: past its maximum the oldest
// Id is forgotten, which at worst counts a repeat as Splunk would. It is
// safe for concurrent use.
type Cache struct {
	mu     sync.Mutex
	ttl    time.Duration
	maxIDs int
	seen   map[string]time.Time
	order  []Entry // first-seen order; entries may be stale
}

// Entry is one remembered Id and when it was first seen.
type Entry struct {
	ID   string
	Seen time.Time
}

// New returns an empty cache that keeps at most maxIDs Ids for ttl each.
func New(ttl time.Duration, maxIDs int) *Cache {
	return &Cache{ttl: ttl, maxIDs: maxIDs, seen: make(map[string]time.Time)}
}

// FirstDelivery reports whether id was not seen within the TTL before now,
// and if so remembers it and returns the entry it keeps. The entry's Id is
// a copy: id is usually a substring of a record body, which it would
// otherwise keep alive for the TTL.
func (c *Cache) FirstDelivery(id string, now time.Time) (Entry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.expire(now)
	if t, ok := c.seen[id]; ok && now.Sub(t) < c.ttl {
		return Entry{}, false
	}
	e := Entry{ID: strings.Clone(id), Seen: now}
	c.remember(e)
	return e, true
}

// Restore remembers entries again, as after a restart, skipping those whose
// TTL has run out by now.
func (c *Cache) Restore(entries []Entry, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range entries {
		if now.Sub(e.Seen) < c.ttl {
			c.remember(e)
		}
	}
}

// Snapshot returns every remembered Id, for storage.
func (c *Cache) Snapshot() []Entry {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]Entry, 0, len(c.seen))
	for id, t := range c.seen {
		out = append(out, Entry{ID: id, Seen: t})
	}
	return out
}

// Len returns how many Ids are remembered.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.seen)
}

func (c *Cache) remember(e Entry) {
	for len(c.seen) >= c.maxIDs && len(c.order) > 0 {
		c.forgetOldest()
	}
	c.seen[e.ID] = e.Seen
	c.order = append(c.order, e)
}

func (c *Cache) expire(now time.Time) {
	for len(c.order) > 0 && now.Sub(c.order[0].Seen) >= c.ttl {
		c.forgetOldest()
	}
}

func (c *Cache) forgetOldest() {
	old := c.order[0]
	c.order = c.order[1:]
	// A later delivery may have refreshed the Id; only forget this one.
	if t, ok := c.seen[old.ID]; ok && t.Equal(old.Seen) {
		delete(c.seen, old.ID)
	}
	if len(c.order) == 0 {
		c.order = nil // let the backing array go
	}
}
