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

// emit sends one detection record per group to the next consumer. Groups it
// refuses with a retryable error go back into the aggregator and are tried
// again at the next window; a permanent refusal is logged and counted.
func (p *detectProcessor) emit(ctx context.Context, groups []*aggregate.Group) error {
	if len(groups) == 0 {
		return nil
	}
	err := p.next.ConsumeLogs(ctx, p.detections(groups))
	n := int64(len(groups))
	if err == nil {
		p.telemetry.ProcessorO365DetectDetectionsEmitted.Add(ctx, n)
		return nil
	}
	if consumererror.IsPermanent(err) {
		p.telemetry.ProcessorO365DetectDetectionsDropped.Add(ctx, n)
		p.logger.Error("next consumer permanently refused detection records; they are lost",
			zap.Int64("detections", n), zap.Error(err))
		return err
	}
	dropped := p.requeue(groups)
	p.logger.Warn("next consumer refused detection records; they will be retried at the next window",
		zap.Int64("detections", n-int64(dropped)), zap.Error(err))
	if dropped > 0 {
		p.telemetry.ProcessorO365DetectDetectionsDropped.Add(ctx, int64(dropped))
		p.logger.Error("retry buffer is full (max_groups); detection records are lost",
			zap.Int("detections", dropped), zap.Int("max_groups", p.cfg.MaxGroups))
	}
	return err
}

// requeue merges refused groups back, keeping at most max_groups open so
// that a long outage cannot grow memory without bound. It returns how many
// groups had no room.
func (p *detectProcessor) requeue(groups []*aggregate.Group) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	room := p.cfg.MaxGroups - p.agg.Len()
	if room < 0 {
		room = 0
	}
	if len(groups) > room {
		p.agg.Merge(groups[:room])
		return len(groups) - room
	}
	p.agg.Merge(groups)
	return 0
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
		p.writer.Detection(lr, g)
	}
	return ld
}
