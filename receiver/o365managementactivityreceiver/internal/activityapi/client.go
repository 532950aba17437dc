package activityapi // import "github.com/o365detect/o365detect/receiver/o365managementactivityreceiver/internal/activityapi"

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	pathpkg "path"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/collector/config/configretry"
	"golang.org/x/time/rate"

	"github.com/o365detect/o365detect/receiver/o365managementactivityreceiver/internal/retry"
)

// TokenSource gives the bearer token for API requests.
type TokenSource interface {
	Token(ctx context.Context) (string, error)
	// Invalidate drops token after the API refused it, so that the next
	// Token fetches a new one.
	Invalidate(token string)
}

// Config configures a Client.
type Config struct {
	// BaseURL is the API base, such as https://manage.office.com.
	BaseURL string
	// TenantID goes into every request path.
	TenantID string
	// PublisherID is sent as PublisherIdentifier on every request.
	PublisherID string
	// HTTPClient sends the requests.
	HTTPClient *http.Client
	// Tokens is nil when HTTPClient authenticates the requests itself (an
	// auth extension).
	Tokens TokenSource
	// Limiter paces the requests; nil means no pacing.
	Limiter *rate.Limiter
	// Retry is the backoff for retryable errors. Retry-After, when the API
	// sends it, takes precedence.
	Retry configretry.BackOffConfig
	// Observe, if set, is told the outcome of every request.
	Observe func(Op, Outcome)
}

// Client calls the Management Activity API of one tenant.
type Client struct {
	cfg  Config
	base *url.URL
	// feed is the path prefix of every request: {base path}/api/v1.0/{tenant}/activity/feed/.
	feed string
	// fetchClient is HTTPClient without its overall timeout: a blob is read
	// while the pipeline takes its batches, which may take longer than any
	// timeout fit for a request. stallTimeout, HTTPClient's timeout, bounds
	// each wait for data instead.
	fetchClient  *http.Client
	stallTimeout time.Duration
	// newRetry spaces the attempts of one request, and sleep waits out a
	// Retry-After before any request; tests replace them.
	newRetry func(configretry.BackOffConfig) *retry.Waiter
	sleep    func(context.Context, time.Duration) error

	mu sync.Mutex
	// notBefore is when the API may be called again after it asked to wait
	// (Retry-After); it holds across requests and polls.
	notBefore time.Time
}

// New returns a Client.
func New(cfg Config) (*Client, error) {
	base, err := url.Parse(strings.TrimRight(cfg.BaseURL, "/"))
	if err != nil {
		return nil, fmt.Errorf("API base URL: %w", err)
	}
	if cfg.Observe == nil {
		cfg.Observe = func(Op, Outcome) {}
	}
	fetchClient := *cfg.HTTPClient
	fetchClient.Timeout = 0
	return &Client{
		cfg:  cfg,
		base: base,
		// GUIDs are case-insensitive; the service prints them in lower case.
		feed:         base.Path + "/api/v1.0/" + url.PathEscape(strings.ToLower(cfg.TenantID)) + "/activity/feed/",
		fetchClient:  &fetchClient,
		stallTimeout: cfg.HTTPClient.Timeout,
		newRetry:     retry.New,
		sleep:        retry.Sleep,
	}, nil
}

// StartSubscription starts the subscription to contentType. A subscription
// that is already enabled (AF20024) is success.
func (c *Client) StartSubscription(ctx context.Context, contentType string) error {
	u := c.feedURL("subscriptions/start", url.Values{"contentType": {contentType}})
	resp, err := c.do(ctx, OpStart, http.MethodPost, u)
	if IsAlreadyEnabled(err) {
		return nil
	}
	if err != nil {
		return err
	}
	return drain(resp)
}

// Blob is one entry of a content listing.
type Blob struct {
	ContentType       string    `json:"contentType"`
	ContentID         string    `json:"contentId"`
	ContentURI        string    `json:"contentUri"`
	ContentCreated    time.Time `json:"contentCreated"`
	ContentExpiration time.Time `json:"contentExpiration"`
}

// listTimeFormat is the most precise format the listing accepts.
const listTimeFormat = "2006-01-02T15:04:05"

