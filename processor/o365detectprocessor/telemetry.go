package o365detectprocessor // import "github.com/o365detect/o365detect/processor/o365detectprocessor"

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/o365detect/o365detect/internal/aggregate"
	"github.com/o365detect/o365detect/internal/rule"
	"github.com/o365detect/o365detect/processor/o365detectprocessor/internal/metadata"
)

// ruleAttributes are the rule attribute of each catalogue rule's counts,
// built once so that counting allocates nothing.
var ruleAttributes = func() (a [rule.MaxRules]metric.MeasurementOption) {
	for i, r := range rule.Catalogue {
		a[i] = metric.WithAttributeSet(attribute.NewSet(attribute.String("rule", r.Key)))
	}
	return a
}()

// ruleCounts are one rule's outcomes in a batch.
type ruleCounts struct {
	matched     int64
	allowlisted int64
	duplicates  int64
}

// batchCounts accumulates one ConsumeLogs call's outcomes so each counter is
// touched once per batch and rule, not once per record.
type batchCounts struct {
	invalid int64
	byRule  [rule.MaxRules]ruleCounts
}

// of returns r's counts.
func (c *batchCounts) of(r *rule.Rule) *ruleCounts {
	return &c.byRule[rule.Index(r)]
}

func (c *batchCounts) record(ctx context.Context, tb *metadata.TelemetryBuilder) {
	for i := range c.byRule {
		rc, attrs := &c.byRule[i], ruleAttributes[i]
		if rc.matched > 0 {
			tb.ProcessorO365DetectRecordsMatched.Add(ctx, rc.matched, attrs)
		}
		if rc.allowlisted > 0 {
			tb.ProcessorO365DetectRecordsAllowlisted.Add(ctx, rc.allowlisted, attrs)
		}
		if rc.duplicates > 0 {
			tb.ProcessorO365DetectRecordsDuplicate.Add(ctx, rc.duplicates, attrs)
		}
	}
	if c.invalid > 0 {
		tb.ProcessorO365DetectRecordsInvalid.Add(ctx, c.invalid)
	}
}

// countGroups adds to counter the number of groups of each rule.
func countGroups(ctx context.Context, counter metric.Int64Counter, groups []*aggregate.Group) {
	var byRule [rule.MaxRules]int64
	for _, g := range groups {
		byRule[rule.Index(g.Rule)]++
	}
	for i, n := range byRule {
		if n > 0 {
			counter.Add(ctx, n, ruleAttributes[i])
		}
	}
}
