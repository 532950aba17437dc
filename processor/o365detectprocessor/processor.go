package o365detectprocessor // import "github.com/o365detect/o365detect/processor/o365detectprocessor"

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/o365detect/o365detect/internal/aggregate"
	"github.com/o365detect/o365detect/internal/journal"
	"github.com/o365detect/o365detect/internal/output"
	"github.com/o365detect/o365detect/internal/record"
	"github.com/o365detect/o365detect/internal/rule"
	"github.com/o365detect/o365detect/processor/o365detectprocessor/internal/metadata"
)

// detectProcessor tags matching records as they pass and emits one detection
// record per group at the end of each window.
type detectProcessor struct {
	id        component.ID
	cfg       *Config
	logger    *zap.Logger
	telemetry *metadata.TelemetryBuilder
	next      consumer.Logs
	reader    *record.Reader
	profile   output.Profile
	allow     *allowlist
	dedup     *dedup // nil unless enabled
	// The sources read.
	managementActivity bool
	entra              bool

	// now and newTicker are replaced in tests to control time.
	now       func() time.Time
	newTicker func(time.Duration) (<-chan time.Time, func())

	mu  sync.Mutex // guards agg, inflight and journal; never held while calling next
	agg *aggregate.Aggregator
	// inflight holds groups handed to next and not yet settled, so that a
	// journal compaction meanwhile keeps them.
	inflight map[uint64][]*aggregate.Group
	// suppressed maps rows to the end of their suppression period.
	suppressed map[rule.Row]time.Time
	flightSeq  uint64
	storage    storage.Client   // nil without a storage extension
	journal    *journal.Journal // nil without a storage extension

	cancel   context.CancelFunc
	wg       sync.WaitGroup
	shutdown sync.Once
	// stopping is set once the final flush begins: there is no next window
	// to retry in after it.
	stopping atomic.Bool
}

func newProcessor(set processor.Settings, cfg *Config, next consumer.Logs) (*detectProcessor, error) {
	profile, err := output.New(cfg.Profile, output.Options{
		RiskScore: cfg.RiskScore,
		Splunk:    output.SplunkOptions{Index: cfg.Splunk.Index, Source: cfg.Splunk.Source, Sourcetype: cfg.Splunk.Sourcetype},
	})
	if err != nil {
		return nil, err
	}
	tb, err := metadata.NewTelemetryBuilder(set.TelemetrySettings)
	if err != nil {
		return nil, err
	}
	p := &detectProcessor{
		id:         set.ID,
		cfg:        cfg,
		logger:     set.Logger,
		telemetry:  tb,
		next:       next,
		reader:     record.NewReader(cfg.SignatureIDField),
		profile:    profile,
		allow:      newAllowlist(cfg.Allowlist, cfg.AllowlistPresets, set.Logger),
		now:        time.Now,
		newTicker:  realTicker,
		agg:        aggregate.New(),
		inflight:   make(map[uint64][]*aggregate.Group),
		suppressed: make(map[rule.Row]time.Time),
	}
	if cfg.Dedup.Enabled {
		p.dedup = newDedup(cfg.Dedup)
	}
	p.managementActivity = slices.Contains(cfg.Sources, SourceManagementActivity)
	p.entra = slices.Contains(cfg.Sources, SourceEntraID)
	err = tb.RegisterProcessorO365DetectGroupsOpenCallback(func(_ context.Context, o metric.Int64Observer) error {
		p.mu.Lock()
		n := p.agg.Len()
		p.mu.Unlock()
		o.Observe(int64(n))
		return nil
	})
	if err != nil {
		tb.Shutdown()
		return nil, err
	}
	return p, nil
}

func realTicker(d time.Duration) (<-chan time.Time, func()) {
	t := time.NewTicker(d)
	return t.C, t.Stop
}

// Capabilities reports that input records are modified: matches are tagged.
func (p *detectProcessor) Capabilities() consumer.Capabilities {
	return consumer.Capabilities{MutatesData: true}
}

// Start replays the journal, if any, and begins the window ticker. The
// ticker's context is the processor's own, not Start's, which is only valid
// during Start.
func (p *detectProcessor) Start(startCtx context.Context, host component.Host) error {
	if p.cfg.Storage != nil {
		if err := p.openJournal(startCtx, host); err != nil {
			return err
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	p.cancel = cancel
	tick, stop := p.newTicker(p.cfg.Window)
	p.wg.Go(func() {
		defer stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick:
				// Background, not ctx: an emission under way when Shutdown
				// cancels ctx must not fail for that reason.
				_ = p.flush(context.Background())
			}
		}
	})
	return nil
}

