package o365managementactivityreceiver // import "github.com/o365detect/o365detect/receiver/o365managementactivityreceiver"

import "sync"

// blobProgress is what this process knows of a blob not yet delivered
// whole: how many of its records next accepted (a later fetch, in this poll
// or the next, skips them, so that they are not sent twice even with dedup
// off), and how many fetches found it malformed.
type blobProgress struct {
	sent      int
	malformed int
}

// progressMap holds the progress of the blobs in flight or held for a
// later poll, by blob id. A blob is worked on by one goroutine at a time:
// a poll delivers each listed blob once, and polls of one content type do
// not overlap.
type progressMap struct {
	mu sync.Mutex
	m  map[string]*blobProgress
}

// start returns the blob's progress, new or left by an earlier poll.
func (p *progressMap) start(id string) *blobProgress {
	p.mu.Lock()
	defer p.mu.Unlock()
	d, ok := p.m[id]
	if !ok {
		d = &blobProgress{}
		p.m[id] = d
	}
	return d
}

// invalid counts a fetch that found the blob malformed and returns how
// many have.
func (p *progressMap) invalid(id string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	d := p.m[id]
	d.malformed++
	return d.malformed
}

// done forgets a blob delivered or given up.
func (p *progressMap) done(id string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.m, id)
}
