package o365detectprocessor // import "github.com/o365detect/o365detect/processor/o365detectprocessor"

import (
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/o365detect/o365detect/internal/aggregate"
	"github.com/o365detect/o365detect/processor/o365detectprocessor/internal/metadata"
)

// detectionRecords builds the detection records of groups, each under the
// resource of the group's first record, in the configured profile.
func (p *detectProcessor) detectionRecords(groups []*aggregate.Group) plog.Logs {
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
