package o365managementactivityreceiver

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/o365detect/o365detect/internal/activityemulator"
)

// TestBackfillSevenDays is the first poll of a new receiver: blobs created
// over the last seven days, listed in 24-hour windows and several pages,
// each delivered once, each record a log record whose body is its JSON as
// served.
func TestBackfillSevenDays(t *testing.T) {
	em := newEmulator(t, activityemulator.Options{PageSize: 2})
	now := time.Now()
	var served []string
	for i := range 15 {
		// From 167h50m ago (inside the 167h55m look-back) to a minute ago.
		created := now.Add(-167*time.Hour - 50*time.Minute + time.Duration(i)*12*time.Hour)
		if i == 14 {
			created = now.Add(-time.Minute)
		}
		recs := records(i*10, 3)
		served = append(served, recs...)
		em.AddBlob(activityemulator.Blob{ContentType: aad, Created: created, Records: recs})
	}
	// Too old for the look-back: never fetched.
	em.AddBlob(activityemulator.Blob{ContentType: aad, Created: now.Add(-167*time.Hour - 58*time.Minute), Records: records(1000, 1)})

	h := newHarness(t, em)
	h.start()
	h.waitRecords(len(served))
	h.waitPolls(1)

	got := h.sink.bodies()
	assert.Len(t, got, len(served))
	for _, rec := range served {
		assert.Equal(t, 1, got[rec], "each served record once, byte for byte")
	}
	stats := em.Stats()
	assert.Empty(t, stats.Violations, "every request keeps the documented contract")
	for id, n := range stats.Fetches {
		assert.Equal(t, 1, n, "blob %s fetched once", id)
	}
	assert.Len(t, stats.Fetches, 15)
	assert.Equal(t, map[string]int{aad: 1}, stats.Starts)
	assert.Equal(t, 0, stats.LoginWithBearer)
	for p := range stats.PublisherIdentifiers {
		assert.Equal(t, h.cfg.TenantID, p, "PublisherIdentifier defaults to the tenant")
	}

	for _, lr := range h.sink.all() {
		want, _ := time.Parse("2006-01-02T15:04:05", strings.SplitN(strings.SplitN(lr.Body().Str(), `"CreationTime":"`, 2)[1], `"`, 2)[0])
		assert.Equal(t, pcommon.NewTimestampFromTime(want), lr.Timestamp(), "Timestamp is CreationTime")
		assert.NotZero(t, lr.ObservedTimestamp())
		ct, _ := lr.Attributes().Get(attrContentType)
		assert.Equal(t, aad, ct.Str())
		_, ok := lr.Attributes().Get(attrContentID)
		assert.True(t, ok)
	}
	for _, tenant := range h.sink.tenants {
		assert.Equal(t, h.cfg.TenantID, tenant)
	}
	assert.Equal(t, int64(len(served)), h.counter("receiver_o365_management_activity_records_emitted", "content_type="+aad))
	assert.Equal(t, int64(15), h.counter("receiver_o365_management_activity_blobs_fetched"))
	assert.Zero(t, h.counter("receiver_o365_management_activity_requests", "outcome=failure"))
}

// Microsoft delivers some records twice, in another blob or by listing one
// blob twice; each is sent once.
func TestDuplicatesAreSentOnce(t *testing.T) {
	em := newEmulator(t, activityemulator.Options{})
	now := time.Now()
	a := records(0, 4)
	b := append(records(10, 2), a[1], a[3]) // two records of a again
	em.AddBlob(activityemulator.Blob{ContentType: aad, Created: now.Add(-3 * time.Hour), Records: a,
		AlsoListedAt: []time.Time{now.Add(-2 * time.Hour), now.Add(-30 * time.Hour)}})
	em.AddBlob(activityemulator.Blob{ContentType: aad, Created: now.Add(-time.Hour), Records: b})

	h := newHarness(t, em)
	h.start()
	h.waitRecords(6)
	h.waitPolls(3)

	got := h.sink.bodies()
	assert.Len(t, got, 6)
	for body, n := range got {
		assert.Equal(t, 1, n, body)
	}
	assert.Equal(t, int64(2), h.counter("receiver_o365_management_activity_records_duplicate"))
	for id, n := range em.Stats().Fetches {
		assert.Equal(t, 1, n, "blob %s listed several times, fetched once", id)
	}
}

