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

	"github.com/o365detect/o365detect/internal/storageclient"
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

// retention is how long a delivery is remembered: content's lifetime plus
// the overlap, after which no listing can name the blob again, plus a day
// of margin.
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
	// progress is what this process has sent of blobs not yet delivered
	// whole.
	progress progressMap

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
		progress:  progressMap{m: map[string]*blobProgress{}},
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
	if r.storageClient, err = storageclient.Get(ctx, host, r.cfg.Storage, component.KindReceiver, r.set.ID); err != nil {
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
		stopped := make(chan struct{})
		go func() {
			r.wg.Wait()
			close(stopped)
		}()
		select {
		case <-stopped:
		case <-ctx.Done():
			// A consumer that does not return keeps its goroutine; the
			// storage client stays open for it.
			return fmt.Errorf("stopping the pollers: %w", ctx.Err())
		}
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
	var sub subscription
	for {
		err := r.subscribeAndPoll(ctx, ct, &sub, logger)
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

// minStartInterval is how often, at most, a subscription is started again
// after a start that failed or did not take: Microsoft asks clients not to
// call start more often than every 15 minutes.
const minStartInterval = 15 * time.Minute

// subscription is what a content type's poll loop knows of its
// subscription.
type subscription struct {
	on bool
	// lastStart is when a start last reached the API.
	lastStart time.Time
	// proven is whether a poll succeeded since that start. A subscription
	// that disappears after that is started again at once; a start that
	// failed, or one whose subscription disappears before a poll succeeds,
	// is followed by the next only after minStartInterval.
	proven bool
}

// subscribeAndPoll starts the subscription unless it is known to be on, and
// polls. A poll that finds the subscription gone (AF20022, AF20023) starts
// it again and polls once more at once: the cursor only moved past what
// was delivered, so nothing is skipped.
func (r *o365Receiver) subscribeAndPoll(ctx context.Context, ct string, sub *subscription, logger *zap.Logger) error {
	if !sub.on {
		if err := r.startSubscription(ctx, ct, sub); err != nil {
			return err
		}
	}
	err := r.poll(ctx, ct)
	if err == nil || errors.Is(err, errBlobsHeld) {
		// The listings worked: the subscription is on.
		sub.proven = true
	}
	if !activityapi.IsSubscriptionMissing(err) {
		return err
	}
	sub.on = false
	if !sub.proven {
		// Gone right after a start: the next start waits.
		return err
	}
	logger.Warn("The subscription is missing or disabled; starting it again", zap.Error(err))
	if err := r.startSubscription(ctx, ct, sub); err != nil {
		return err
	}
	return r.poll(ctx, ct)
}

func (r *o365Receiver) startSubscription(ctx context.Context, ct string, sub *subscription) error {
	now := r.now()
	if !sub.lastStart.IsZero() && !sub.proven && now.Sub(sub.lastStart) < minStartInterval {
		return fmt.Errorf("the subscription is not on; it is started again at %s (Microsoft asks for at most one start every 15 minutes)",
			sub.lastStart.Add(minStartInterval).UTC().Format(time.RFC3339))
	}
	err := r.api.StartSubscription(ctx, ct)
	if !activityapi.IsTokenError(err) {
		sub.lastStart, sub.proven = now, false
	}
	if err != nil {
		return fmt.Errorf("starting the subscription: %w", err)
	}
	sub.on = true
	return nil
}

// poll lists the content created since the cursor (less the overlap), in
// windows of at most 24 hours, and delivers every blob not yet delivered.
// After each window the cursor moves to its end or, once a blob of this poll
// could not be delivered, to the oldest such blob's contentCreated: it never
// passes a blob that is still to be delivered.
func (r *o365Receiver) poll(ctx context.Context, ct string) error {
	if err := r.store.Expire(ctx); err != nil {
		r.storageFailed(ct, err)
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
		failed int
		oldest time.Time // the oldest contentCreated of a blob not delivered
	)
	for winStart := start; winStart.Before(now); {
		winEnd := winStart.Add(maxListWindow)
		if winEnd.After(now) {
			winEnd = now
		}
		blobs, err := r.api.List(ctx, ct, winStart, winEnd)
		if err != nil {
			return err
		}
		n, from, err := r.deliverAll(ctx, ct, blobs)
		if err != nil && failed+n == 0 {
			// Stopped before any blob failed: blobs after the ones
			// delivered may not have started, so the cursor stays.
			return err
		}
		if n > 0 {
			// A listing may give a contentCreated outside the window it
			// was asked for; the cursor must stay within what was listed.
			from = clamp(from, winStart, winEnd)
			if failed == 0 || from.Before(oldest) {
				oldest = from
			}
			failed += n
		}
		cursorTo := winEnd
		if failed > 0 {
			cursorTo = oldest.Truncate(time.Second)
		}
		if cur, ok := r.store.Cursor(ct); !ok || !cur.Equal(cursorTo) {
			if serr := r.store.SetCursor(context.WithoutCancel(ctx), ct, cursorTo); serr != nil {
				r.storageFailed(ct, serr)
			}
		}
		if err != nil {
			return err
		}
		winStart = winEnd
	}
	if failed > 0 {
		return fmt.Errorf("%w: %d, the oldest created %s; the cursor waits there", errBlobsHeld, failed, oldest.Format(time.RFC3339))
	}
	return nil
}

// errBlobsHeld is a poll whose listings worked but some of whose blobs
// could not be delivered (each is logged on its own).
var errBlobsHeld = errors.New("blobs not delivered")

func clamp(t, lo, hi time.Time) time.Time {
	if t.Before(lo) {
		return lo
	}
	if t.After(hi) {
		return hi
	}
	return t
}

// deliverAll delivers the listed blobs not yet delivered, up to
// max_concurrent_downloads at once, oldest first. It returns how many could
// not be delivered and the oldest contentCreated among them; each failure
// is logged on its own. A failure that will fail every other blob too (the
// token is refused) ends the round at once.
func (r *o365Receiver) deliverAll(ctx context.Context, ct string, blobs []activityapi.Blob) (failed int, oldest time.Time, err error) {
	slices.SortStableFunc(blobs, func(a, b activityapi.Blob) int { return a.ContentCreated.Compare(b.ContentCreated) })
	ctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	var (
		mu   sync.Mutex
		wg   sync.WaitGroup
		seen = make(map[string]bool, len(blobs))
	)
	for _, b := range blobs {
		id := blobID(b)
		// A listing can name a blob twice; the checkpoint only knows it
		// once it is delivered.
		if seen[id] || r.store.BlobDelivered(ct, id) {
			continue
		}
		seen[id] = true
		if !r.takeDownload(ctx) {
			break
		}
		wg.Go(func() {
			defer func() { <-r.downloads }()
			derr := r.deliverBlob(ctx, ct, b, id)
			if derr == nil {
				return
			}
			if activityapi.IsAuthError(derr) {
				stop(derr)
			}
			if ctx.Err() == nil || activityapi.IsAuthError(derr) {
				r.set.Logger.Warn("A blob could not be delivered; it is tried again at the next poll",
					zap.String("content_type", ct), zap.String("content_id", id),
					zap.Time("content_created", b.ContentCreated), zap.Error(derr))
			}
			mu.Lock()
			defer mu.Unlock()
			failed++
			if failed == 1 || b.ContentCreated.Before(oldest) {
				oldest = b.ContentCreated
			}
		})
	}
	wg.Wait()
	return failed, oldest, context.Cause(ctx)
}

// takeDownload waits for one of the max_concurrent_downloads slots; it
// reports false if ctx ended first.
func (r *o365Receiver) takeDownload(ctx context.Context) bool {
	select {
	case r.downloads <- struct{}{}:
		return true
	case <-ctx.Done():
		return false
	}
}

// blobID is the blob's contentId, or its contentUri in a listing that has
// no id, so that every blob is known by something.
func blobID(b activityapi.Blob) string {
	if b.ContentID != "" {
		return b.ContentID
	}
	return b.ContentURI
}

// deliverBlob streams one blob to next in batches of batch_size records,
// fetching it again after a cut transfer, and marks it delivered after its
// last batch is accepted. A blob that cannot be had (expired, or not a JSON
// array at three polls running) is marked delivered too, and counted.
func (r *o365Receiver) deliverBlob(ctx context.Context, ct string, b activityapi.Blob, id string) error {
	d := r.progress.start(id)
	retries := retry.New(r.cfg.RetryOnFailure)
	for {
		err := r.streamBlob(ctx, ct, b, id, d)
		var syntax *contentblob.SyntaxError
		switch {
		case err == nil:
			r.progress.done(id)
			r.telemetry.blobFetched(ctx, ct)
			r.telemetry.delivered(ct, b.ContentCreated)
			return nil
		case activityapi.IsUnavailable(err):
			r.set.Logger.Warn("Content expired or gone before it could be fetched; its records cannot be had",
				zap.String("content_type", ct), zap.String("content_id", id), zap.Time("content_created", b.ContentCreated), zap.Error(err))
			r.telemetry.blobExpired(ctx, ct)
			return r.giveUp(ctx, ct, id)
		case errors.As(err, &syntax):
			if r.progress.invalid(id) < maxInvalidAttempts {
				return err
			}
			r.set.Logger.Error("Content is not a well-formed JSON array at three fetches running; the records after the fault cannot be had",
				zap.String("content_type", ct), zap.String("content_id", id), zap.Int("records_delivered", d.sent), zap.Error(err))
			r.telemetry.blobInvalid(ctx, ct)
			return r.giveUp(ctx, ct, id)
		case !errors.Is(err, errCutTransfer):
			return err
		}
		if werr := retries.Wait(ctx, 0); werr != nil {
			return fmt.Errorf("%w (then: %w)", err, werr)
		}
	}
}

// maxInvalidAttempts is how many fetches of a blob must find it malformed
// before it is given up: a proxy's error page is malformed once, a blob
// Microsoft wrote wrong every time.
const maxInvalidAttempts = 3

// giveUp marks a blob that cannot be had as delivered, so that it no
// longer holds the cursor.
func (r *o365Receiver) giveUp(ctx context.Context, ct, id string) error {
	r.progress.done(id)
	if err := r.store.Commit(context.WithoutCancel(ctx), ct, id, nil, nil, true); err != nil {
		r.storageFailed(ct, err)
	}
	return nil
}

// errCutTransfer marks a blob body that ended or failed mid-array.
var errCutTransfer = errors.New("transfer cut")

// streamBlob fetches the blob and sends its records from the d.sent-th on.
func (r *o365Receiver) streamBlob(ctx context.Context, ct string, b activityapi.Blob, id string, d *blobProgress) error {
	body, err := r.api.Fetch(ctx, b)
	if err != nil {
		return err
	}
	defer body.Close()
	blob := contentblob.NewReader(body)
	// The batch holds the records themselves until next has them.
	blob.KeepRecords()
	batch := newBatch(r.cfg.BatchSize)
	for skip := d.sent; ; {
		rec, err := blob.Next()
		last := err == io.EOF
		if err != nil && !last {
			// Deliver what was read before the fault, then report it.
			if serr := r.send(ctx, ct, id, batch, false, d); serr != nil {
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
			batch.add(rec, blob)
		}
		if last || batch.full() {
			if err := r.send(ctx, ct, id, batch, last, d); err != nil {
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
func (r *o365Receiver) send(ctx context.Context, ct, id string, batch *batch, last bool, d *blobProgress) error {
	if batch.count() == 0 && !last {
		return nil
	}
	batch.fresh = r.store.Claim(batch.fresh[:0], batch.ids)
	n := batch.freshCount()
	if dup := batch.count() - n; dup > 0 {
		r.telemetry.duplicates(ctx, ct, dup)
	}
	if n > 0 {
		build := func() plog.Logs { return batch.logs(r.cfg.TenantID, ct, id, r.now()) }
		if err := r.consume(ctx, n, build); err != nil {
			r.store.Release(batch.ids, batch.fresh)
			return err
		}
		r.telemetry.emitted(ctx, ct, n)
	}
	d.sent += batch.count()
	// The batch is delivered: commit it even if the receiver is stopping.
	if err := r.store.Commit(context.WithoutCancel(ctx), ct, id, batch.ids, batch.fresh, last); err != nil {
		r.storageFailed(ct, err)
	}
	batch.reset()
	return nil
}

// storageFailed logs a checkpoint write that failed. Delivery goes on: the
// records were delivered and the checkpoint in memory knows it; only a
// crash before storage recovers could send them again.
func (r *o365Receiver) storageFailed(ct string, err error) {
	r.set.Logger.Error("Saving the checkpoint failed; delivery goes on, but a crash now may send records again",
		zap.String("content_type", ct), zap.Error(err))
}

// consume hands a batch to next, again after a refusal with backoff until
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
			return fmt.Errorf("the next consumer refused the batch: %w (then: %w)", err, werr)
		}
	}
}
