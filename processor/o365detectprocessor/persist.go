package o365detectprocessor // import "github.com/o365detect/o365detect/processor/o365detectprocessor"

import (
	"context"
	"encoding/json"
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

func encodeEntry(groups []*aggregate.Group, ids []seenID) ([]byte, error) {
	e := journalEntry{IDs: ids, Groups: make([]journalGroup, 0, len(groups))}
	// Groups opened by one batch share one resource copy: encode it once.
	encoded := make(map[pcommon.Resource]json.RawMessage)
	for _, g := range groups {
		res, ok := encoded[g.Resource]
		if !ok {
			ld := plog.NewLogs()
			g.Resource.CopyTo(ld.ResourceLogs().AppendEmpty().Resource())
			b, err := (&plog.JSONMarshaler{}).MarshalLogs(ld)
			if err != nil {
				return nil, err
			}
			res = b
			encoded[g.Resource] = res
		}
		k := g.Key
		e.Groups = append(e.Groups, journalGroup{
			Key:   [7]string{k.Dest, k.User, k.Src, k.VendorAccount, k.VendorProduct, k.Signature, k.SignatureID},
			Count: g.Count, First: g.First.UnixNano(), Last: g.Last.UnixNano(), Opened: g.Opened.UnixNano(),
			Partners: g.Partners, Resource: res,
		})
	}
	return json.Marshal(e)
}

func decodeEntry(b []byte) ([]*aggregate.Group, []seenID, error) {
	var e journalEntry
	if err := json.Unmarshal(b, &e); err != nil {
		return nil, nil, err
	}
	groups := make([]*aggregate.Group, 0, len(e.Groups))
	for _, jg := range e.Groups {
		ld, err := (&plog.JSONUnmarshaler{}).UnmarshalLogs(jg.Resource)
		if err != nil || ld.ResourceLogs().Len() != 1 {
			return nil, nil, fmt.Errorf("journaled resource: %w", err)
		}
		k := jg.Key
		g := &aggregate.Group{
			Key:   rule.Row{Dest: k[0], User: k[1], Src: k[2], VendorAccount: k[3], VendorProduct: k[4], Signature: k[5], SignatureID: k[6]},
			Count: jg.Count, First: time.Unix(0, jg.First).UTC(), Last: time.Unix(0, jg.Last).UTC(), Opened: time.Unix(0, jg.Opened).UTC(),
			Resource: ld.ResourceLogs().At(0).Resource(),
			Partners: jg.Partners,
		}
		groups = append(groups, g)
	}
	return groups, e.IDs, nil
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
	if err != nil {
		_ = client.Close(ctx)
		return fmt.Errorf("storage: reading the journal: %w", err)
	}
	restored := 0
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, b := range entries {
		groups, ids, err := decodeEntry(b)
		if err != nil {
			// A journal this version cannot read must not stop the
			// collector; the loss is reported.
			p.logger.Error("skipping an unreadable journal entry", zap.Error(err))
			continue
		}
		restored += len(groups)
		p.agg.Merge(groups)
		if p.dedup != nil {
			p.dedup.restore(ids, p.now())
		}
	}
	p.storage, p.journal = client, j
	if restored > 0 {
		p.logger.Info("restored open groups from storage", zap.Int("groups", p.agg.Len()))
	}
	return nil
}

// journalGroups turns a batch's matches into count-1 groups for the journal.
func journalGroups(adds []pendingAdd, arrived time.Time) []*aggregate.Group {
	groups := make([]*aggregate.Group, len(adds))
	for i, a := range adds {
		g := &aggregate.Group{Key: a.row, Count: 1, First: a.eventTime, Last: a.eventTime, Opened: arrived, Resource: a.resource}
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
	b, err := encodeEntry(groups, ids)
	if err == nil {
		err = p.journal.Append(context.Background(), b)
	}
	if err != nil {
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
		if b, err = encodeEntry(groups, ids); err != nil {
			p.logger.Error("could not encode the journal", zap.Error(err))
			return
		}
	}
	if err := p.journal.Replace(context.Background(), b); err != nil {
		p.logger.Error("could not compact the journal", zap.Error(err))
	}
}