// A blob that appears after a poll is delivered by a later one, and later
// polls list from the cursor, not from the start again.
func TestLateBlobIsDeliveredByTheNextPoll(t *testing.T) {
	em := newEmulator(t, activityemulator.Options{})
	em.AddBlob(activityemulator.Blob{ContentType: aad, Created: time.Now().Add(-5 * time.Hour), Records: records(0, 2)})
	h := newHarness(t, em)
	h.start()
	h.waitRecords(2)
	listsAfterBackfill := em.Stats().Lists

	em.AddBlob(activityemulator.Blob{ContentType: aad, Created: time.Now(), Records: records(100, 3)})
	h.waitRecords(5)
	h.waitPolls(2)
	assert.Equal(t, 5, len(h.sink.bodies()))
	// The backfill took 7 to 8 windows; a poll after it lists the overlap
	// and the time since, one window.
	assert.GreaterOrEqual(t, listsAfterBackfill, 7)
	cursor, ok := h.rcv.store.Cursor(aad)
	require.True(t, ok)
	assert.WithinDuration(t, time.Now(), cursor, 5*time.Second)
}

// Throttling and server errors are retried, honouring Retry-After; nothing
// is lost or repeated.
func TestThrottlingAndServerErrorsAreRetried(t *testing.T) {
	em := newEmulator(t, activityemulator.Options{})
	now := time.Now()
	em.AddBlob(activityemulator.Blob{ContentType: aad, Created: now.Add(-2 * time.Hour), Records: records(0, 3)})
	em.AddBlob(activityemulator.Blob{ContentType: aad, Created: now.Add(-time.Hour), Records: records(10, 3)})
	em.FailNext(activityemulator.OpList, 1, activityemulator.Fault{Status: 429, Code: "AF429", RetryAfter: time.Second})
	em.FailNext(activityemulator.OpFetch, 1, activityemulator.Fault{Status: 503})
	em.FailNext(activityemulator.OpFetch, 1, activityemulator.Fault{Status: 500, Code: "AF50000"})

	h := newHarness(t, em)
	h.cfg.MaxConcurrentDownloads = 1
	start := time.Now()
	h.start()
	h.waitRecords(6)
	assert.GreaterOrEqual(t, time.Since(start), time.Second, "Retry-After: 1 was honoured")
	h.waitPolls(1)
	assert.Len(t, h.sink.bodies(), 6)
	assert.Equal(t, 6, h.sink.count())
	assert.Equal(t, int64(1), h.counter("receiver_o365_management_activity_throttled"))
	assert.Equal(t, int64(1), h.counter("receiver_o365_management_activity_requests", "operation=list", "outcome=throttled"))
	assert.Equal(t, int64(2), h.counter("receiver_o365_management_activity_requests", "operation=fetch", "outcome=retryable"))
}

// A token that expires or is revoked mid-run is renewed, and the run goes
// on without a gap.
func TestTokenRenewedMidRun(t *testing.T) {
	em := newEmulator(t, activityemulator.Options{TokenLifetime: 2 * time.Second})
	em.AddBlob(activityemulator.Blob{ContentType: aad, Created: time.Now().Add(-time.Hour), Records: records(0, 2)})
	h := newHarness(t, em)
	h.start()
	h.waitRecords(2)
	first := em.Stats().TokenRequests

	em.RevokeTokens()
	em.AddBlob(activityemulator.Blob{ContentType: aad, Created: time.Now(), Records: records(10, 2)})
	h.waitRecords(4)
	// And past the 2 s lifetime.
	time.Sleep(2500 * time.Millisecond)
	em.AddBlob(activityemulator.Blob{ContentType: aad, Created: time.Now(), Records: records(20, 2)})
	h.waitRecords(6)

	stats := em.Stats()
	assert.Greater(t, stats.TokenRequests, first+1, "a new token after the revocation and after the expiry")
	assert.Zero(t, stats.TokenFailures)
	assert.Len(t, h.sink.bodies(), 6)
	assert.Zero(t, h.counter("receiver_o365_management_activity_requests", "outcome=failure"))
}

