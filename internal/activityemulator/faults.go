package activityemulator

import (
	"net/http"
	"time"
)

// Op names a kind of request, for FailNext.
type Op int

// The kinds of request. OpList is a listing page (subscriptions/content);
// OpListSubscriptions is subscriptions/list.
const (
	OpToken Op = iota
	OpStart
	OpList
	OpFetch
	OpListSubscriptions
	OpStop
)

func (op Op) String() string {
	switch op {
	case OpToken:
		return "token"
	case OpStart:
		return "start"
	case OpList:
		return "list content"
	case OpFetch:
		return "fetch"
	case OpListSubscriptions:
		return "list subscriptions"
	case OpStop:
		return "stop"
	}
	return "unknown"
}

// Fault is an answer to force on a request.
//
// For API operations a non-empty Code gives the documented body
// {"error":{"code":Code,"message":Message}}; an empty Message takes the
// reference's text for Code where it needs no request detail (AF429,
// AF50000, AF20020, AF20022-AF20024, AF20030). For OpToken, Code is the
// OAuth error ("invalid_client", "temporarily_unavailable") and Message
// the description, which should start "AADSTSnnnn: " as Entra's do; the
// body is then Entra's, trace lines and all. Code "" answers Status with
// an empty body. Status 0 means 429 for AF429, 500 for AF5xxxx and for an
// empty Code, 400 otherwise. A positive RetryAfter sets Retry-After in
// whole seconds, rounded up.
type Fault struct {
	Status     int
	Code       string
	Message    string
	RetryAfter time.Duration
}

// FailNext makes the next n requests of op fail with f, after any faults
// already queued for op. A fault is taken before the request's token or
// parameters are checked, so it hits the very next request of that kind.
func (s *Server) FailNext(op Op, n int, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.faults[op] = append(s.faults[op], f)
	}
}

func (s *Server) takeFault(op Op) (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.faults[op]
	if len(q) == 0 {
		return Fault{}, false
	}
	s.faults[op] = q[1:]
	return q[0], true
}

func (f Fault) status() int {
	switch {
	case f.Status != 0:
		return f.Status
	case f.Code == "AF429":
		return http.StatusTooManyRequests
	case f.Code == "" || len(f.Code) >= 3 && f.Code[:3] == "AF5":
		return http.StatusInternalServerError
	}
	return http.StatusBadRequest
}

// writeAPIFault answers an API request with f.
func writeAPIFault(w http.ResponseWriter, f Fault, method, publisher string) {
	if f.Code == "" {
		setRetryAfter(w, f.RetryAfter)
		w.Header().Set("Content-Length", "0")
		w.WriteHeader(f.status())
		return
	}
	msg := f.Message
	if msg == "" {
		msg = documentedMessage(f.Code, method, publisher)
	}
	writeAPIError(w, apiError{status: f.status(), code: f.Code, message: msg}, f.RetryAfter)
}

// admit applies Options.RequestsPerMinute over a sliding minute of the
// emulator's clock. A refused request does not use up quota, so a client
// that waits Retry-After gets through.
func (s *Server) admit() (retryAfter time.Duration, ok bool) {
	limit := s.opts.RequestsPerMinute
	if limit <= 0 {
		return 0, true
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	cut := 0
	for cut < len(s.recent) && !s.recent[cut].After(now.Add(-time.Minute)) {
		cut++
	}
	s.recent = s.recent[cut:]
	if len(s.recent) >= limit {
		wait := s.recent[0].Add(time.Minute).Sub(now)
		if wait < time.Second {
			wait = time.Second
		}
		return wait, false
	}
	s.recent = append(s.recent, now)
	return 0, true
}
