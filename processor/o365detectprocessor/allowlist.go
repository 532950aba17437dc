package o365detectprocessor // import "github.com/o365detect/o365detect/processor/o365detectprocessor"

import (
	"strings"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
)

// allowlist is the filter macro's tuning: matches by business-approved users
// are suppressed. It is read-only after construction, except for the
// once-only expiry log.
type allowlist struct {
	entries []allowEntry
	logger  *zap.Logger
}

type allowEntry struct {
	user    string
	reason  string
	expires time.Time // zero: never
	logged  atomic.Bool
}

func newAllowlist(cfg []AllowlistEntry, logger *zap.Logger) *allowlist {
	a := &allowlist{entries: make([]allowEntry, len(cfg)), logger: logger}
	for i, e := range cfg {
		a.entries[i].user = strings.TrimSpace(e.User)
		a.entries[i].reason = e.Reason
		a.entries[i].expires = e.Expires
	}
	return a
}

// allows reports whether user is allowlisted at now. The comparison ignores
// case, as the search's filter macro would.
func (a *allowlist) allows(user string, now time.Time) bool {
	for i := range a.entries {
		e := &a.entries[i]
		if !strings.EqualFold(e.user, user) {
			continue
		}
		if !e.expires.IsZero() && !now.Before(e.expires) {
			if e.logged.CompareAndSwap(false, true) {
				a.logger.Warn("allowlist entry has expired and no longer applies",
					zap.String("user", e.user), zap.String("reason", e.reason),
					zap.Time("expired", e.expires))
			}
			continue
		}
		return true
	}
	return false
}