// AF20022 (the subscription is gone) starts the subscription again, and the
// content waiting since is delivered.
func TestMissingSubscriptionIsStartedAgain(t *testing.T) {
	em := newEmulator(t, activityemulator.Options{})
	em.AddBlob(activityemulator.Blob{ContentType: aad, Created: time.Now().Add(-time.Hour), Records: records(0, 2)})
	h := newHarness(t, em)
	h.start()
	h.waitRecords(2)

	em.DisableSubscription(aad)
	require.Eventually(t, func() bool { return em.Stats().Starts[aad] >= 2 }, 10*time.Second, 10*time.Millisecond)
	em.AddBlob(activityemulator.Blob{ContentType: aad, Created: time.Now(), Records: records(10, 2)})
	h.waitRecords(4)
	assert.True(t, logged(h.logs, "subscription is missing", "AF20022"))
	assert.Len(t, h.sink.bodies(), 4)
}

// Expired content (AF20051) is logged, counted and skipped; the cursor goes
// on past it.
func TestExpiredContentIsSkipped(t *testing.T) {
	em := newEmulator(t, activityemulator.Options{})
	now := time.Now()
	em.AddBlob(activityemulator.Blob{ContentType: aad, Created: now.Add(-2 * time.Hour), Records: records(0, 2)})
	em.AddBlob(activityemulator.Blob{ContentType: aad, Created: now.Add(-time.Hour), Records: records(10, 2)})
	em.FailNext(activityemulator.OpFetch, 1, activityemulator.Fault{Status: 400, Code: "AF20051"})

	h := newHarness(t, em)
	h.cfg.MaxConcurrentDownloads = 1
	h.start()
	h.waitRecords(2)
	h.waitPolls(2)
	assert.Equal(t, 2, h.sink.count(), "the expired blob's records cannot be had")
	assert.Equal(t, int64(1), h.counter("receiver_o365_management_activity_blobs_expired", "content_type="+aad))
	assert.True(t, logged(h.logs, "expired"))
	cursor, _ := h.rcv.store.Cursor(aad)
	assert.WithinDuration(t, time.Now(), cursor, 5*time.Second, "the cursor passed the expired blob")
}

// A wrong secret is an error naming the cause from Entra's answer, retried
// at the poll interval, not in a tight loop; the secret is never logged.
func TestWrongSecretIsNamedAndRetriedSlowly(t *testing.T) {
	em := newEmulator(t, activityemulator.Options{})
	// Many blobs: a refused token must not be asked for once per blob.
	for i := range 30 {
		em.AddBlob(activityemulator.Blob{ContentType: aad, Created: time.Now().Add(-time.Hour + time.Duration(i)*time.Second), Records: records(i*10, 2)})
	}
	h := newHarness(t, em)
	h.cfg.ClientSecret = "not-the-secret-value"
	h.cfg.PollInterval = time.Second
	h.start()
	time.Sleep(2500 * time.Millisecond)
	h.stop()

	assert.Zero(t, h.sink.count())
	stats := em.Stats()
	assert.LessOrEqual(t, stats.TokenRequests, 4, "one token request per poll at most")
	assert.GreaterOrEqual(t, stats.TokenRequests, 2, "retried at the next poll")
	assert.True(t, logged(h.logs, "AADSTS7000215"), "the error names Entra's code")
	for _, e := range h.logs.All() {
		for _, f := range e.Context {
			assert.NotContains(t, f.String+fmt.Sprint(f.Interface), "not-the-secret-value")
		}
	}
	assert.Positive(t, h.counter("receiver_o365_management_activity_requests", "operation=token", "outcome=failure"))
}

// A blob of 100,000 records is sent in batches of batch_size, never whole.
func TestLargeBlobIsSentInBatches(t *testing.T) {
	em := newEmulator(t, activityemulator.Options{})
	const n = 100_000
	em.AddBlob(activityemulator.Blob{ContentType: aad, Created: time.Now().Add(-time.Hour), Count: n,
		Record: func(i int) string { return record(guid(i), i) }})
	h := newHarness(t, em)
	h.cfg.BatchSize = 1000
	h.start()
	h.waitRecords(n)
	h.sink.mu.Lock()
	defer h.sink.mu.Unlock()
	assert.Len(t, h.sink.batches, n/1000)
	for _, size := range h.sink.batches {
		assert.LessOrEqual(t, size, 1000)
	}
}

