package activityemulator

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// t0 is the emulator's "now" in most tests.
var t0 = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

const publisher = DefaultTenantID

// clock is a settable clock for Options.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// start runs an emulator on a clock frozen at t0 unless opts has one.
func start(t *testing.T, opts Options) (*Server, *clock) {
	t.Helper()
	c := &clock{t: t0}
	if opts.Now == nil {
		opts.Now = c.Now
	}
	s := New(opts)
	t.Cleanup(s.Close)
	return s, c
}

func feed(s *Server) string {
	return s.URL() + "/api/v1.0/" + s.Options().TenantID + "/activity/feed/"
}

type reply struct {
	status int
	header http.Header
	body   []byte
}

// apiErr decodes the documented error body.
func (r reply) apiErr(t *testing.T) (code, message string) {
	t.Helper()
	var e struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	if err := json.Unmarshal(r.body, &e); err != nil {
		t.Fatalf("error body %q: %v", r.body, err)
	}
	return e.Error.Code, e.Error.Message
}

func do(t *testing.T, s *Server, method, rawURL, bearer string) reply {
	t.Helper()
	req, err := http.NewRequest(method, rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	return send(t, s, req)
}

func send(t *testing.T, s *Server, req *http.Request) reply {
	t.Helper()
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return reply{resp.StatusCode, resp.Header, b}
}

func postForm(t *testing.T, s *Server, rawURL string, form url.Values, header http.Header) reply {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, rawURL, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range header {
		req.Header[k] = v
	}
	return send(t, s, req)
}

func secretForm(s *Server) url.Values {
	o := s.Options()
	return url.Values{
		"grant_type":    {"client_credentials"},
		"client_id":     {o.ClientID},
		"client_secret": {o.ClientSecret},
		"scope":         {o.Scope},
	}
}

// token gets an access token with the client secret.
func token(t *testing.T, s *Server) string {
	t.Helper()
	r := postForm(t, s, s.TokenURL(), secretForm(s), nil)
	if r.status != http.StatusOK {
		t.Fatalf("token: %d %s", r.status, r.body)
	}
	var tr tokenResponse
	if err := json.Unmarshal(r.body, &tr); err != nil {
		t.Fatal(err)
	}
	return tr.AccessToken
}

func listURL(s *Server, ct, startTime, endTime string) string {
	q := url.Values{"contentType": {ct}, "PublisherIdentifier": {publisher}}
	if startTime != "" {
		q.Set("startTime", startTime)
	}
	if endTime != "" {
		q.Set("endTime", endTime)
	}
	return feed(s) + "subscriptions/content?" + q.Encode()
}

func withPublisher(u string) string {
	if strings.Contains(u, "?") {
		return u + "&PublisherIdentifier=" + publisher
	}
	return u + "?PublisherIdentifier=" + publisher
}

func list(t *testing.T, r reply) []contentEntry {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("list: %d %s", r.status, r.body)
	}
	var out []contentEntry
	if err := json.Unmarshal(r.body, &out); err != nil {
		t.Fatalf("list body %q: %v", r.body, err)
	}
	return out
}

const secs = "2006-01-02T15:04:05"

func noViolations(t *testing.T, s *Server) {
	t.Helper()
	if v := s.Stats().Violations; len(v) != 0 {
		t.Errorf("violations: %q", v)
	}
}
