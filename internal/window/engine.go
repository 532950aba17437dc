// Package window holds the detection's state between window ends: the open
// groups, the rows under suppression, the groups handed downstream and not
// yet settled, and the journal that lets them survive a crash. Its one lock
// guards all of it. Journal writes happen under it, so that the journal
// always covers the open groups; the next consumer is never called under
// it: the caller sends the emissions the engine hands over.
package window // import "github.com/o365detect/o365detect/internal/window"

import (
	"context"
	"sync"
	"time"

	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.uber.org/zap"

	"github.com/o365detect/o365detect/internal/aggregate"
	"github.com/o365detect/o365detect/internal/dedup"
	"github.com/o365detect/o365detect/internal/journal"
	"github.com/o365detect/o365detect/internal/rule"
)

// Options configures an Engine.
type Options struct {
	// MaxGroups bounds the open groups, the retried ones included, and the
	// rows under suppression.
	MaxGroups int
	// Suppression is how long a row emitted is held back before it is
	// emitted again; 0 turns suppression off.
	Suppression time.Duration
	// Dedup is the de-duplication cache journaled with the groups; nil
	// when de-duplication is off.
	Dedup *dedup.Cache
	// Now is the processing-time clock.
	Now func() time.Time
	// Logger reports journal failures and what a restore found.
	Logger *zap.Logger
}

// Hit is one match to count into its group.
type Hit struct {
	// Rule and Row key the hit's group.
	Rule *rule.Rule
	Row  rule.Row
	// EventTime is the record's _time, which moves firstTime and lastTime.
	EventTime time.Time
	// Partner is the partner tenant added or deleted; "" when unknown.
	Partner string
	// Resource is a copy of the record's resource that the engine may keep
	// and share between groups.
	Resource pcommon.Resource
}

// Emission is a set of groups handed downstream. Each one must be settled,
// once the next consumer has answered.
type Emission struct {
	id uint64
	// Groups are the groups to send, one detection record each.
	Groups []*aggregate.Group
}

// Outcome is what became of an emission.
type Outcome uint8

const (
	// Delivered means the next consumer took the detection records.
	Delivered Outcome = iota
	// Dropped means they are lost: refused for good, or at shutdown with
	// nothing to keep them.
	Dropped
	// Retry means they were refused and are tried again at the next window.
	Retry
)

// Engine is the detection's state between window ends. It is safe for
// concurrent use.
type Engine struct {
	opts Options

	mu  sync.Mutex
	agg *aggregate.Aggregator
	// pending holds the groups of emissions not yet settled, so that a
	// journal compaction meanwhile keeps them.
	pending     map[uint64][]*aggregate.Group
	lastEmitted uint64
	suppressed  suppression
	journal     *journal.Journal // nil without storage
	client      storage.Client   // nil without storage
	// journalBehind is set when a journal write failed, so that the journal
	// may lack open groups, and cleared by the next compaction that works.
	journalBehind bool
}

// New returns an engine with no open groups and no storage.
func New(opts Options) *Engine {
	return &Engine{
		opts:       opts,
		agg:        aggregate.New(),
		pending:    make(map[uint64][]*aggregate.Group),
		suppressed: suppression{rows: make(map[suppressedRow]time.Time), max: opts.MaxGroups},
	}
}

// Add counts a batch's hits into their groups, journaling them (and the
// Ids the batch remembered) first, so that the journal always covers the
// open groups. Reaching MaxGroups hands every open group over at once
// rather than dropping any: the emissions returned must be sent and
// settled.
func (e *Engine) Add(hits []Hit, ids []dedup.Entry, arrived time.Time) []Emission {
	if len(hits) == 0 && len(ids) == 0 {
		return nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.journal != nil {
		e.appendJournal(hits, ids, arrived)
	}
	var full []Emission
	for i := range hits {
		h := &hits[i]
		e.agg.Add(h.Rule, h.Row, h.EventTime, arrived, h.Resource, h.Partner)
		if e.agg.Len() >= e.opts.MaxGroups {
			full = append(full, e.handOver(e.agg.Drain()))
		}
	}
	return full
}

// EndWindow hands over every open group whose row is not under
// suppression; final hands over those too, as there is no later window.
// A non-empty emission returned must be sent and settled.
func (e *Engine) EndWindow(final bool) Emission {
	e.mu.Lock()
	defer e.mu.Unlock()
	groups := e.agg.Drain()
	if !final && e.opts.Suppression > 0 {
		var held []*aggregate.Group
		groups, held = e.suppressed.split(groups, e.opts.Now())
		e.agg.Merge(held)
	}
	em := e.handOver(groups)
	if len(em.Groups) == 0 && e.journal != nil && e.journal.Len() > 1 {
		// Only a settled emission compacts the journal, and there is none:
		// a tier that never emits journals Ids every batch, and held groups
		// may be all there is.
		e.compactJournal()
	}
	return em
}

// handOver registers groups as pending, so that a compaction keeps them
// until their emission is settled. The caller holds e.mu.
func (e *Engine) handOver(groups []*aggregate.Group) Emission {
	if len(groups) == 0 {
		return Emission{}
	}
	e.lastEmitted++
	if e.journal != nil {
		e.pending[e.lastEmitted] = groups
	}
	return Emission{id: e.lastEmitted, Groups: groups}
}

// Settle records what became of an emission. Delivered and dropped rows
// start their suppression; retried groups go back among the open ones,
// keeping at most MaxGroups open so that a long outage cannot grow memory
// without bound. It returns the retried groups that had no room and are
// lost. The journal is compacted to what is still open or pending.
func (e *Engine) Settle(em Emission, outcome Outcome) (lost []*aggregate.Group) {
	if len(em.Groups) == 0 {
		return nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.pending, em.id)
	groups := em.Groups
	if outcome == Retry {
		room := max(e.opts.MaxGroups-e.agg.Len(), 0)
		if len(groups) > room {
			groups, lost = groups[:room], groups[room:]
		}
		e.agg.Merge(groups)
	} else if e.opts.Suppression > 0 {
		e.suppressed.start(groups, e.opts.Now().Add(e.opts.Suppression))
	}
	e.compactJournal()
	return lost
}

// Journaled reports whether the journal holds every open group, so that
// what the next consumer refuses at shutdown survives to the restart.
func (e *Engine) Journaled() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.journaled()
}

func (e *Engine) journaled() bool {
	return e.journal != nil && !e.journalBehind
}

// OpenGroups returns how many groups are open.
func (e *Engine) OpenGroups() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.agg.Len()
}

// Close ends the engine's use of storage and closes the storage client.
// Open groups the journal holds are left to the restart: they leave memory,
// so that a batch arriving after Close cannot emit them a second time.
// Later calls keep counting and emitting, without a journal.
func (e *Engine) Close(ctx context.Context) error {
	e.mu.Lock()
	client := e.client
	if e.journaled() {
		e.agg.Drain()
	}
	e.journal, e.client = nil, nil
	e.mu.Unlock()
	if client == nil {
		return nil
	}
	return client.Close(ctx)
}