// A batch the next consumer refuses is sent again, never skipped, and its
// records are not taken for duplicates when they come again.
func TestRefusedBatchIsSentAgain(t *testing.T) {
	em := newEmulator(t, activityemulator.Options{})
	em.AddBlob(activityemulator.Blob{ContentType: aad, Created: time.Now().Add(-time.Hour), Records: records(0, 5)})
	h := newHarness(t, em)
	h.sink.refuse = 3
	h.start()
	h.waitRecords(5)
	h.waitPolls(1)
	assert.Len(t, h.sink.bodies(), 5)
	assert.Equal(t, 5, h.sink.count())
	assert.Zero(t, h.counter("receiver_o365_management_activity_records_duplicate"))
}

// A consumer that refuses for longer than retry_on_failure allows leaves the
// blob for the next poll, and the cursor does not pass it.
func TestRefusalPastRetryLimitHoldsTheCursor(t *testing.T) {
	em := newEmulator(t, activityemulator.Options{})
	created := time.Now().Add(-3 * time.Hour)
	em.AddBlob(activityemulator.Blob{ContentType: aad, Created: created, Records: records(0, 2)})
	h := newHarness(t, em)
	h.cfg.RetryOnFailure.MaxElapsedTime = 100 * time.Millisecond
	h.sink.refuse = 1 << 30
	h.start()
	h.waitPolls(3)
	cursor, ok := h.rcv.store.Cursor(aad)
	require.True(t, ok, "the backfill's cursor is saved")
	assert.Equal(t, created.UTC().Truncate(time.Second), cursor, "the cursor waits at the refused blob")
	h.sink.mu.Lock()
	h.sink.refuse = 0
	h.sink.mu.Unlock()
	h.waitRecords(2)
	assert.Len(t, h.sink.bodies(), 2)
}

// A restart on the same storage resumes from the cursor: nothing delivered
// before is fetched or sent again, and what came meanwhile is.
func TestRestartResumesFromStorage(t *testing.T) {
	em := newEmulator(t, activityemulator.Options{})
	now := time.Now()
	old := em.AddBlob(activityemulator.Blob{ContentType: aad, Created: now.Add(-30 * time.Minute), Records: records(0, 3)})
	h := newHarness(t, em)
	h.start()
	h.waitRecords(3)
	h.waitPolls(1)
	h.stop()

	em.AddBlob(activityemulator.Blob{ContentType: aad, Created: time.Now(), Records: records(10, 2)})
	h.sink = &recordSink{}
	h.start()
	h.waitRecords(2)
	h.waitPolls(2)
	assert.Equal(t, 2, h.sink.count(), "only the new blob's records")
	assert.Equal(t, 1, em.Stats().Fetches[old], "the old blob, in the overlap, is not fetched again")
}

// The bearer token goes to the API host only, even where a contentUri
// names another host.
func TestTokenGoesToTheAPIHostOnly(t *testing.T) {
	em := newEmulator(t, activityemulator.Options{})
	em.AddBlob(activityemulator.Blob{ContentType: aad, Created: time.Now().Add(-time.Hour), Records: records(0, 2), Foreign: true})
	h := newHarness(t, em)
	h.start()
	h.waitRecords(2)
	stats := em.Stats()
	assert.Zero(t, stats.ForeignRequests)
	assert.Zero(t, stats.ForeignWithAuth)
	assert.Zero(t, stats.LoginWithBearer)
}

// A fatal error (here AF20011, a tenant the API does not know) stops that
// content type with an error naming it; the others go on.
func TestFatalErrorStopsOneContentType(t *testing.T) {
	em := newEmulator(t, activityemulator.Options{})
	em.AddBlob(activityemulator.Blob{ContentType: aad, Created: time.Now().Add(-time.Hour), Records: records(0, 2)})
	em.AddBlob(activityemulator.Blob{ContentType: ContentTypeExchange, Created: time.Now().Add(-time.Hour), Records: records(10, 2)})
	em.FailNext(activityemulator.OpStart, 1, activityemulator.Fault{Status: 400, Code: "AF20011", Message: "Specified tenant ID does not exist in the system or has been deleted."})
	h := newHarness(t, em)
	h.cfg.ContentTypes = []string{aad, ContentTypeExchange}
	h.start()
	h.waitRecords(2)
	h.waitPolls(3)
	assert.Equal(t, 2, h.sink.count(), "one content type delivered, the other stopped")
	assert.True(t, logged(h.logs, "Stopped polling", "AF20011"))
}

