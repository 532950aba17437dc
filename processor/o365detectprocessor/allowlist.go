package o365detectprocessor // import "github.com/o365detect/o365detect/processor/o365detectprocessor"

import (
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/o365detect/o365detect/internal/rule"
)

// Presets are allowlists the project ships, enabled by name.
var presets = map[string][]AllowlistEntry{
	// Opening a Microsoft 365 support case adds the Microsoft Support tenant
	// as a partner (the user is the actor); closing it makes the Entra GDAP
	// app delete it again. Both are documented, benign changes.
	PresetMicrosoftSupport: {
		{PartnerTenant: "b4c546a4-7dac-46a6-a7dd-ed822a11efd3", Reason: "preset microsoft_support: Microsoft Support tenant, added and removed with support cases"},
		{AppID: "bc56af95-7a3b-459f-98a9-bd86532b0e89", Reason: "preset microsoft_support: Entra GDAP app, removes the Microsoft Support tenant when a case closes"},
	},
}

// PresetMicrosoftSupport is the preset for the benign Microsoft Support flow.
const PresetMicrosoftSupport = "microsoft_support"

// subject is what an allowlist entry is compared with.
type subject struct {
	rule    *rule.Rule
	user    string
	partner string
	// appIDs are the ids the actor may be known by: the Actor IDs of a
	// Management Activity record, the app id of an Entra record.
	appIDs []string
}

// allowlist is the filter macro's tuning: known, approved changes are
// suppressed. It is read-only after construction, except for the once-only
// expiry log.
type allowlist struct {
	entries []allowEntry
	logger  *zap.Logger
}

type allowEntry struct {
	AllowlistEntry
	logged atomic.Bool
}

func newAllowlist(cfg []AllowlistEntry, presetNames []string, logger *zap.Logger) *allowlist {
	all := slices.Clone(cfg)
	for _, name := range presetNames {
		all = append(all, presets[name]...)
	}
	a := &allowlist{entries: make([]allowEntry, len(all)), logger: logger}
	for i, e := range all {
		e.User = strings.TrimSpace(e.User)
		e.PartnerTenant = strings.TrimSpace(e.PartnerTenant)
		e.AppID = strings.TrimSpace(e.AppID)
		a.entries[i].AllowlistEntry = e
	}
	return a
}

// allows reports whether s is allowlisted at now: some unexpired entry
// whose every set field matches. Comparisons ignore case, as the search's
// filter macro would.
func (a *allowlist) allows(s subject, now time.Time) bool {
	for i := range a.entries {
		e := &a.entries[i]
		if !e.matches(s) {
			continue
		}
		if !e.Expires.IsZero() && !now.Before(e.Expires) {
			if e.logged.CompareAndSwap(false, true) {
				a.logger.Warn("allowlist entry has expired and no longer applies",
					zap.String("user", e.User), zap.String("partner_tenant", e.PartnerTenant),
					zap.String("app_id", e.AppID), zap.String("reason", e.Reason), zap.Time("expired", e.Expires))
			}
			continue
		}
		// Debug, as the processor's other per-record logs: an auditor who
		// wants every suppressed change with its reason turns it on. The
		// ids are copied: their slice is the batch's, reused after it, and
		// a core may encode the entry later.
		if ce := a.logger.Check(zap.DebugLevel, "match allowlisted; not tagged or aggregated"); ce != nil {
			ce.Write(zap.String("rule", s.rule.Key), zap.String("user", s.user), zap.String("partner_tenant", s.partner),
				zap.Strings("app_ids", slices.Clone(s.appIDs)), zap.String("reason", e.Reason))
		}
		return true
	}
	return false
}

func (e *allowEntry) matches(s subject) bool {
	if len(e.Rules) > 0 && !slices.Contains(e.Rules, s.rule.Key) {
		return false
	}
	if e.User != "" && !strings.EqualFold(e.User, s.user) {
		return false
	}
	if e.PartnerTenant != "" && !strings.EqualFold(e.PartnerTenant, s.partner) {
		return false
	}
	if e.AppID != "" && !slices.ContainsFunc(s.appIDs, func(id string) bool { return strings.EqualFold(e.AppID, id) }) {
		return false
	}
	return true
}