// List returns the blobs of contentType whose contentCreated is in
// [start, end), following NextPageUri to the last page. The API takes whole
// seconds: start and end are truncated to the second.
func (c *Client) List(ctx context.Context, contentType string, start, end time.Time) ([]Blob, error) {
	u := c.feedURL("subscriptions/content", url.Values{
		"contentType": {contentType},
		"startTime":   {start.UTC().Format(listTimeFormat)},
		"endTime":     {end.UTC().Format(listTimeFormat)},
	})
	var all []Blob
	for u != "" {
		resp, err := c.do(ctx, OpList, http.MethodGet, u)
		if err != nil {
			return all, err
		}
		var page []Blob
		err = json.NewDecoder(resp.Body).Decode(&page)
		_ = drain(resp)
		if err != nil {
			return all, fmt.Errorf("%s: reading the listing: %w", OpList, err)
		}
		all = append(all, page...)
		u = ""
		if next := resp.Header.Get("NextPageUri"); next != "" {
			if u, err = c.onAPIHost(next); err != nil {
				return all, fmt.Errorf("%s: NextPageUri: %w", OpList, err)
			}
		}
	}
	return all, nil
}

// Fetch opens a blob. The caller reads the JSON array from the body and
// closes it; an error while reading is a cut transfer, to be fetched again.
func (c *Client) Fetch(ctx context.Context, b Blob) (io.ReadCloser, error) {
	u, err := c.onAPIHost(b.ContentURI)
	if err != nil {
		return nil, fmt.Errorf("%s %s: contentUri: %w", OpFetch, b.ContentID, err)
	}
	resp, err := c.do(ctx, OpFetch, http.MethodGet, u)
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}

func (c *Client) feedURL(op string, q url.Values) string {
	q.Set("PublisherIdentifier", c.cfg.PublisherID)
	u := *c.base
	u.Path = c.feed + op
	u.RawPath = ""
	u.RawQuery = q.Encode()
	return u.String()
}

// onAPIHost maps a URL the API handed out (contentUri, NextPageUri) onto the
// configured API base, so the token goes to that host only, whatever host
// the URL names: behind a proxy the service still names its own host. The
// path must be one of this tenant's feed, or the URL is refused.
func (c *Client) onAPIHost(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", err
	}
	path := u.Path
	if u.Host != c.base.Host || u.Scheme != c.base.Scheme {
		path = c.base.Path + u.Path
	}
	if !c.inFeed(path) {
		return "", fmt.Errorf("%q is not a path of this tenant's activity feed", u.Path)
	}
	out := *c.base
	out.Path = path
	out.RawPath = ""
	out.RawQuery = u.RawQuery
	// PublisherIdentifier goes on every request for the quota; a page link
	// normally carries it already.
	if q := out.Query(); q.Get("PublisherIdentifier") == "" {
		q.Set("PublisherIdentifier", c.cfg.PublisherID)
		out.RawQuery = q.Encode()
	}
	return out.String(), nil
}

// inFeed reports whether p is a path of this tenant's feed under the base:
// {base}/api/{v1.0 or v1}/{tenant}/activity/feed/..., the tenant in any case.
// The reference's own NextPageUri sample writes v1 where requests use v1.0.
func (c *Client) inFeed(p string) bool {
	if pathpkg.Clean(p) != p {
		return false
	}
	rest, ok := strings.CutPrefix(p, c.base.Path+"/api/")
	if !ok {
		return false
	}
	version, rest, _ := strings.Cut(rest, "/")
	if version != "v1.0" && version != "v1" {
		return false
	}
	tenant, rest, _ := strings.Cut(rest, "/")
	return strings.EqualFold(tenant, c.cfg.TenantID) && strings.HasPrefix(rest, "activity/feed/")
}

// do sends one request and returns a 2xx response, retrying retryable
// failures with backoff until Retry.MaxElapsedTime, and renewing the token
// once after a 401.
func (c *Client) do(ctx context.Context, op Op, method, u string) (*http.Response, error) {
	retries := c.newRetry(c.cfg.Retry)
	renewed := false
	for {
		resp, token, err := c.send(ctx, op, method, u)
		if err == nil {
			c.cfg.Observe(op, OutcomeSuccess)
			return resp, nil
		}
		var apiErr *Error
		isAPIErr := errors.As(err, &apiErr)
		if isAPIErr && apiErr.Status == http.StatusUnauthorized && c.cfg.Tokens != nil && !renewed {
			// An expired or revoked token: renew once, at once.
			c.cfg.Observe(op, OutcomeRetryable)
			c.cfg.Tokens.Invalidate(token)
			renewed = true
			continue
		}
		again := ctx.Err() == nil && retryable(err)
		switch {
		case errors.As(err, new(*tokenError)):
			// The token request is counted as one of its own; this one
			// was never sent.
		case isAPIErr && apiErr.throttled():
			c.cfg.Observe(op, OutcomeThrottled)
		case again:
			c.cfg.Observe(op, OutcomeRetryable)
		default:
			c.cfg.Observe(op, OutcomeFailure)
		}
		hint, _ := retryAfter(resp)
		if hint > 0 {
			c.waitAtLeast(hint)
		}
		if !again {
			return nil, err
		}
		if werr := retries.Wait(ctx, hint); werr != nil {
			return nil, fmt.Errorf("%w (%w)", err, werr)
		}
	}
}

