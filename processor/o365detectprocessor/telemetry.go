package o365detectprocessor // import "github.com/o365detect/o365detect/processor/o365detectprocessor"

import (
	"context"

	"github.com/o365detect/o365detect/processor/o365detectprocessor/internal/metadata"
)

// batchCounts accumulates one ConsumeLogs call's outcomes so each counter is
// touched once per batch, not once per record.
type batchCounts struct {
	matched     int64
	allowlisted int64
	invalid     int64
	duplicates  int64
}

func (c *batchCounts) record(ctx context.Context, tb *metadata.TelemetryBuilder) {
	if c.matched > 0 {
		tb.ProcessorO365DetectRecordsMatched.Add(ctx, c.matched)
	}
	if c.allowlisted > 0 {
		tb.ProcessorO365DetectRecordsAllowlisted.Add(ctx, c.allowlisted)
	}
	if c.duplicates > 0 {
		tb.ProcessorO365DetectRecordsDuplicate.Add(ctx, c.duplicates)
	}
	if c.invalid > 0 {
		tb.ProcessorO365DetectRecordsInvalid.Add(ctx, c.invalid)
	}
}