// Shutdown stops the ticker and emits every open group. Downstream is still
// running at this point, so nothing is lost on a clean stop. It is safe
// without Start and when called again.
func (p *detectProcessor) Shutdown(context.Context) error {
	var err error
	p.shutdown.Do(func() {
		if p.cancel != nil {
			p.cancel()
			p.wg.Wait()
		}
		p.stopping.Store(true)
		err = p.flush(context.Background())
		if p.storage != nil {
			err = errors.Join(err, p.storage.Close(context.Background()))
		}
		p.telemetry.Shutdown()
	})
	return err
}

// batch collects one ConsumeLogs call's outcomes, so that the shared state
// is locked (and journaled) once per batch, not once per record.
type batch struct {
	arrived time.Time
	counts  batchCounts
	rec     record.Record
	entra   []record.EntraRecord  // reused across the batch's records
	groups  *aggregate.Aggregator // created on the first match
	ids     []seenID              // Ids remembered for de-duplication
}

// ConsumeLogs inspects every record, tags the matches and counts them into
// their groups, and forwards the records that the passthrough mode keeps.
// The next consumer's error is returned so that upstream retries and queues
// do their part.
func (p *detectProcessor) ConsumeLogs(ctx context.Context, ld plog.Logs) error {
	b := batch{arrived: p.now()}
	rls := ld.ResourceLogs()

	if p.cfg.Passthrough == PassthroughAll {
		for i := 0; i < rls.Len(); i++ {
			rl := rls.At(i)
			sls := rl.ScopeLogs()
			for j := 0; j < sls.Len(); j++ {
				lrs := sls.At(j).LogRecords()
				for k := 0; k < lrs.Len(); k++ {
					p.inspect(&b, rl.Resource(), lrs.At(k))
				}
			}
		}
	} else {
		keepMatches := p.cfg.Passthrough == PassthroughMatched
		rls.RemoveIf(func(rl plog.ResourceLogs) bool {
			rl.ScopeLogs().RemoveIf(func(sl plog.ScopeLogs) bool {
				sl.LogRecords().RemoveIf(func(lr plog.LogRecord) bool {
					return !(p.inspect(&b, rl.Resource(), lr) && keepMatches)
				})
				return sl.LogRecords().Len() == 0
			})
			return rl.ScopeLogs().Len() == 0
		})
	}

	b.counts.record(ctx, p.telemetry)
	p.commit(ctx, &b)
	if rls.Len() == 0 && p.cfg.Passthrough != PassthroughAll {
		return nil
	}
	return p.next.ConsumeLogs(ctx, ld)
}

// hit is one matching audit record found in a log record, from either
// source.
type hit struct {
	row       rule.Row
	partner   string
	eventTime time.Time
	id        string   // the record's id, for de-duplication
	appIDs    []string // ids the actor may be known by, for app allowlisting
}

// inspect runs the detection on one log record and reports whether it held
// a match that was neither allowlisted nor a repeated delivery. Matches are
// tagged and counted into the batch.
func (p *detectProcessor) inspect(b *batch, res pcommon.Resource, lr plog.LogRecord) bool {
	rec := &b.rec
	status := record.Skipped
	if p.managementActivity {
		status = p.reader.Read(lr, rec)
	}
	switch status {
	case record.Invalid:
		p.invalid(b, lr)
		return false
	case record.Decoded:
		if rule.Match(rec) {
			h := hit{
				row:       rule.NewRow(rec),
				partner:   rule.PartnerTenant(rec),
				eventTime: eventTime(rec.CreationTime.Str(), lr, b.arrived),
				id:        rec.ID.Str(),
				appIDs:    rec.ActorIDs,
			}
			return p.accept(b, res, lr, &h, false)
		}
	}
	if !p.entra {
		return false
	}
	b.entra, status = p.reader.ReadEntra(lr, b.entra[:0], status == record.Skipped && p.managementActivity)
	if status == record.Invalid {
		p.invalid(b, lr)
		return false
	}
	// A body holding several records is tagged with its first kept match;
	// every match counts into its own group.
	tagged := false
	for i := range b.entra {
		e := &b.entra[i]
		if !rule.MatchEntra(e) {
			continue
		}
		h := hit{
			row:       rule.NewEntraRow(e, p.cfg.SignatureIDField != ""),
			partner:   rule.EntraPartnerTenant(e),
			eventTime: eventTime(e.Time, lr, b.arrived),
			id:        e.ID,
			appIDs:    []string{e.AppID},
		}
		if p.accept(b, res, lr, &h, tagged) {
			tagged = true
		}
	}
	return tagged
}

