package activityemulator

import (
	"fmt"
	"maps"
	"net/http"
)

// Stats counts what reached the emulator. Server.Stats returns a copy.
type Stats struct {
	// TokenRequests counts requests to the login host; TokenFailures
	// those not answered 200.
	TokenRequests, TokenFailures int
	// Starts counts subscriptions/start requests per content type,
	// including those answered AF20024.
	Starts map[string]int
	// Lists counts listing page requests (subscriptions/content).
	Lists int
	// Fetches counts requests for each contentId, whatever their answer.
	Fetches map[string]int
	// BlobsServed counts, per contentId, blobs sent to the end with 200.
	BlobsServed map[string]int
	// Statuses counts responses of the API and login hosts by status.
	Statuses map[int]int
	// Throttled counts API answers carrying AF429, from the rate limit or
	// from FailNext.
	Throttled int
	// Unauthorized counts API answers with status 401.
	Unauthorized int
	// PublisherIdentifiers counts the PublisherIdentifier values seen on
	// API requests.
	PublisherIdentifiers map[string]int
	// ForeignRequests counts requests reaching the foreign host;
	// ForeignWithAuth those that carried an Authorization header.
	ForeignRequests, ForeignWithAuth int
	// LoginWithBearer counts login requests that carried an
	// Authorization: Bearer header. A correct client keeps it at 0.
	LoginWithBearer int
	// MaxInFlight is the most API requests served at once.
	MaxInFlight int
	// Violations describes, one line each, every request that broke the
	// documented contract: a window over 24 hours, a start more than 7
	// days back, a malformed or undocumented time, a missing
	// PublisherIdentifier, a bearer token on the wrong host, and so on.
	// A correct client keeps it empty. Failures a client cannot avoid,
	// such as an expired blob or a revoked token, are not violations.
	Violations []string
}

func newStats() Stats {
	return Stats{
		Starts:               map[string]int{},
		Fetches:              map[string]int{},
		BlobsServed:          map[string]int{},
		Statuses:             map[int]int{},
		PublisherIdentifiers: map[string]int{},
	}
}

// Stats returns a copy of the counters, safe to keep and compare.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.stats
	c.Starts = maps.Clone(s.stats.Starts)
	c.Fetches = maps.Clone(s.stats.Fetches)
	c.BlobsServed = maps.Clone(s.stats.BlobsServed)
	c.Statuses = maps.Clone(s.stats.Statuses)
	c.PublisherIdentifiers = maps.Clone(s.stats.PublisherIdentifiers)
	c.Violations = append([]string(nil), s.stats.Violations...)
	return c
}

// violate records a contract breach by the request r.
func (s *Server) violate(r *http.Request, format string, args ...any) {
	line := r.Method + " " + r.URL.Path + ": " + fmt.Sprintf(format, args...)
	s.mu.Lock()
	s.stats.Violations = append(s.stats.Violations, line)
	s.mu.Unlock()
}

func (s *Server) update(f func(st *Stats)) {
	s.mu.Lock()
	f(&s.stats)
	s.mu.Unlock()
}

// recorder remembers the status a handler answered, for Stats.Statuses.
type recorder struct {
	http.ResponseWriter
	status int
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection's flusher.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func (r *recorder) code() int {
	if r.status == 0 {
		return http.StatusOK
	}
	return r.status
}
