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
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/o365detect/o365detect/internal/aggregate"
	"github.com/o365detect/o365detect/internal/dedup"
	"github.com/o365detect/o365detect/internal/output"
	"github.com/o365detect/o365detect/internal/rule"
	"github.com/o365detect/o365detect/internal/storageclient"
	"github.com/o365detect/o365detect/internal/window"
	"github.com/o365detect/o365detect/processor/o365detectprocessor/internal/metadata"
)

// detectProcessor tags matching records as they pass and emits one detection
// record per group at the end of each window.
//
// A record is read, and the rules turn it into hits (detector); each hit
// not allowlisted is tagged on the record (profile), counted once per rule
// and record Id (dedup) and added to its group (engine). At a window end the
// engine hands over the groups, which are sent as detection records and
// settled with what the next consumer said.
type detectProcessor struct {
	id        component.ID
	cfg       *Config
	logger    *zap.Logger
	telemetry *metadata.TelemetryBuilder
	next      consumer.Logs

	detector *rule.Detector
	allow    *allowlist
	dedup    *dedup.Cache // nil unless enabled
	profile  output.Profile
	engine   *window.Engine

	// now and newTicker are replaced in tests to control time.
	now       func() time.Time
	newTicker func(time.Duration) (<-chan time.Time, func())

	// batches recycles the scratch space of ConsumeLogs calls.
	batches sync.Pool

	cancel   context.CancelFunc
	wg       sync.WaitGroup
	shutdown sync.Once
	// stopping is set once the final window end begins: there is no next
	// window to retry in after it.
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
		id:        set.ID,
		cfg:       cfg,
		logger:    set.Logger,
		telemetry: tb,
		next:      next,
		detector: rule.NewDetector(rule.DetectorOptions{
			Rules:                  cfg.rules(),
			ExpectedPartnerTenants: cfg.ExpectedPartnerTenants,
			SignatureIDField:       cfg.SignatureIDField,
			ManagementActivity:     slices.Contains(cfg.Sources, SourceManagementActivity),
			Entra:                  slices.Contains(cfg.Sources, SourceEntraID),
		}),
		allow:     newAllowlist(cfg.Allowlist, cfg.AllowlistPresets, set.Logger),
		profile:   profile,
		now:       time.Now,
		newTicker: realTicker,
	}
	if cfg.Dedup.Enabled {
		p.dedup = dedup.New(cfg.Dedup.TTL, cfg.Dedup.MaxIDs)
	}
	p.engine = window.New(window.Options{
		MaxGroups:   cfg.MaxGroups,
		Suppression: cfg.Suppression,
		Dedup:       p.dedup,
		Now:         func() time.Time { return p.now() },
		Logger:      set.Logger,
	})
	err = tb.RegisterProcessorO365DetectGroupsOpenCallback(func(_ context.Context, o metric.Int64Observer) error {
		o.Observe(int64(p.engine.OpenGroups()))
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

// Start restores the open groups from storage, if configured, and begins
// the window ticker. The ticker's context is the processor's own, not
// Start's, which is only valid during Start.
func (p *detectProcessor) Start(startCtx context.Context, host component.Host) error {
	client, err := storageclient.Get(startCtx, host, p.cfg.Storage, component.KindProcessor, p.id)
	if err != nil {
		return err
	}
	if client != nil {
		if err := p.engine.Restore(startCtx, client); err != nil {
			_ = client.Close(startCtx)
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
				_ = p.endWindow(context.Background())
			}
		}
	})
	return nil
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
	// Counted into the groups once per batch: one lock, one journal entry.
	for _, em := range p.engine.Add(b.adds, b.ids, b.arrived) {
		_ = p.emit(ctx, em) // max_groups reached
	}
	if p.stopping.Load() {
		// After Shutdown no window ends again: what this batch counted is
		// emitted now rather than left in groups nobody will emit.
		_ = p.endWindow(ctx)
	}
	if rls.Len() == 0 && p.cfg.Passthrough != PassthroughAll {
		return nil
	}
	return p.next.ConsumeLogs(ctx, ld)
}

// inspect runs the rules on one log record and reports whether it held a
// hit that is not allowlisted. Every such hit counts into its own group;
// the record is tagged once per rule.
func (p *detectProcessor) inspect(b *batch, lr plog.LogRecord) bool {
	hits, invalid := p.detector.Detect(&b.buffers, lr, b.res, b.arrived, b.hits[:0])
	b.hits = hits
	if invalid {
		b.counts.invalid++
		if ce := p.logger.Check(zap.DebugLevel, "record looked like a cross-tenant access change but is not valid JSON; passed through untouched"); ce != nil {
			ce.Write(zap.Int("body_bytes", len(lr.Body().AsString())))
		}
		return false
	}
	kept := hits[:0]
	for i := range hits {
		if p.accept(b, &hits[i]) {
			kept = append(kept, hits[i])
		}
	}
	if len(kept) == 0 {
		return false
	}
	// A body holding several records lists its hits record by record.
	slices.SortStableFunc(kept, func(a, b rule.Hit) int { return rule.Index(a.Rule) - rule.Index(b.Rule) })
	p.tag(lr.Attributes(), kept)
	return true
}