func (p *detectProcessor) invalid(b *batch, lr plog.LogRecord) {
	b.counts.invalid++
	if ce := p.logger.Check(zap.DebugLevel, "record looked like a cross-tenant access change but is not valid JSON; passed through untouched"); ce != nil {
		ce.Write(zap.Int("body_bytes", len(lr.Body().AsString())))
	}
}

// accept applies the filter macro's tuning and de-duplication to a hit, then
// tags the record (unless an earlier hit in it did) and counts the hit.
func (p *detectProcessor) accept(b *batch, res pcommon.Resource, lr plog.LogRecord, h *hit, tagged bool) bool {
	if p.allow.allows(subject{user: h.row.User, partner: h.partner, appIDs: h.appIDs}, b.arrived) {
		b.counts.allowlisted++
		return false
	}
	if p.dedup != nil && h.id != "" {
		if !p.dedup.firstDelivery(h.id, b.arrived) {
			b.counts.duplicates++
			return false
		}
		b.ids = append(b.ids, seenID{ID: strings.Clone(h.id), Seen: b.arrived.UnixNano()})
	}
	b.counts.matched++
	if !tagged {
		m := output.Match{Row: h.row, Partner: h.partner, EventTime: h.eventTime}
		p.profile.Tag(lr.Attributes(), &m)
	}
	if !p.cfg.EmitDetections {
		return true
	}
	if b.groups == nil {
		b.groups = aggregate.New()
	}
	b.groups.Add(h.row, h.eventTime, b.arrived, res, h.partner)
	return true
}

// eventTime is the record's _time: its own time (CreationTime or
// activityDateTime), else the log record's Timestamp, else its
// ObservedTimestamp, else the arrival time.
func eventTime(recordTime string, lr plog.LogRecord, arrived time.Time) time.Time {
	if t, ok := rule.ParseCreationTime(recordTime); ok {
		return t
	}
	if ts := lr.Timestamp(); ts != 0 {
		return ts.AsTime()
	}
	if ts := lr.ObservedTimestamp(); ts != 0 {
		return ts.AsTime()
	}
	return arrived
}

// commit merges a batch's groups into the open ones and journals them
// before ConsumeLogs returns. Reaching max_groups emits every open group at
// once rather than dropping any.
func (p *detectProcessor) commit(ctx context.Context, b *batch) {
	if b.groups == nil && len(b.ids) == 0 {
		return
	}
	var groups []*aggregate.Group
	if b.groups != nil {
		groups = b.groups.Drain()
	}
	p.mu.Lock()
	p.appendJournal(groups, b.ids)
	p.agg.Merge(groups)
	var full []*aggregate.Group
	if p.agg.Len() >= p.cfg.MaxGroups {
		full = p.agg.Drain()
	}
	p.mu.Unlock()
	if full != nil {
		_ = p.emit(ctx, full)
	}
}

// flush emits every open group: the end of a window.
func (p *detectProcessor) flush(ctx context.Context) error {
	p.mu.Lock()
	groups := p.agg.Drain()
	if p.cfg.Suppression > 0 && !p.stopping.Load() {
		groups = p.holdSuppressed(groups)
	}
	p.mu.Unlock()
	return p.emit(ctx, groups)
}

// holdSuppressed keeps back the groups whose row was emitted less than the
// suppression period ago: they stay open and keep counting until the first
// window end after the period. The caller holds p.mu.
func (p *detectProcessor) holdSuppressed(groups []*aggregate.Group) []*aggregate.Group {
	now := p.now()
	for row, until := range p.suppressed {
		if !now.Before(until) {
			delete(p.suppressed, row)
		}
	}
	out := groups[:0]
	var held []*aggregate.Group
	for _, g := range groups {
		if _, ok := p.suppressed[g.Key]; ok {
			held = append(held, g)
			continue
		}
		out = append(out, g)
	}
	p.agg.Merge(held)
	return out
}

// suppress starts the suppression period of rows just emitted. The map is
// bounded by max_groups; past it a row is simply not suppressed, which errs
// towards more detection records, never fewer. The caller holds p.mu.
func (p *detectProcessor) suppress(groups []*aggregate.Group) {
	if p.cfg.Suppression <= 0 {
		return
	}
	until := p.now().Add(p.cfg.Suppression)
	for _, g := range groups {
		if len(p.suppressed) >= p.cfg.MaxGroups {
			return
		}
		p.suppressed[g.Key] = until
	}
}
