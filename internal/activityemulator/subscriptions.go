package activityemulator

import "time"

type subState int

const (
	subEnabled   subState = iota
	subStopped            // stopped by the client or DisableSubscription: AF20022
	subSuspended          // disabled by an admin: AF20023
)

type subscription struct {
	state      subState
	since      time.Time      // when it left subEnabled
	disabledBy string         // for AF20023
	gaps       [][2]time.Time // [from, to) of contentCreated lost to a stop
}

// DisableSubscription stops contentType's subscription as the stop
// operation does: listing and fetching then answer AF20022 until it is
// started again, and subscriptions/list shows it "disabled". As the reference says, content created while it was
// stopped is never listed afterwards.
func (s *Server) DisableSubscription(contentType string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopLocked(contentType, subStopped, "")
}

// SuspendSubscription disables contentType's subscription as a tenant
// admin would: listing and fetching answer AF20023 ("The subscription was
// disabled by a tenant admin.") until it is started again.
func (s *Server) SuspendSubscription(contentType string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopLocked(contentType, subSuspended, "a tenant admin")
}

func (s *Server) stopLocked(contentType string, state subState, by string) {
	sub := s.subs[contentType]
	if sub == nil {
		sub = &subscription{}
		s.subs[contentType] = sub
	} else if sub.state != subEnabled {
		return
	}
	sub.state, sub.since, sub.disabledBy = state, s.now(), by
}

// startLocked enables contentType; it reports false if it already was.
func (s *Server) startLocked(contentType string) bool {
	sub := s.subs[contentType]
	if sub == nil {
		s.subs[contentType] = &subscription{state: subEnabled}
		return true
	}
	if sub.state == subEnabled {
		return false
	}
	sub.gaps = append(sub.gaps, [2]time.Time{sub.since, s.now()})
	sub.state = subEnabled
	return true
}

// usableLocked is nil when contentType can be listed and fetched, else the
// error to answer.
func (s *Server) usableLocked(contentType string) *apiError {
	sub := s.subs[contentType]
	switch {
	case sub == nil || sub.state == subStopped:
		return &errNoSubscription
	case sub.state == subSuspended:
		e := errSubscriptionDisabled(sub.disabledBy)
		return &e
	}
	return nil
}

// hiddenLocked says whether content created at t fell in a stop.
func (s *Server) hiddenLocked(contentType string, t time.Time) bool {
	sub := s.subs[contentType]
	if sub == nil {
		return false
	}
	for _, g := range sub.gaps {
		if !t.Before(g[0]) && t.Before(g[1]) {
			return true
		}
	}
	return false
}
