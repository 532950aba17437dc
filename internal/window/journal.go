package window // import "github.com/o365detect/o365detect/internal/window"

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.uber.org/zap"

	"github.com/o365detect/o365detect/internal/aggregate"
	"github.com/o365detect/o365detect/internal/dedup"
	"github.com/o365detect/o365detect/internal/journal"
)

// With storage, each batch's new counts are appended to a journal before
// Add returns, and each settled emission compacts the journal to the groups
// still open or pending. A restart replays it. That is at-least-once: a
// crash between an accepted emission and the compaction replays rows
// already emitted, and never loses one.

// Restore reads the journal kept in client into the open groups and the
// de-duplication cache, and journals into client from then on. The engine
// owns client after a nil error, and Close closes it. A corrupt journal is
// reported and started over; a storage failure is returned.
func (e *Engine) Restore(ctx context.Context, client storage.Client) error {
	j, entries, err := journal.Open(ctx, client)
	switch {
	case errors.Is(err, journal.ErrCorrupt):
		// Like an unreadable entry, a corrupt journal must not stop the
		// collector; Open has handed back an empty one to carry on with.
		e.opts.Logger.Error("the journal is corrupt and starts over empty; the open groups it held are lost", zap.Error(err))
		// A clean head now, so that an idle collector does not report the
		// same loss at every start. Failing here is harmless: the first
		// write does it too.
		if err := j.Replace(ctx, nil); err != nil {
			e.opts.Logger.Warn("could not reset the corrupt journal", zap.Error(err))
		}
	case err != nil:
		// The storage itself failed: the journal may be intact, and
		// starting over would lose it.
		return fmt.Errorf("storage: reading the journal: %w", err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.replay(entries)
	e.journal, e.client = j, client
	return nil
}

// replay merges journal entries into the open groups and the
// de-duplication cache. The caller holds e.mu.
func (e *Engine) replay(entries [][]byte) {
	restored, resourcesLost, unknownRules := 0, 0, 0
	for _, b := range entries {
		d, err := decodeEntry(b)
		if err != nil {
			// A journal this version cannot read must not stop the
			// collector; the loss is reported.
			e.opts.Logger.Error("skipping an unreadable journal entry", zap.Error(err))
			continue
		}
		restored += len(d.groups)
		resourcesLost += d.resourcesLost
		unknownRules += d.unknownRules
		e.agg.Merge(d.groups)
		if e.opts.Dedup != nil {
			e.opts.Dedup.Restore(d.ids, e.opts.Now())
		}
	}
	if unknownRules > 0 {
		e.opts.Logger.Error("dropped journaled groups of rules this version does not have", zap.Int("groups", unknownRules))
	}
	if resourcesLost > 0 {
		e.opts.Logger.Warn("restored groups without their resource, which could not be read from the journal; their detections carry an empty resource",
			zap.Int("groups", resourcesLost))
	}
	if restored > 0 {
		e.opts.Logger.Info("restored open groups from storage", zap.Int("groups", e.agg.Len()))
	}
}

// appendJournal records one batch as count-1 groups. The caller holds e.mu.
func (e *Engine) appendJournal(hits []Hit, ids []dedup.Entry, arrived time.Time) {
	groups := make([]*aggregate.Group, len(hits))
	for i, h := range hits {
		g := &aggregate.Group{Rule: h.Rule, Row: h.Row, Count: 1, First: h.EventTime, Last: h.EventTime, Opened: arrived, Resource: h.Resource}
		if h.Partner != "" {
			g.Partners = []string{h.Partner}
		}
		groups[i] = g
	}
	b, lost, err := encodeEntry(groups, ids)
	if err == nil {
		e.warnLostResources(lost)
		err = e.journal.Append(context.Background(), b)
	}
	if errors.Is(err, journal.ErrFull) {
		// Compaction makes room. It covers the open groups, which this
		// batch has not reached yet, so the entry still goes after it.
		e.compactJournal()
		err = e.journal.Append(context.Background(), b)
	}
	if err != nil {
		e.journalBehind = true
		e.opts.Logger.Error("could not journal matches; they are counted but would not survive a crash", zap.Error(err))
	}
}

// compactJournal rewrites the journal as the groups still open or pending,
// and the remembered Ids. The caller holds e.mu.
func (e *Engine) compactJournal() {
	if e.journal == nil {
		return
	}
	groups := e.agg.Groups()
	for _, pending := range e.pending {
		groups = append(groups, pending...)
	}
	var ids []dedup.Entry
	if e.opts.Dedup != nil {
		ids = e.opts.Dedup.Snapshot()
	}
	var b []byte
	if len(groups) > 0 || len(ids) > 0 {
		var err error
		var lost int
		if b, lost, err = encodeEntry(groups, ids); err != nil {
			e.journalBehind = true
			e.opts.Logger.Error("could not encode the journal", zap.Error(err))
			return
		}
		e.warnLostResources(lost)
	}
	if err := e.journal.Replace(context.Background(), b); err != nil {
		e.journalBehind = true
		e.opts.Logger.Error("could not compact the journal", zap.Error(err))
		return
	}
	e.journalBehind = false
}

// warnLostResources reports groups journaled without their resource: after
// a crash they would come back, but with an empty resource.
func (e *Engine) warnLostResources(lost int) {
	if lost > 0 {
		e.opts.Logger.Warn("journaled groups without their resource, which could not be encoded; after a crash they are restored with an empty resource",
			zap.Int("groups", lost))
	}
}

// JournalEntries returns how many entries the journal holds, 0 without
// storage: compaction keeps it short, which tests check.
func (e *Engine) JournalEntries() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.journal == nil {
		return 0
	}
	return e.journal.Len()
}
