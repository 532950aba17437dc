package o365managementactivityreceiver // import "github.com/o365detect/o365detect/receiver/o365managementactivityreceiver"

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/receiver/receiverhelper"
	"go.uber.org/zap"

	"github.com/o365detect/o365detect/receiver/o365managementactivityreceiver/internal/activityapi"
	"github.com/o365detect/o365detect/receiver/o365managementactivityreceiver/internal/checkpoint"
	"github.com/o365detect/o365detect/receiver/o365managementactivityreceiver/internal/contentblob"
	"github.com/o365detect/o365detect/receiver/o365managementactivityreceiver/internal/retry"
)

// listOverlap is how far before the cursor each poll lists again, to catch
// a blob the service lists late with an earlier contentCreated. Blobs
// already delivered are skipped, so the overlap costs a listing, not a
// fetch.
const listOverlap = time.Hour

// maxListWindow is the longest startTime..endTime span the API accepts.
const maxListWindow = 24 * time.Hour

// retention is how long a delivery is remembered: past content's lifetime
// plus the overlap no listing can return the blob again.
const retention = contentLifetime + listOverlap + 24*time.Hour

// o365Receiver polls the Management Activity API, one goroutine per content
// type, and sends every record to next once.
type o365Receiver struct {
	cfg       *Config
	set       receiver.Settings
	next      consumer.Logs
	obsrecv   *receiverhelper.ObsReport
	telemetry *telemetry
	now       func() time.Time

	// Set by Start.
	api           *activityapi.Client
	store         *checkpoint.Store
	storageClient storage.Client
	// downloads holds a token per blob being fetched, across content types.
	downloads chan struct{}

	cancel context.CancelFunc
	wg     sync.WaitGroup

	// pollDone, when set, is called after each poll; tests wait on it.
	pollDone func(contentType string)
}

func newReceiver(set receiver.Settings, cfg *Config, next consumer.Logs) (*o365Receiver, error) {
	obsrecv, err := receiverhelper.NewObsReport(receiverhelper.ObsReportSettings{
		ReceiverID:             set.ID,
		Transport:              "https",
		ReceiverCreateSettings: set,
	})
	if err != nil {
		return nil, err
	}
	tel, err := newTelemetry(set.TelemetrySettings)
	if err != nil {
		return nil, err
	}
	return &o365Receiver{
		cfg:       cfg,
		set:       set,
		next:      next,
		obsrecv:   obsrecv,
		telemetry: tel,
		now:       time.Now,
		downloads: make(chan struct{}, cfg.MaxConcurrentDownloads),
	}, nil
}

// Start builds the API client, restores the checkpoint from storage and
// starts polling each content type.
func (r *o365Receiver) Start(ctx context.Context, host component.Host) error {
	api, err := newAPIClient(ctx, r.cfg, host, r.set.TelemetrySettings, r.telemetry.observeRequest)
	if err != nil {
		return err
	}
	r.api = api
	if r.storageClient, err = storageClient(ctx, r.cfg.Storage, host, r.set.ID); err != nil {
		return err
	}
	r.store, err = checkpoint.Open(ctx, r.storageClient, checkpoint.Config{
		Dedup:     r.cfg.Dedup.Enabled,
		MaxIDs:    r.cfg.Dedup.MaxIDs,
		Retention: retention,
		Now:       r.now,
	}, r.set.Logger)
	if err != nil {
		return fmt.Errorf("storage: restoring the checkpoint: %w", err)
	}
	if err := r.telemetry.watch(r.store, r.now); err != nil {
		return err
	}

	runCtx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	for _, ct := range r.cfg.ContentTypes {
		r.wg.Go(func() { r.run(runCtx, ct) })
	}
	return nil
}

// Shutdown stops polling and waits for deliveries in flight to end. What a
// stopped delivery had not committed is fetched again after a restart.
func (r *o365Receiver) Shutdown(ctx context.Context) error {
	if r.cancel != nil {
		r.cancel()
		r.wg.Wait()
	}
	r.telemetry.shutdown()
	if r.storageClient != nil {
		return r.storageClient.Close(ctx)
	}
	return nil
}

// run polls one content type every poll_interval until ctx ends or the API
// answers with an error that polling again cannot mend.
func (r *o365Receiver) run(ctx context.Context, ct string) {
	logger := r.set.Logger.With(zap.String("content_type", ct))
	subscribed := false
	for {
		err := r.subscribeAndPoll(ctx, ct, &subscribed, logger)
		if r.pollDone != nil {
			r.pollDone(ct)
		}
		switch {
		case ctx.Err() != nil:
			return
		case activityapi.IsFatal(err):
			logger.Error("Stopped polling this content type", zap.Error(err))
			return
		case err != nil:
			logger.Error("Poll incomplete; what it missed is tried again at the next poll", zap.Error(err))
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(r.cfg.PollInterval):
		}
	}
}

