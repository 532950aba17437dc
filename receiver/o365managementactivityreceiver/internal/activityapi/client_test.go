package activityapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/config/configretry"

	"github.com/o365detect/o365detect/receiver/o365managementactivityreceiver/internal/retry"
)

const tenant = "5f2b8c1d-3e4a-4b6c-9d7e-0a1b2c3d4e5f"

// tokens hands out "t1", "t2", ... and records invalidations.
type tokens struct {
	mu          sync.Mutex
	n           int
	invalidated []string
}

func (s *tokens) Token(context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.n == 0 {
		s.n = 1
	}
	return fmt.Sprintf("t%d", s.n), nil
}

func (s *tokens) Invalidate(tok string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.invalidated = append(s.invalidated, tok)
	s.n++
}

// recorder is a test server that answers with a scripted handler and keeps
// the requests' waits.
type testAPI struct {
	*httptest.Server
	tokens *tokens
	client *Client
	waits  []time.Duration
	// held are the waits for a Retry-After before later requests.
	held []time.Duration
}

func newTestAPI(t *testing.T, h http.HandlerFunc) *testAPI {
	t.Helper()
	srv := httptest.NewTLSServer(h)
	t.Cleanup(srv.Close)
	a := &testAPI{Server: srv, tokens: &tokens{}}
	cfg := configretry.NewDefaultBackOffConfig()
	cfg.RandomizationFactor = 0
	c, err := New(Config{
		BaseURL:     srv.URL,
		TenantID:    tenant,
		PublisherID: tenant,
		HTTPClient:  srv.Client(),
		Tokens:      a.tokens,
		Retry:       cfg,
	})
	require.NoError(t, err)
	c.newRetry = func(cfg configretry.BackOffConfig) *retry.Waiter {
		w := retry.New(cfg)
		w.Sleep = func(_ context.Context, d time.Duration) error {
			a.waits = append(a.waits, d)
			return nil
		}
		return w
	}
	c.sleep = func(_ context.Context, d time.Duration) error {
		a.held = append(a.held, d)
		return nil
	}
	a.client = c
	return a
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = fmt.Fprintf(w, `{"error":{"code":%q,"message":%q}}`, code, msg)
}

func TestListFollowsNextPageUri(t *testing.T) {
	var a *testAPI
	var queries []string
	a = newTestAPI(t, func(w http.ResponseWriter, r *http.Request) {
		assert.Equal(t, "/api/v1.0/"+tenant+"/activity/feed/subscriptions/content", r.URL.Path)
		assert.Equal(t, "Bearer t1", r.Header.Get("Authorization"))
		assert.Equal(t, tenant, r.URL.Query().Get("PublisherIdentifier"))
		queries = append(queries, r.URL.RawQuery)
		page := r.URL.Query().Get("nextPage")
		switch page {
		case "":
			w.Header().Set("NextPageUri", a.URL+r.URL.Path+"?contentType=Audit.AzureActiveDirectory&nextPage=p2")
			_, _ = io.WriteString(w, `[{"contentType":"Audit.AzureActiveDirectory","contentId":"a","contentUri":"x","contentCreated":"2025-03-04T10:00:00.000Z","contentExpiration":"2025-03-11T10:00:00.000Z"}]`)
		case "p2":
			// Go canonicalises the header name; the API sends this spelling.
			w.Header()["NextPageUri"] = []string{a.URL + r.URL.Path + "?contentType=Audit.AzureActiveDirectory&nextPage=p3&PublisherIdentifier=" + tenant}
			_, _ = io.WriteString(w, `[{"contentId":"b","contentCreated":"2025-03-04T11:00:00.000Z"},{"contentId":"c","contentCreated":"2025-03-04T12:00:00.000Z"}]`)
		case "p3":
			_, _ = io.WriteString(w, `[]`)
		}
	})
	start := time.Date(2025, 3, 4, 9, 0, 0, 900e6, time.UTC)
	blobs, err := a.client.List(context.Background(), "Audit.AzureActiveDirectory", start, start.Add(24*time.Hour))
	require.NoError(t, err)
	ids := []string{}
	for _, b := range blobs {
		ids = append(ids, b.ContentID)
	}
	assert.Equal(t, []string{"a", "b", "c"}, ids)
	assert.Equal(t, time.Date(2025, 3, 4, 10, 0, 0, 0, time.UTC), blobs[0].ContentCreated)
	require.Len(t, queries, 3)
	assert.Contains(t, queries[0], "startTime=2025-03-04T09%3A00%3A00")
	assert.Contains(t, queries[0], "endTime=2025-03-05T09%3A00%3A00")
}

