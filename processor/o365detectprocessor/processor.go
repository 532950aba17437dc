package o365detectprocessor // import "github.com/o365detect/o365detect/processor/o365detectprocessor"

import (
	"context"
	"errors"
	"slices"
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
	// journalBehind is set when an append or compaction failed, so that the
	// journal may lack open groups, and cleared by the next compaction that
	// succeeds.
	journalBehind bool

	// batches recycles the scratch space of ConsumeLogs calls.
	batches sync.Pool

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
		p.mu.Lock()
		client := p.storage
		if p.journalHolds() {
			// What is still open was refused by the final flush and is kept
			// in the journal for the restart; a batch arriving after
			// Shutdown must not emit it again, or report it lost.
			p.agg.Drain()
		}
		// Nothing may journal into a closed client.
		p.storage, p.journal = nil, nil
		p.mu.Unlock()
		if client != nil {
			err = errors.Join(err, client.Close(context.Background()))
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
	entra   []record.EntraRecord // reused across the batch's records
	adds    []pendingAdd         // the batch's matches, counted at commit
	// res is the resource of the records being inspected; resCopy, made
	// on its first match, is shared by the groups those records open.
	res     pcommon.Resource
	resCopy *pcommon.Resource
	ids     []seenID // Ids remembered for de-duplication
}

// getBatch returns an empty batch whose slices keep the capacity earlier
// calls grew them to, so that a steady stream of matches does not regrow
// them on every call.
func (p *detectProcessor) getBatch() *batch {
	b, _ := p.batches.Get().(*batch)
	if b == nil {
		b = &batch{}
	}
	b.arrived = p.now()
	return b
}

// putBatch empties b, dropping every reference into the call's records so
// that the pool holds no record memory alive, and recycles it.
func (p *detectProcessor) putBatch(b *batch) {
	ids := b.rec.ActorIDs[:cap(b.rec.ActorIDs)]
	clear(ids)
	clear(b.entra[:cap(b.entra)])
	clear(b.adds)
	clear(b.ids)
	*b = batch{
		rec:   record.Record{ActorIDs: ids[:0]},
		entra: b.entra[:0],
		adds:  b.adds[:0],
		ids:   b.ids[:0],
	}
	p.batches.Put(b)
}

// setResource starts the records of another resource.
func (b *batch) setResource(res pcommon.Resource) {
	b.res, b.resCopy = res, nil
}

// resourceCopy returns a copy of the current resource, made once per
// resource and batch however many groups its records open.
func (b *batch) resourceCopy() pcommon.Resource {
	if b.resCopy == nil {
		c := pcommon.NewResource()
		b.res.CopyTo(c)
		b.resCopy = &c
	}
	return *b.resCopy
}

// ConsumeLogs inspects every record, tags the matches and counts them into
// their groups, and forwards the records that the passthrough mode keeps.
// The next consumer's error is returned so that upstream retries and queues
// do their part.
func (p *detectProcessor) ConsumeLogs(ctx context.Context, ld plog.Logs) error {
	b := p.getBatch()
	defer p.putBatch(b)
	rls := ld.ResourceLogs()

	if p.cfg.Passthrough == PassthroughAll {
		for i := 0; i < rls.Len(); i++ {
			rl := rls.At(i)
			b.setResource(rl.Resource())
			sls := rl.ScopeLogs()
			for j := 0; j < sls.Len(); j++ {
				lrs := sls.At(j).LogRecords()
				for k := 0; k < lrs.Len(); k++ {
					p.inspect(b, lrs.At(k))
				}
			}
		}
	} else {
		keepMatches := p.cfg.Passthrough == PassthroughMatched
		rls.RemoveIf(func(rl plog.ResourceLogs) bool {
			b.setResource(rl.Resource())
			rl.ScopeLogs().RemoveIf(func(sl plog.ScopeLogs) bool {
				sl.LogRecords().RemoveIf(func(lr plog.LogRecord) bool {
					return !(p.inspect(b, lr) && keepMatches)
				})
				return sl.LogRecords().Len() == 0
			})
			return rl.ScopeLogs().Len() == 0
		})
	}

	b.counts.record(ctx, p.telemetry)
	p.commit(ctx, b)
	if p.stopping.Load() {
		// After Shutdown no window ends again: what this batch counted is
		// emitted now rather than left in groups nobody will emit.
		_ = p.flush(ctx)
	}
	if rls.Len() == 0 && p.cfg.Passthrough != PassthroughAll {
		return nil
	}
	return p.next.ConsumeLogs(ctx, ld)
}

// pendingAdd is one match waiting to be counted into its group.
type pendingAdd struct {
	row       rule.Row
	eventTime time.Time
	partner   string
	resource  pcommon.Resource
}

// flight is a set of groups drained for emission. Draining and registering
// them as in flight happen under one lock, so that a journal compaction in
// between can never leave them out.
type flight struct {
	id     uint64
	groups []*aggregate.Group
}

// commit counts a batch's matches into their groups under one lock,
// journaling them first so the journal always covers the open groups.
// Reaching max_groups drains every open group for emission at once rather
// than dropping any; the emission happens after the lock is released.
func (p *detectProcessor) commit(ctx context.Context, b *batch) {
	if len(b.adds) == 0 && len(b.ids) == 0 {
		return
	}
	var full []flight
	p.mu.Lock()
	if p.journal != nil {
		p.appendJournal(journalGroups(b.adds, b.arrived), b.ids)
	}
	for i := range b.adds {
		a := &b.adds[i]
		p.agg.Add(rule.ESCU, a.row, a.eventTime, b.arrived, a.resource, a.partner)
		if p.agg.Len() >= p.cfg.MaxGroups {
			full = append(full, p.takeOff(p.agg.Drain()))
		}
	}
	p.mu.Unlock()
	for _, f := range full {
		_ = p.emit(ctx, f)
	}
}

// flush emits every open group: the end of a window.
func (p *detectProcessor) flush(ctx context.Context) error {
	p.mu.Lock()
	groups := p.agg.Drain()
	if p.cfg.Suppression > 0 && !p.stopping.Load() {
		groups = p.holdSuppressed(groups)
	}
	f := p.takeOff(groups)
	if len(f.groups) == 0 && p.journal != nil && p.journal.Len() > 1 {
		// Only an emission compacts the journal, and there is none: an
		// edge tier (emit_detections false) with dedup journals Ids every
		// batch and never emits, and held groups may be all there is.
		p.compactJournal()
	}
	p.mu.Unlock()
	return p.emit(ctx, f)
}