// accept applies the filter macro's tuning to a hit and counts it, once per
// record Id and rule when de-duplication is on. It reports whether the hit
// is kept (not allowlisted).
func (p *detectProcessor) accept(b *batch, h *rule.Hit) bool {
	counts := b.counts.of(h.Rule)
	if p.allow.allows(subject{rule: h.Rule, user: h.Row.User, partner: h.Partner, appIDs: h.AppIDs}, b.arrived) {
		counts.allowlisted++
		return false
	}
	if p.dedup != nil && h.ID != "" {
		seen, first := p.dedup.FirstDelivery(h.DedupKey(), b.arrived)
		if !first {
			// Still a match, so tagged and forwarded like one, but already
			// counted. This is also how a caller's retry of a batch the next
			// consumer refused comes back: dropping it here would lose the
			// record the first attempt never delivered.
			counts.duplicates++
			return true
		}
		b.ids = append(b.ids, seen)
	}
	counts.matched++
	if p.cfg.EmitDetections {
		b.adds = append(b.adds, window.Hit{Rule: h.Rule, Row: h.Row, EventTime: h.EventTime, Partner: h.Partner, Resource: b.resourceCopy()})
	}
	return true
}

// tag writes the profile's tags of a record's first kept hit onto its
// attributes. A record that several rules report also gets, under
// o365_detect.rules, one map of tags per rule (its first hit), in catalogue
// order: tag attributes have one value per name, and each rule's set must
// stay whole.
func (p *detectProcessor) tag(attrs pcommon.Map, kept []rule.Hit) {
	p.profile.Tag(attrs, matchOf(&kept[0]))
	if !slices.ContainsFunc(kept[1:], func(h rule.Hit) bool { return h.Rule != kept[0].Rule }) {
		return
	}
	sets := attrs.PutEmptySlice(output.AttrRules)
	for i := range kept {
		if i > 0 && slices.ContainsFunc(kept[:i], func(h rule.Hit) bool { return h.Rule == kept[i].Rule }) {
			continue
		}
		p.profile.Tag(sets.AppendEmpty().SetEmptyMap(), matchOf(&kept[i]))
	}
}

func matchOf(h *rule.Hit) output.Match {
	return output.Match{Rule: h.Rule, Row: h.Row, Partner: h.Partner, EventTime: h.EventTime}
}

// endWindow emits the groups the engine hands over at a window end.
func (p *detectProcessor) endWindow(ctx context.Context) error {
	return p.emit(ctx, p.engine.EndWindow(p.stopping.Load()))
}

// emit sends one detection record per group to the next consumer and
// settles the emission with the engine: delivered, retried at the next
// window (a retryable refusal), or dropped (a permanent one, or a refusal
// at shutdown with no journal to keep the groups).
func (p *detectProcessor) emit(ctx context.Context, em window.Emission) error {
	if len(em.Groups) == 0 {
		return nil
	}
	err := p.next.ConsumeLogs(ctx, p.detectionRecords(em.Groups))
	n := len(em.Groups)
	outcome := window.Retry
	switch {
	case err == nil:
		outcome = window.Delivered
		countGroups(ctx, p.telemetry.ProcessorO365DetectDetectionsEmitted, em.Groups)
	case consumererror.IsPermanent(err):
		outcome = window.Dropped
		p.logger.Error("next consumer permanently refused detection records; they are lost",
			zap.Int("detections", n), zap.Error(err))
	case p.stopping.Load() && !p.engine.Journaled():
		outcome = window.Dropped
		p.logger.Error("next consumer refused detection records during shutdown, and no journal holds them (no storage, or a journal write failed); they are lost",
			zap.Int("detections", n), zap.Error(err))
	case p.stopping.Load():
		p.logger.Warn("next consumer refused detection records during shutdown; they stay in storage and are emitted after the restart",
			zap.Int("detections", n), zap.Error(err))
	default:
		p.logger.Warn("next consumer refused detection records; they will be retried at the next window",
			zap.Int("detections", n), zap.Error(err))
	}
	var dropped []*aggregate.Group
	if outcome == window.Dropped {
		dropped = em.Groups
	}
	if lost := p.engine.Settle(em, outcome); len(lost) > 0 {
		dropped = lost
		p.logger.Error("retry buffer is full (max_groups); detection records are lost",
			zap.Int("detections", len(lost)), zap.Int("max_groups", p.cfg.MaxGroups))
	}
	countGroups(ctx, p.telemetry.ProcessorO365DetectDetectionsDropped, dropped)
	return err
}

// Shutdown stops the ticker and emits every open group, the suppressed
// ones too. Downstream is still running at this point, so nothing is lost
// on a clean stop; what it refuses stays in the journal for the restart,
// if there is one. It is safe without Start and when called again.
func (p *detectProcessor) Shutdown(context.Context) error {
	var err error
	p.shutdown.Do(func() {
		if p.cancel != nil {
			p.cancel()
			p.wg.Wait()
		}
		p.stopping.Store(true)
		err = errors.Join(p.endWindow(context.Background()), p.engine.Close(context.Background()))
		p.telemetry.Shutdown()
	})
	return err
}