func TestRetryableErrorsHonourRetryAfter(t *testing.T) {
	tests := []struct {
		name     string
		fail     func(w http.ResponseWriter)
		wantWait time.Duration
	}{
		{"429 with Retry-After", func(w http.ResponseWriter) {
			w.Header().Set("Retry-After", "7")
			writeError(w, http.StatusTooManyRequests, "AF429", "Too many requests.")
		}, 7 * time.Second},
		{"503 without Retry-After backs off", func(w http.ResponseWriter) {
			w.WriteHeader(http.StatusServiceUnavailable)
		}, 5 * time.Second},
		{"408", func(w http.ResponseWriter) { w.WriteHeader(http.StatusRequestTimeout) }, 5 * time.Second},
		{"AF50000 on a 400", func(w http.ResponseWriter) {
			writeError(w, http.StatusBadRequest, "AF50000", "An internal error occurred.")
		}, 5 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			a := newTestAPI(t, func(w http.ResponseWriter, _ *http.Request) {
				calls++
				if calls <= 2 {
					tt.fail(w)
					return
				}
				_, _ = io.WriteString(w, `[]`)
			})
			var outcomes []Outcome
			a.client.cfg.Observe = func(_ Op, o Outcome) { outcomes = append(outcomes, o) }
			_, err := a.client.List(context.Background(), "Audit.Exchange", time.Now().Add(-time.Hour), time.Now())
			require.NoError(t, err)
			assert.Equal(t, 3, calls)
			require.Len(t, a.waits, 2)
			assert.Equal(t, tt.wantWait, a.waits[0])
			assert.Equal(t, OutcomeSuccess, outcomes[2])
			assert.NotEqual(t, OutcomeSuccess, outcomes[0])
		})
	}
}

func TestRetriesStopAfterMaxElapsedTime(t *testing.T) {
	a := newTestAPI(t, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Retry-After", "400")
		writeError(w, http.StatusTooManyRequests, "AF429", "Too many requests.")
	})
	_, err := a.client.List(context.Background(), "Audit.Exchange", time.Now().Add(-time.Hour), time.Now())
	require.Error(t, err)
	assert.ErrorIs(t, err, retry.ErrGaveUp)
	assert.Empty(t, a.waits, "a 400 s Retry-After is past the 5 min limit: no wait")
}

func TestUnauthorizedRenewsTheTokenOnce(t *testing.T) {
	var seen []string
	a := newTestAPI(t, func(w http.ResponseWriter, r *http.Request) {
		seen = append(seen, r.Header.Get("Authorization"))
		if r.Header.Get("Authorization") == "Bearer t1" {
			writeError(w, http.StatusUnauthorized, "", "")
			return
		}
		_, _ = io.WriteString(w, `[]`)
	})
	_, err := a.client.List(context.Background(), "Audit.Exchange", time.Now().Add(-time.Hour), time.Now())
	require.NoError(t, err)
	assert.Equal(t, []string{"Bearer t1", "Bearer t2"}, seen)
	assert.Equal(t, []string{"t1"}, a.tokens.invalidated)
	assert.Empty(t, a.waits, "a renewal is at once")

	// A second 401 after the renewal is returned, not retried forever.
	b := newTestAPI(t, func(w http.ResponseWriter, _ *http.Request) {
		writeError(w, http.StatusUnauthorized, "", "")
	})
	_, err = b.client.List(context.Background(), "Audit.Exchange", time.Now().Add(-time.Hour), time.Now())
	var apiErr *Error
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, http.StatusUnauthorized, apiErr.Status)
	assert.Len(t, b.tokens.invalidated, 1)
}

