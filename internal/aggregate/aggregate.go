// Package aggregate implements the search's
//
//	stats count min(_time) as firstTime max(_time) as lastTime by <row>
//
// over a window: one group per distinct row, counting every record.
package aggregate // import "github.com/o365detect/o365detect/internal/aggregate"

import (
	"slices"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/o365detect/o365detect/internal/rule"
)

// Group is one stats row in the making.
type Group struct {
	// Rule is the rule whose hits the group counts; Row is the by-clause.
	Rule  *rule.Rule
	Row   rule.Row
	Count int64
	// First and Last are the earliest and latest event times (min/max of
	// _time), whatever order the records arrived in.
	First time.Time
	Last  time.Time
	// Opened is when the group's first record arrived.
	Opened time.Time
	// Resource is a copy of the resource of the group's first record. It
	// may be shared with other groups and is only read.
	Resource pcommon.Resource
	// Partners are the distinct partner tenants the group's records added
	// or deleted, in first-seen order, at most MaxPartners.
	Partners []string
}

// MaxPartners bounds Group.Partners: a row is normally one record, and an
// attacker-made flood must not grow a group without bound.
const MaxPartners = 16

// addPartner records a partner tenant once.
func (g *Group) addPartner(p string) {
	if p == "" || len(g.Partners) >= MaxPartners || slices.Contains(g.Partners, p) {
		return
	}
	g.Partners = append(g.Partners, strings.Clone(p))
}

// Aggregator holds the open groups of one window. It is not safe for
// concurrent use; the processor serializes access.
type Aggregator struct {
	groups map[key]*Group
	// order keeps first-seen order so emission is deterministic.
	order []*Group
}

// key identifies a group: the same row under two rules is two groups.
type key struct {
	rule *rule.Rule
	row  rule.Row
}

func (g *Group) key() key { return key{g.Rule, g.Row} }

// New returns an empty Aggregator.
func New() *Aggregator {
	return &Aggregator{groups: make(map[key]*Group)}
}

// Add counts one hit of r with the given row, event time and partner tenant
// ("" if unknown). arrived is the processing time. res becomes the
// resource of a group the hit opens: the caller hands over a copy it owns
// and never changes, which groups may share.
func (a *Aggregator) Add(r *rule.Rule, row rule.Row, eventTime, arrived time.Time, res pcommon.Resource, partner string) {
	if g, ok := a.groups[key{r, row}]; ok {
		g.addPartner(partner)
		g.Count++
		if eventTime.Before(g.First) {
			g.First = eventTime
		}
		if eventTime.After(g.Last) {
			g.Last = eventTime
		}
		return
	}
	g := &Group{
		Rule:     r,
		Row:      row.Clone(),
		Count:    1,
		First:    eventTime,
		Last:     eventTime,
		Opened:   arrived,
		Resource: res,
	}
	g.addPartner(partner)
	a.groups[g.key()] = g
	a.order = append(a.order, g)
}

// Merge folds groups back in, adding to any group already open with the same
// row. It is how groups whose emission failed are retried.
func (a *Aggregator) Merge(groups []*Group) {
	for _, in := range groups {
		g, ok := a.groups[in.key()]
		if !ok {
			a.groups[in.key()] = in
			a.order = append(a.order, in)
			continue
		}
		for _, p := range in.Partners {
			g.addPartner(p)
		}
		g.Count += in.Count
		if in.First.Before(g.First) {
			g.First = in.First
		}
		if in.Last.After(g.Last) {
			g.Last = in.Last
		}
		if in.Opened.Before(g.Opened) {
			g.Opened, g.Resource = in.Opened, in.Resource
		}
	}
}

// Len returns the number of open groups.
func (a *Aggregator) Len() int {
	return len(a.groups)
}

// Groups returns the open groups in first-seen order without removing them.
// The groups stay owned by the aggregator; read them only.
func (a *Aggregator) Groups() []*Group {
	return append([]*Group(nil), a.order...)
}

// Drain returns the open groups in first-seen order and empties a.
func (a *Aggregator) Drain() []*Group {
	if len(a.order) == 0 {
		return nil
	}
	out := a.order
	a.order = nil
	clear(a.groups)
	return out
}
