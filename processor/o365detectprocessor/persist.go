package o365detectprocessor // import "github.com/o365detect/o365detect/processor/o365detectprocessor"

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.uber.org/zap"

	"github.com/o365detect/o365detect/internal/aggregate"
	"github.com/o365detect/o365detect/internal/journal"
	"github.com/o365detect/o365detect/internal/rule"
)

// Persistence: with a storage extension configured, each batch's new counts
// are appended to a journal before ConsumeLogs returns, and after each
// emission the journal is compacted to the groups still open or in flight.
// A restart replays it. That is at-least-once: a crash between an accepted
// emission and the compaction replays rows already emitted, and never loses
// one.

// journalEntry is one journal record: groups to merge and Ids remembered.
type journalEntry struct {
	Groups []journalGroup `json:"g,omitempty"`
	IDs    []seenID       `json:"i,omitempty"`
}

type journalGroup struct {
	Key    [7]string `json:"k"`
	Count  int64     `json:"c"`
	First  int64     `json:"f"`
	Last   int64     `json:"l"`
	Opened int64     `json:"o"`
	// Partners are the group's distinct partner tenants.
	Partners []string `json:"p,omitempty"`
	// Resource is the group's resource in OTLP JSON, which keeps attribute
	// types exactly.
	Resource json.RawMessage `json:"r"`
}

// emptyResource stands in for a resource that cannot be journaled. It is
// the OTLP JSON of an empty resource, so the format stays one that older
// versions read.
var emptyResource = json.RawMessage(`{"resourceLogs":[{"resource":{}}]}`)

// resourceNestOpen and resourceNestClose are how an entry nests a group's
// resource (the "g" and "r" fields above). encoding/json limits nesting
// when it reads a whole entry but checks a json.RawMessage on its own when
// writing it, so a resource is checked where it will sit, or the entry
// could be written and never read back.
const resourceNestOpen, resourceNestClose = `{"g":[{"r":`, `}]}`

// encodeEntry encodes a journal entry. lost is how many groups are
// journaled with an empty resource because theirs could not be encoded;
// one odd resource must not keep a whole batch out of the journal.
func encodeEntry(groups []*aggregate.Group, ids []seenID) (b []byte, lost int, err error) {
	e := journalEntry{IDs: ids, Groups: make([]journalGroup, 0, len(groups))}
	// Groups opened by one batch share one resource copy: encode it once.
	type encodedResource struct {
		raw json.RawMessage
		ok  bool
	}
	encoded := make(map[pcommon.Resource]encodedResource)
	for _, g := range groups {
		res, seen := encoded[g.Resource]
		if !seen {
			res.raw, res.ok = encodeResource(g.Resource)
			encoded[g.Resource] = res
		}
		if !res.ok {
			lost++
		}
		k := g.Row
		e.Groups = append(e.Groups, journalGroup{
			Key:   [7]string{k.Dest, k.User, k.Src, k.VendorAccount, k.VendorProduct, k.Signature, k.SignatureID},
			Count: g.Count, First: g.First.UnixNano(), Last: g.Last.UnixNano(), Opened: g.Opened.UnixNano(),
			Partners: g.Partners, Resource: res.raw,
		})
	}
	b, err = json.Marshal(e)
	return b, lost, err
}

// encodeResource returns res in OTLP JSON, or emptyResource and false when
// that would not survive a round trip through the journal.
func encodeResource(res pcommon.Resource) (json.RawMessage, bool) {
	ld := plog.NewLogs()
	res.CopyTo(ld.ResourceLogs().AppendEmpty().Resource())
	b, err := (&plog.JSONMarshaler{}).MarshalLogs(ld)
	if err != nil || !validInEntry(b) {
		return emptyResource, false
	}
	return b, true
}

func validInEntry(res []byte) bool {
	nested := make([]byte, 0, len(resourceNestOpen)+len(res)+len(resourceNestClose))
	nested = append(append(append(nested, resourceNestOpen...), res...), resourceNestClose...)
	return json.Valid(nested)
}

// decodeEntry decodes a journal entry. lost is how many groups get an empty
// resource because theirs could not be decoded; the groups themselves are
// kept.
func decodeEntry(b []byte) (groups []*aggregate.Group, ids []seenID, lost int, err error) {
	var e journalEntry
	if err := json.Unmarshal(b, &e); err != nil {
		return nil, nil, 0, err
	}
	groups = make([]*aggregate.Group, 0, len(e.Groups))
	for _, jg := range e.Groups {
		res, ok := decodeResource(jg.Resource)
		if !ok {
			lost++
		}
		k := jg.Key
		g := &aggregate.Group{
			Rule: rule.ESCU, Row: rule.Row{Dest: k[0], User: k[1], Src: k[2], VendorAccount: k[3], VendorProduct: k[4], Signature: k[5], SignatureID: k[6]},
			Count: jg.Count, First: time.Unix(0, jg.First).UTC(), Last: time.Unix(0, jg.Last).UTC(), Opened: time.Unix(0, jg.Opened).UTC(),
			Resource: res,
			Partners: jg.Partners,
		}
		groups = append(groups, g)
	}
	return groups, e.IDs, lost, nil
}

// decodeResource reads a journaled resource; when it cannot, it returns an
// empty one and false.
func decodeResource(raw json.RawMessage) (pcommon.Resource, bool) {
	ld, err := (&plog.JSONUnmarshaler{}).UnmarshalLogs(raw)
	if err != nil || ld.ResourceLogs().Len() != 1 {
		return pcommon.NewResource(), false
	}
	return ld.ResourceLogs().At(0).Resource(), true
}

