package o365managementactivityreceiver // import "github.com/o365detect/o365detect/receiver/o365managementactivityreceiver"

import (
	"context"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/o365detect/o365detect/receiver/o365managementactivityreceiver/internal/activityapi"
	"github.com/o365detect/o365detect/receiver/o365managementactivityreceiver/internal/checkpoint"
	"github.com/o365detect/o365detect/receiver/o365managementactivityreceiver/internal/metadata"
)

// telemetry records the receiver's own metrics.
type telemetry struct {
	tb *metadata.TelemetryBuilder

	mu sync.Mutex
	// newest is the newest contentCreated delivered, per content type,
	// for the lag gauge.
	newest map[string]time.Time
}

func newTelemetry(set component.TelemetrySettings) (*telemetry, error) {
	tb, err := metadata.NewTelemetryBuilder(set)
	if err != nil {
		return nil, err
	}
	return &telemetry{tb: tb, newest: map[string]time.Time{}}, nil
}

// watch registers the gauges that read the checkpoint and the lag.
func (t *telemetry) watch(store *checkpoint.Store, now func() time.Time) error {
	err := t.tb.RegisterReceiverO365ManagementActivityDedupEvictedCallback(func(_ context.Context, o metric.Int64Observer) error {
		o.Observe(store.Stats().Evicted)
		return nil
	})
	if err != nil {
		return err
	}
	return t.tb.RegisterReceiverO365ManagementActivityLagCallback(func(_ context.Context, o metric.Float64Observer) error {
		t.mu.Lock()
		defer t.mu.Unlock()
		for ct, newest := range t.newest {
			o.Observe(now().Sub(newest).Seconds(), metric.WithAttributes(attribute.String("content_type", ct)))
		}
		return nil
	})
}

func (t *telemetry) shutdown() { t.tb.Shutdown() }

func (t *telemetry) observeRequest(op activityapi.Op, outcome activityapi.Outcome) {
	ctx := context.Background()
	t.tb.ReceiverO365ManagementActivityRequests.Add(ctx, 1, metric.WithAttributes(
		attribute.String("operation", string(op)), attribute.String("outcome", string(outcome))))
	if outcome == activityapi.OutcomeThrottled {
		t.tb.ReceiverO365ManagementActivityThrottled.Add(ctx, 1)
	}
}

func contentTypeAttr(ct string) metric.AddOption {
	return metric.WithAttributes(attribute.String("content_type", ct))
}

func (t *telemetry) blobFetched(ctx context.Context, ct string) {
	t.tb.ReceiverO365ManagementActivityBlobsFetched.Add(ctx, 1, contentTypeAttr(ct))
}

func (t *telemetry) blobExpired(ctx context.Context, ct string) {
	t.tb.ReceiverO365ManagementActivityBlobsExpired.Add(ctx, 1, contentTypeAttr(ct))
}

func (t *telemetry) blobInvalid(ctx context.Context, ct string) {
	t.tb.ReceiverO365ManagementActivityBlobsInvalid.Add(ctx, 1, contentTypeAttr(ct))
}

func (t *telemetry) emitted(ctx context.Context, ct string, n int) {
	t.tb.ReceiverO365ManagementActivityRecordsEmitted.Add(ctx, int64(n), contentTypeAttr(ct))
}

func (t *telemetry) duplicates(ctx context.Context, ct string, n int) {
	t.tb.ReceiverO365ManagementActivityRecordsDuplicate.Add(ctx, int64(n), contentTypeAttr(ct))
}

// delivered notes a delivered blob's contentCreated for the lag gauge.
func (t *telemetry) delivered(ct string, created time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if created.After(t.newest[ct]) {
		t.newest[ct] = created
	}
}