// subscribeAndPoll starts the subscription unless it is known to be on, and
// polls. A poll that finds the subscription gone (AF20022, AF20023) starts it
// again and polls once more at once: the cursor has not moved, so nothing is
// skipped.
func (r *o365Receiver) subscribeAndPoll(ctx context.Context, ct string, subscribed *bool, logger *zap.Logger) error {
	if !*subscribed {
		if err := r.api.StartSubscription(ctx, ct); err != nil {
			return fmt.Errorf("starting the subscription: %w", err)
		}
		*subscribed = true
	}
	err := r.poll(ctx, ct)
	if !activityapi.IsSubscriptionMissing(err) {
		return err
	}
	logger.Warn("The subscription is missing or disabled; starting it again", zap.Error(err))
	*subscribed = false
	if err := r.api.StartSubscription(ctx, ct); err != nil {
		return fmt.Errorf("starting the subscription again: %w", err)
	}
	*subscribed = true
	return r.poll(ctx, ct)
}

// poll lists the content created since the cursor (less the overlap), in
// windows of at most 24 hours, and delivers every blob not yet delivered.
// After each window the cursor moves to its end, or, once a blob of this
// poll could not be delivered, to the oldest such blob's contentCreated:
// it never passes a blob that is still to be delivered.
func (r *o365Receiver) poll(ctx context.Context, ct string) error {
	if err := r.store.Expire(ctx); err != nil {
		r.set.Logger.Warn("Forgetting expired deliveries failed; trying again at the next poll", zap.Error(err))
	}
	now := r.now().UTC().Truncate(time.Second)
	floor := now.Add(-contentLifetime + lookbackMargin)
	cursor, ok := r.store.Cursor(ct)
	if !ok {
		cursor = now.Add(-r.cfg.InitialLookback)
	}
	if cursor.Before(floor) {
		r.set.Logger.Warn("The cursor is older than the content the API keeps; content created before the floor cannot be had",
			zap.String("content_type", ct), zap.Time("cursor", cursor), zap.Time("floor", floor))
		cursor = floor
	}
	start := cursor.Add(-listOverlap)
	if start.Before(floor) {
		start = floor
	}
	start = start.Truncate(time.Second)

	var (
		held     []error
		heldFrom time.Time // the oldest contentCreated of a blob in held
	)
	for winStart := start; winStart.Before(now); {
		winEnd := winStart.Add(maxListWindow)
		if winEnd.After(now) {
			winEnd = now
		}
		blobs, err := r.api.List(ctx, ct, winStart, winEnd)
		if err != nil {
			return errors.Join(append(held, err)...)
		}
		errs, from := r.deliverAll(ctx, ct, blobs)
		if len(errs) > 0 {
			if len(held) == 0 || from.Before(heldFrom) {
				heldFrom = from
			}
			held = append(held, errs...)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		next := winEnd
		if len(held) > 0 {
			next = heldFrom.Truncate(time.Second)
		}
		if cur, ok := r.store.Cursor(ct); !ok || !cur.Equal(next) {
			if err := r.store.SetCursor(ctx, ct, next); err != nil {
				return fmt.Errorf("storage: saving the cursor: %w", err)
			}
		}
		winStart = winEnd
	}
	return errors.Join(held...)
}

// deliverAll delivers the listed blobs not yet delivered, up to
// max_concurrent_downloads at once, oldest first. It returns the errors of
// those that could not be delivered and the oldest contentCreated among
// them.
func (r *o365Receiver) deliverAll(ctx context.Context, ct string, blobs []activityapi.Blob) ([]error, time.Time) {
	slices.SortStableFunc(blobs, func(a, b activityapi.Blob) int { return a.ContentCreated.Compare(b.ContentCreated) })
	var (
		mu       sync.Mutex
		errs     []error
		heldFrom time.Time
		wg       sync.WaitGroup
		seen     = make(map[string]bool, len(blobs))
	)
	for _, b := range blobs {
		// A page can list a blob twice; the checkpoint only knows it once
		// it is delivered.
		if seen[b.ContentID] || r.store.BlobDelivered(ct, b.ContentID) {
			continue
		}
		seen[b.ContentID] = true
		select {
		case r.downloads <- struct{}{}:
		case <-ctx.Done():
			wg.Wait()
			return append(errs, ctx.Err()), heldFrom
		}
		wg.Go(func() {
			defer func() { <-r.downloads }()
			if err := r.deliverBlob(ctx, ct, b); err != nil {
				mu.Lock()
				defer mu.Unlock()
				errs = append(errs, fmt.Errorf("blob %s (created %s): %w", b.ContentID, b.ContentCreated.Format(time.RFC3339), err))
				if len(errs) == 1 || b.ContentCreated.Before(heldFrom) {
					heldFrom = b.ContentCreated
				}
			}
		})
	}
	wg.Wait()
	return errs, heldFrom
}

// deliverBlob streams one blob to next in batches of batch_size records,
// fetching it again after a cut transfer, and marks it delivered after its
// last batch is accepted.
func (r *o365Receiver) deliverBlob(ctx context.Context, ct string, b activityapi.Blob) error {
	var (
		// sent counts the records of this blob already accepted in this
		// process, which a fetch after a cut transfer skips.
		sent    int
		retries = retry.New(r.cfg.RetryOnFailure)
	)
	for {
		err := r.streamBlob(ctx, ct, b, &sent)
		switch {
		case err == nil:
			r.telemetry.blobFetched(ctx, ct)
			r.telemetry.delivered(ct, b.ContentCreated)
			return nil
		case activityapi.IsExpired(err):
			r.set.Logger.Warn("Content expired before it could be fetched; its records cannot be had",
				zap.String("content_type", ct), zap.String("content_id", b.ContentID), zap.Time("content_created", b.ContentCreated))
			r.telemetry.blobExpired(ctx, ct)
			return r.store.Commit(ctx, ct, b.ContentID, nil, nil, true)
		case errors.As(err, new(*contentblob.SyntaxError)):
			r.telemetry.blobInvalid(ctx, ct)
			return err
		case !errors.Is(err, errCutTransfer):
			return err
		}
		if werr := retries.Wait(ctx, 0); werr != nil {
			return fmt.Errorf("%w (then: %v)", err, werr)
		}
	}
}

// errCutTransfer marks a blob body that ended or failed mid-array.
var errCutTransfer = errors.New("transfer cut")

// streamBlob fetches b and sends its records from the sent-th on.
func (r *o365Receiver) streamBlob(ctx context.Context, ct string, b activityapi.Blob, sent *int) error {
	body, err := r.api.Fetch(ctx, b)
	if err != nil {
		return err
	}
	defer body.Close()
	blob := contentblob.NewReader(body)
	batch := newBatch(r.cfg.BatchSize)
	for skip := *sent; ; {
		rec, err := blob.Next()
		last := err == io.EOF
		if err != nil && !last {
			// Deliver what was read before the fault, then report it.
			if serr := r.send(ctx, ct, b, batch, false, sent); serr != nil {
				return serr
			}
			var syntax *contentblob.SyntaxError
			if errors.As(err, &syntax) {
				return err
			}
			return fmt.Errorf("%w at byte %d: %w", errCutTransfer, blob.Offset(), err)
		}
		if !last {
			if skip > 0 {
				skip--
				continue
			}
			batch.add(rec)
		}
		if last || batch.full() {
			if err := r.send(ctx, ct, b, batch, last, sent); err != nil {
				return err
			}
		}
		if last {
			return nil
		}
	}
}

// send delivers a batch of one blob: it drops the records whose Id was
// delivered before, sends the rest to next (again after a refusal, with
// backoff), and commits their Ids, and with last the blob, to the
// checkpoint once next accepted them.
func (r *o365Receiver) send(ctx context.Context, ct string, b activityapi.Blob, batch *batch, last bool, sent *int) error {
	if batch.len() == 0 && !last {
		return nil
	}
	fresh := r.store.Claim(batch.fresh[:0], batch.ids)
	batch.fresh = fresh
	n := batch.freshCount()
	if dup := batch.len() - n; dup > 0 {
		r.telemetry.duplicates(ctx, ct, dup)
	}
	if n > 0 {
		build := func() plog.Logs { return batch.logs(r.cfg.TenantID, ct, b.ContentID, r.now()) }
		if err := r.consume(ctx, n, build); err != nil {
			r.store.Release(batch.ids, fresh)
			return err
		}
		r.telemetry.emitted(ctx, ct, n)
	}
	*sent += batch.len()
	err := r.store.Commit(ctx, ct, b.ContentID, batch.ids, fresh, last)
	batch.reset()
	if err != nil {
		// The records were delivered; a restart may send them again,
		// which dedup downstream can catch.
		return fmt.Errorf("storage: saving the delivered Ids: %w", err)
	}
	return nil
}

// consume hands ld to next, again after a refusal with backoff until
// retry_on_failure gives up; the blob is then left for the next poll, so a
// refused batch is never skipped.
func (r *o365Receiver) consume(ctx context.Context, n int, build func() plog.Logs) error {
	retries := retry.New(r.cfg.RetryOnFailure)
	for {
		opCtx := r.obsrecv.StartLogsOp(ctx)
		// next owns what it was given, even when it refuses it: each
		// attempt sends a new plog.Logs.
		err := r.next.ConsumeLogs(opCtx, build())
		r.obsrecv.EndLogsOp(opCtx, "json", n, err)
		if err == nil {
			return nil
		}
		r.set.Logger.Debug("The next consumer refused a batch; sending it again", zap.Int("records", n), zap.Error(err))
		if werr := retries.Wait(ctx, 0); werr != nil {
			return fmt.Errorf("the next consumer refused the batch: %w (then: %v)", err, werr)
		}
	}
}