// openJournal connects to the configured storage extension and replays the
// journal into the aggregator and the de-duplication cache.
func (p *detectProcessor) openJournal(ctx context.Context, host component.Host) error {
	ext, ok := host.GetExtensions()[*p.cfg.Storage]
	if !ok {
		return fmt.Errorf("storage: extension %q not found", p.cfg.Storage.String())
	}
	se, ok := ext.(storage.Extension)
	if !ok {
		return fmt.Errorf("storage: extension %q is not a storage extension", p.cfg.Storage.String())
	}
	client, err := se.GetClient(ctx, component.KindProcessor, p.id, "")
	if err != nil {
		return fmt.Errorf("storage: %w", err)
	}
	j, entries, err := journal.Open(ctx, client)
	switch {
	case errors.Is(err, journal.ErrCorrupt):
		// Like an unreadable entry, a corrupt journal must not stop the
		// collector; Open has handed back an empty one to carry on with.
		p.logger.Error("the journal is corrupt and starts over empty; the open groups it held are lost", zap.Error(err))
		// A clean head now, so that an idle collector does not report the
		// same loss at every start. Failing here is harmless: the first
		// write does it too.
		if err := j.Replace(ctx, nil); err != nil {
			p.logger.Warn("could not reset the corrupt journal", zap.Error(err))
		}
	case err != nil:
		// The storage itself failed: the journal may be intact, and
		// starting over would lose it.
		_ = client.Close(ctx)
		return fmt.Errorf("storage: reading the journal: %w", err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.replay(entries)
	p.storage, p.journal = client, j
	return nil
}

// replay merges journal entries into the aggregator and the
// de-duplication cache. The caller holds p.mu.
func (p *detectProcessor) replay(entries [][]byte) {
	restored, lost := 0, 0
	for _, b := range entries {
		groups, ids, unread, err := decodeEntry(b)
		if err != nil {
			// A journal this version cannot read must not stop the
			// collector; the loss is reported.
			p.logger.Error("skipping an unreadable journal entry", zap.Error(err))
			continue
		}
		restored += len(groups)
		lost += unread
		p.agg.Merge(groups)
		if p.dedup != nil {
			p.dedup.restore(ids, p.now())
		}
	}
	if lost > 0 {
		p.logger.Warn("restored groups without their resource, which could not be read from the journal; their detections carry an empty resource",
			zap.Int("groups", lost))
	}
	if restored > 0 {
		p.logger.Info("restored open groups from storage", zap.Int("groups", p.agg.Len()))
	}
}

// journalGroups turns a batch's matches into count-1 groups for the journal.
func journalGroups(adds []pendingAdd, arrived time.Time) []*aggregate.Group {
	groups := make([]*aggregate.Group, len(adds))
	for i, a := range adds {
		g := &aggregate.Group{Rule: rule.ESCU, Row: a.row, Count: 1, First: a.eventTime, Last: a.eventTime, Opened: arrived, Resource: a.resource}
		if a.partner != "" {
			g.Partners = []string{a.partner}
		}
		groups[i] = g
	}
	return groups
}

// appendJournal records one batch. The caller holds p.mu.
func (p *detectProcessor) appendJournal(groups []*aggregate.Group, ids []seenID) {
	if p.journal == nil || (len(groups) == 0 && len(ids) == 0) {
		return
	}
	b, lost, err := encodeEntry(groups, ids)
	if err == nil {
		p.warnLostResources(lost)
		err = p.journal.Append(context.Background(), b)
	}
	if errors.Is(err, journal.ErrFull) {
		// Compaction makes room. It covers the open groups, which this
		// batch has not reached yet, so the entry still goes after it.
		p.compactJournal()
		err = p.journal.Append(context.Background(), b)
	}
	if err != nil {
		p.journalBehind = true
		p.logger.Error("could not journal matches; they are counted but would not survive a crash", zap.Error(err))
	}
}

// compactJournal rewrites the journal as the groups still open or in flight,
// and the remembered Ids. The caller holds p.mu.
func (p *detectProcessor) compactJournal() {
	if p.journal == nil {
		return
	}
	groups := p.agg.Groups()
	for _, inflight := range p.inflight {
		groups = append(groups, inflight...)
	}
	var ids []seenID
	if p.dedup != nil {
		ids = p.dedup.snapshot()
	}
	var b []byte
	if len(groups) > 0 || len(ids) > 0 {
		var err error
		var lost int
		if b, lost, err = encodeEntry(groups, ids); err != nil {
			p.journalBehind = true
			p.logger.Error("could not encode the journal", zap.Error(err))
			return
		}
		p.warnLostResources(lost)
	}
	if err := p.journal.Replace(context.Background(), b); err != nil {
		p.journalBehind = true
		p.logger.Error("could not compact the journal", zap.Error(err))
		return
	}
	p.journalBehind = false
}

// warnLostResources reports groups journaled without their resource: after
// a crash they would come back, but with an empty resource.
func (p *detectProcessor) warnLostResources(lost int) {
	if lost > 0 {
		p.logger.Warn("journaled groups without their resource, which could not be encoded; after a crash they are restored with an empty resource",
			zap.Int("groups", lost))
	}
}