// send makes one attempt. On an API error the response is returned too
// (body closed) for its Retry-After header.
func (c *Client) send(ctx context.Context, op Op, method, u string) (*http.Response, string, error) {
	if err := c.waitUntilAllowed(ctx); err != nil {
		return nil, "", err
	}
	if c.cfg.Limiter != nil {
		if err := c.cfg.Limiter.Wait(ctx); err != nil {
			return nil, "", err
		}
	}
	req, err := http.NewRequestWithContext(ctx, method, u, http.NoBody)
	if err != nil {
		return nil, "", err
	}
	var token string
	if c.cfg.Tokens != nil {
		if token, err = c.cfg.Tokens.Token(ctx); err != nil {
			return nil, "", &tokenError{err}
		}
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if method == http.MethodPost {
		// subscriptions/start takes an optional webhook body; an empty
		// JSON body is what the reference's examples send without one.
		req.Body = io.NopCloser(strings.NewReader("{}"))
		req.ContentLength = 2
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader("{}")), nil }
		req.Header.Set("Content-Type", "application/json")
	}
	client := c.cfg.HTTPClient
	var stall *stallTimer
	if op == OpFetch && c.stallTimeout > 0 {
		client = c.fetchClient
		var cancel context.CancelCauseFunc
		ctx, cancel = context.WithCancelCause(ctx)
		req = req.WithContext(ctx)
		stall = newStallTimer(c.stallTimeout, cancel)
	}
	resp, err := client.Do(req)
	if err != nil {
		stall.close()
		return nil, token, fmt.Errorf("%s: %w", op, err)
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		if stall != nil {
			stall.disarm()
			resp.Body = &stallReader{body: resp.Body, stall: stall}
		}
		return resp, token, nil
	}
	defer stall.close()
	apiErr := &Error{Op: op, Status: resp.StatusCode}
	var body errorBody
	// An error document is small; a larger body is not one.
	if json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&body) == nil {
		apiErr.Code, apiErr.Message = body.Error.Code, body.Error.Message
	}
	_ = drain(resp)
	return resp, token, apiErr
}

// tokenError is a failure to obtain a token.
type tokenError struct{ err error }

func (e *tokenError) Error() string { return fmt.Sprintf("%s: %v", OpToken, e.err) }
func (e *tokenError) Unwrap() error { return e.err }

// retryable reports whether sending again may help: a retryable API error,
// a token error that is not a configuration error, or a transport error.
func retryable(err error) bool {
	var apiErr *Error
	if errors.As(err, &apiErr) {
		return apiErr.retryable()
	}
	var p interface{ Permanent() bool }
	if errors.As(err, &p) {
		return !p.Permanent()
	}
	return true
}

// retryAfter reads a Retry-After header in seconds or as an HTTP date.
func retryAfter(resp *http.Response) (time.Duration, bool) {
	if resp == nil {
		return 0, false
	}
	v := resp.Header.Get("Retry-After")
	if v == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), 0), true
	}
	return 0, false
}

func drain(resp *http.Response) error {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return resp.Body.Close()
}

// waitAtLeast keeps every request from being sent for d.
func (c *Client) waitAtLeast(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t := time.Now().Add(d); t.After(c.notBefore) {
		c.notBefore = t
	}
}

// waitUntilAllowed waits out a Retry-After the API sent, whichever request
// it answered.
func (c *Client) waitUntilAllowed(ctx context.Context) error {
	c.mu.Lock()
	d := time.Until(c.notBefore)
	c.mu.Unlock()
	if d <= 0 {
		return nil
	}
	return c.sleep(ctx, d)
}