// A storage outage does not stop delivery: the records go on, once each,
// and the failure is logged.
func TestStorageOutageDoesNotStopDelivery(t *testing.T) {
	em := newEmulator(t, activityemulator.Options{})
	em.AddBlob(activityemulator.Blob{ContentType: aad, Created: time.Now().Add(-2 * time.Hour), Records: records(0, 10)})
	em.AddBlob(activityemulator.Blob{ContentType: aad, Created: time.Now().Add(-time.Hour), Records: records(100, 10)})
	h := newHarness(t, em)
	h.cfg.BatchSize = 3
	h.start()
	h.store.SetFail(errors.New("disk full"))
	h.waitRecords(20)
	h.waitPolls(2)
	assert.Len(t, h.sink.bodies(), 20)
	assert.Equal(t, 20, h.sink.count(), "each record once, though nothing could be saved")
	assert.True(t, logged(h.logs, "Saving the checkpoint failed", "disk full"))
	for id, n := range em.Stats().Fetches {
		assert.Equal(t, 1, n, "blob %s fetched once: the checkpoint in memory knows it", id)
	}
}

// A blob that is not a JSON array is fetched again at the next polls (a
// proxy's error page is malformed once) and given up at the third: the
// records before the fault are delivered once, even with dedup off, and the
// cursor moves on.
func TestMalformedBlobIsGivenUpAtTheThirdFetch(t *testing.T) {
	em := newEmulator(t, activityemulator.Options{})
	bad := em.AddBlob(activityemulator.Blob{ContentType: aad, Created: time.Now().Add(-2 * time.Hour),
		Records: []string{record(guid(1), 1), record(guid(2), 2), `{"Id":`}})
	em.AddBlob(activityemulator.Blob{ContentType: aad, Created: time.Now().Add(-time.Hour), Records: records(10, 2)})
	h := newHarness(t, em)
	h.cfg.Dedup.Enabled = false
	h.cfg.BatchSize = 1
	h.start()
	require.Eventually(t, func() bool { return h.counter("receiver_o365_management_activity_blobs_invalid") == 1 }, 20*time.Second, 10*time.Millisecond)
	h.waitPolls(2)
	assert.Equal(t, 3, em.Stats().Fetches[bad])
	assert.Equal(t, 4, h.sink.count(), "the two records before the fault once each, and the other blob's two")
	assert.Len(t, h.sink.bodies(), 4)
	assert.True(t, logged(h.logs, "not a well-formed JSON array", bad))
	cursor, _ := h.rcv.store.Cursor(aad)
	assert.WithinDuration(t, time.Now(), cursor, 5*time.Second, "the cursor passed the given-up blob")
}

// A blob held by a refusal resumes at the next poll where it stopped:
// with dedup off, no record of it is sent twice.
func TestHeldBlobResumesWhereItStopped(t *testing.T) {
	em := newEmulator(t, activityemulator.Options{})
	em.AddBlob(activityemulator.Blob{ContentType: aad, Created: time.Now().Add(-time.Hour), Records: records(0, 6)})
	h := newHarness(t, em)
	h.cfg.Dedup.Enabled = false
	h.cfg.BatchSize = 2
	h.cfg.RetryOnFailure.MaxElapsedTime = 50 * time.Millisecond
	h.sink.refuseAfter(1, 20) // accept the first batch, then refuse 20 times
	h.start()
	h.waitRecords(6)
	h.waitPolls(2)
	assert.Len(t, h.sink.bodies(), 6)
	assert.Equal(t, 6, h.sink.count(), "each record once")
	var fetches int
	for _, n := range em.Stats().Fetches {
		fetches += n
	}
	assert.Greater(t, fetches, 1, "the blob was held and fetched again")
}

// A start that fails is not sent again for 15 minutes, as Microsoft asks;
// the polls meanwhile say why nothing comes.
func TestFailedStartWaitsBeforeTheNext(t *testing.T) {
	em := newEmulator(t, activityemulator.Options{})
	em.AddBlob(activityemulator.Blob{ContentType: aad, Created: time.Now().Add(-time.Hour), Records: records(0, 2)})
	em.FailNext(activityemulator.OpStart, 1, activityemulator.Fault{Status: 403})
	h := newHarness(t, em)
	h.start()
	h.waitPolls(4)
	assert.Equal(t, 1, em.Stats().Starts[aad])
	assert.Zero(t, h.sink.count())
	assert.True(t, logged(h.logs, "at most one start every 15 minutes"))
}