func TestErrorClasses(t *testing.T) {
	tests := []struct {
		code                                       string
		status                                     int
		fatal, missing, expired, enabled, retrying bool
	}{
		{code: "AF20001", status: 400, fatal: true},
		{code: "AF20011", status: 400, fatal: true},
		{code: "AF20021", status: 400, fatal: true},
		{code: "AF20022", status: 400, missing: true},
		{code: "AF20023", status: 400, missing: true},
		{code: "AF20024", status: 400, enabled: true},
		{code: "AF20051", status: 400, expired: true},
		{code: "AF429", status: 429, retrying: true},
		{code: "AF50005", status: 500, retrying: true},
		{code: "", status: 403},
		{code: "", status: 401},
		{code: "AF20030", status: 400},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d %s", tt.status, tt.code), func(t *testing.T) {
			err := fmt.Errorf("wrapped: %w", &Error{Op: OpList, Status: tt.status, Code: tt.code})
			assert.Equal(t, tt.fatal, IsFatal(err), "IsFatal")
			assert.Equal(t, tt.missing, IsSubscriptionMissing(err), "IsSubscriptionMissing")
			assert.Equal(t, tt.expired, IsExpired(err), "IsExpired")
			assert.Equal(t, tt.enabled, IsAlreadyEnabled(err), "IsAlreadyEnabled")
			assert.Equal(t, tt.retrying, retryable(err), "retryable")
		})
	}
	assert.True(t, retryable(errors.New("connection reset")), "a transport error is retried")
	assert.False(t, retryable(&tokenError{permanent{}}), "a wrong secret is not retried at once")
	assert.True(t, retryable(&tokenError{errors.New("timeout")}))
}

type permanent struct{}

func (permanent) Error() string   { return "wrong client secret" }
func (permanent) Permanent() bool { return true }

func TestStartSubscriptionAlreadyEnabledIsSuccess(t *testing.T) {
	var bodies []string
	a := newTestAPI(t, func(w http.ResponseWriter, r *http.Request) {
		assert.Equal(t, http.MethodPost, r.Method)
		assert.Equal(t, "Audit.General", r.URL.Query().Get("contentType"))
		b, _ := io.ReadAll(r.Body)
		bodies = append(bodies, string(b))
		writeError(w, http.StatusBadRequest, "AF20024", "The subscription is already enabled. No property change.")
	})
	require.NoError(t, a.client.StartSubscription(context.Background(), "Audit.General"))
	assert.Equal(t, []string{"{}"}, bodies)
}

// The token goes to the configured API host only: a contentUri or a page
// link naming another host is sent to the configured one, and a path outside
// the tenant's feed is refused.
func TestURLsAreMappedOntoTheAPIHost(t *testing.T) {
	var foreignAuth []string
	foreign := httptest.NewTLSServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		foreignAuth = append(foreignAuth, r.Header.Get("Authorization"))
	}))
	defer foreign.Close()

	var paths []string
	a := newTestAPI(t, func(w http.ResponseWriter, r *http.Request) {
		paths = append(paths, r.URL.RequestURI())
		_, _ = io.WriteString(w, `[{"Id":"1"}]`)
	})
	feed := "/api/v1.0/" + tenant + "/activity/feed/audit/abc"
	body, err := a.client.Fetch(context.Background(), Blob{ContentID: "abc", ContentURI: foreign.URL + feed + "?x=1"})
	require.NoError(t, err)
	b, _ := io.ReadAll(body)
	_ = body.Close()
	assert.Equal(t, `[{"Id":"1"}]`, string(b))
	require.Len(t, paths, 1)
	assert.True(t, strings.HasPrefix(paths[0], feed+"?"), paths[0])
	assert.Contains(t, paths[0], "PublisherIdentifier="+tenant)
	assert.Empty(t, foreignAuth, "nothing reaches the foreign host")

	for _, bad := range []string{
		a.URL + "/api/v1.0/another-tenant/activity/feed/audit/abc",
		foreign.URL + "/steal",
		"https://manage.office.com/api/v1.0/" + tenant + "/../../x",
		a.URL + feed + "/../../../../../other",
	} {
		_, err := a.client.Fetch(context.Background(), Blob{ContentID: "abc", ContentURI: bad})
		assert.Error(t, err, bad)
	}
	assert.Len(t, paths, 1, "a refused URL is never requested")
}

func TestBasePathIsKeptBehindAProxy(t *testing.T) {
	var paths []string
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		paths = append(paths, r.URL.Path)
		_, _ = io.WriteString(w, `[]`)
	}))
	defer srv.Close()
	c, err := New(Config{BaseURL: srv.URL + "/o365/", TenantID: tenant, PublisherID: tenant, HTTPClient: srv.Client()})
	require.NoError(t, err)
	body, err := c.Fetch(context.Background(), Blob{ContentURI: "https://manage.office.com/api/v1.0/" + tenant + "/activity/feed/audit/abc"})
	require.NoError(t, err)
	_ = body.Close()
	_, err = c.List(context.Background(), "Audit.Exchange", time.Now().Add(-time.Hour), time.Now())
	require.NoError(t, err)
	assert.Equal(t, []string{
		"/o365/api/v1.0/" + tenant + "/activity/feed/audit/abc",
		"/o365/api/v1.0/" + tenant + "/activity/feed/subscriptions/content",
	}, paths)
}

