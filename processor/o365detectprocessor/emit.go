package o365detectprocessor // import "github.com/o365detect/o365detect/processor/o365detectprocessor"

import (
	"context"

	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.uber.org/zap"

	"github.com/o365detect/o365detect/internal/aggregate"
	"github.com/o365detect/o365detect/processor/o365detectprocessor/internal/metadata"
)

// emit sends one detection record per group of f to the next consumer.
// Groups it refuses with a retryable error go back into the aggregator and
// are tried again at the next window; a permanent refusal is logged and
// counted.
func (p *detectProcessor) emit(ctx context.Context, f flight) error {
	groups := f.groups
	if len(groups) == 0 {
		return nil
	}
	err := p.next.ConsumeLogs(ctx, p.detections(groups))
	n := int64(len(groups))
	var dropped int
	switch {
	case err == nil:
		p.telemetry.ProcessorO365DetectDetectionsEmitted.Add(ctx, n)
	case consumererror.IsPermanent(err):
		dropped = len(groups)
		p.logger.Error("next consumer permanently refused detection records; they are lost",
			zap.Int64("detections", n), zap.Error(err))
	case p.stopping.Load() && !p.journalHeld():
		dropped = len(groups)
		p.logger.Error("next consumer refused detection records during shutdown, and no journal holds them (no storage, or a journal write failed); they are lost",
			zap.Int64("detections", n), zap.Error(err))
	case p.stopping.Load():
		p.logger.Warn("next consumer refused detection records during shutdown; they stay in storage and are emitted after the restart",
			zap.Int64("detections", n), zap.Error(err))
	default:
		p.logger.Warn("next consumer refused detection records; they will be retried at the next window",
			zap.Int64("detections", n), zap.Error(err))
	}
	retry := err != nil && dropped == 0
	if overflow := p.land(f.id, groups, retry); overflow > 0 {
		dropped = overflow
		p.logger.Error("retry buffer is full (max_groups); detection records are lost",
			zap.Int("detections", overflow), zap.Int("max_groups", p.cfg.MaxGroups))
	}
	if dropped > 0 {
		p.telemetry.ProcessorO365DetectDetectionsDropped.Add(ctx, int64(dropped))
	}
	return err
}

// journalHeld reports whether the journal holds every open group, so that
// what the next consumer refuses at shutdown survives to the restart.
func (p *detectProcessor) journalHeld() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.journalHolds()
}

// journalHolds is journalHeld for a caller that holds p.mu. Shutdown
// closes the journal.
func (p *detectProcessor) journalHolds() bool {
	return p.journal != nil && !p.journalBehind
}

// takeOff registers drained groups as in flight, so a journal compaction
// keeps them until their emission is settled. The caller holds p.mu.
func (p *detectProcessor) takeOff(groups []*aggregate.Group) flight {
	if len(groups) == 0 {
		return flight{}
	}
	p.flightSeq++
	if p.journal != nil {
		p.inflight[p.flightSeq] = groups
	}
	return flight{id: p.flightSeq, groups: groups}
}

// land settles an emission: refused groups are merged back (keeping at most
// max_groups open, so a long outage cannot grow memory without bound), then
// the journal is compacted. It returns how many groups had no room.
func (p *detectProcessor) land(flight uint64, groups []*aggregate.Group, retry bool) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.inflight, flight)
	if !retry {
		p.suppress(groups)
	}
	overflow := 0
	if retry {
		room := max(p.cfg.MaxGroups-p.agg.Len(), 0)
		if len(groups) > room {
			overflow = len(groups) - room
			groups = groups[:room]
		}
		p.agg.Merge(groups)
	}
	p.compactJournal()
	return overflow
}

// detections builds the detection records of groups, each under the
// resource of the group's first record.
func (p *detectProcessor) detections(groups []*aggregate.Group) plog.Logs {
	ld := plog.NewLogs()
	now := pcommon.NewTimestampFromTime(p.now())
	rls := ld.ResourceLogs()
	rls.EnsureCapacity(len(groups))
	for _, g := range groups {
		rl := rls.AppendEmpty()
		g.Resource.CopyTo(rl.Resource())
		sl := rl.ScopeLogs().AppendEmpty()
		sl.Scope().SetName(metadata.ScopeName)
		lr := sl.LogRecords().AppendEmpty()
		lr.SetTimestamp(now)
		lr.SetObservedTimestamp(pcommon.NewTimestampFromTime(g.Opened))
		p.profile.Detection(lr, g)
	}
	return ld
}
