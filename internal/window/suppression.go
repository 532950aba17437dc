package window // import "github.com/o365detect/o365detect/internal/window"

import (
	"time"

	"github.com/o365detect/o365detect/internal/aggregate"
	"github.com/o365detect/o365detect/internal/rule"
)

// suppression holds the rows emitted less than the suppression period ago,
// with the end of their period. It is bounded; past its bound a row is
// simply not suppressed, which errs towards more detection records, never
// fewer.
type suppression struct {
	rows map[suppressedRow]time.Time
	max  int
}

// suppressedRow is suppressed per rule: one rule's detection does not
// silence another's on the same row.
type suppressedRow struct {
	rule *rule.Rule
	row  rule.Row
}

// split returns the groups free to emit at now and those held back, which
// stay open and keep counting until the first window end after their
// period.
func (s *suppression) split(groups []*aggregate.Group, now time.Time) (free, held []*aggregate.Group) {
	for r, until := range s.rows {
		if !now.Before(until) {
			delete(s.rows, r)
		}
	}
	free = groups[:0]
	for _, g := range groups {
		if _, ok := s.rows[suppressedRow{g.Rule, g.Row}]; ok {
			held = append(held, g)
			continue
		}
		free = append(free, g)
	}
	return free, held
}

// start begins the suppression period of the rows of groups just emitted.
func (s *suppression) start(groups []*aggregate.Group, until time.Time) {
	for _, g := range groups {
		if len(s.rows) >= s.max {
			return
		}
		s.rows[suppressedRow{g.Rule, g.Row}] = until
	}
}