// The reference's NextPageUri sample writes /api/v1/ where requests use
// /api/v1.0/, and the service may print the tenant in another case than the
// configuration: both are still this tenant's feed.
func TestFeedPathSpellings(t *testing.T) {
	c, err := New(Config{BaseURL: "https://manage.office.com", TenantID: strings.ToUpper(tenant), HTTPClient: http.DefaultClient})
	require.NoError(t, err)
	tests := []struct {
		path string
		ok   bool
	}{
		{"/api/v1.0/" + tenant + "/activity/feed/subscriptions/content", true},
		{"/api/v1/" + tenant + "/activity/feed/subscriptions/content", true},
		{"/api/v1.0/" + strings.ToUpper(tenant) + "/activity/feed/audit/x", true},
		{"/api/v2/" + tenant + "/activity/feed/audit/x", false},
		{"/api/v1.0/" + tenant + "/activity/other", false},
		{"/api/v1.0/" + tenant + "/activity/feed/../../other/x", false},
		{"/api/v1.0/11111111-2222-4333-8444-555555555555/activity/feed/x", false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.ok, c.inFeed(tt.path), tt.path)
	}
	assert.Contains(t, c.feedURL("subscriptions/list", url.Values{}), "/api/v1.0/"+tenant+"/", "requests name the tenant in lower case")
}

// A Retry-After longer than the retry budget ends the request, and the next
// request, in this poll or the next, waits it out first.
func TestRetryAfterHoldsAcrossRequests(t *testing.T) {
	calls := 0
	a := newTestAPI(t, func(w http.ResponseWriter, _ *http.Request) {
		calls++
		if calls == 1 {
			w.Header().Set("Retry-After", "600")
			writeError(w, http.StatusTooManyRequests, "AF429", "Too many requests.")
			return
		}
		_, _ = io.WriteString(w, `[]`)
	})
	_, err := a.client.List(context.Background(), "Audit.Exchange", time.Now().Add(-time.Hour), time.Now())
	require.ErrorIs(t, err, retry.ErrGaveUp)
	_, err = a.client.List(context.Background(), "Audit.Exchange", time.Now().Add(-time.Hour), time.Now())
	require.NoError(t, err)
	require.Len(t, a.held, 1, "the second request waited")
	assert.InDelta(t, 600, a.held[0].Seconds(), 5)
}

// The HTTP timeout bounds each wait for the API's data, not the time the
// caller takes between reads of a blob.
func TestFetchTimeoutIsPerRead(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `[{"Id":"1"},`)
		w.(http.Flusher).Flush()
		if strings.HasSuffix(r.URL.Path, "/stall") {
			<-release
		}
		_, _ = io.WriteString(w, `{"Id":"2"}]`)
	}))
	defer srv.Close()
	defer close(release)
	client := srv.Client()
	client.Timeout = 300 * time.Millisecond
	c, err := New(Config{BaseURL: srv.URL, TenantID: tenant, PublisherID: tenant, HTTPClient: client})
	require.NoError(t, err)
	feed := srv.URL + "/api/v1.0/" + tenant + "/activity/feed/audit/"

	body, err := c.Fetch(context.Background(), Blob{ContentURI: feed + "slow-reader"})
	require.NoError(t, err)
	first := make([]byte, 12)
	_, err = io.ReadFull(body, first)
	require.NoError(t, err)
	time.Sleep(600 * time.Millisecond) // the pipeline takes its time
	rest, err := io.ReadAll(body)
	require.NoError(t, err, "time between reads is not the API's")
	assert.Equal(t, `[{"Id":"1"},{"Id":"2"}]`, string(first)+string(rest))
	require.NoError(t, body.Close())

	body, err = c.Fetch(context.Background(), Blob{ContentURI: feed + "stall"})
	require.NoError(t, err)
	_, err = io.ReadAll(body)
	require.Error(t, err, "an API that stops sending is cut off")
	_ = body.Close()
}
