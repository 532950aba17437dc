package o365detectprocessor // import "github.com/o365detect/o365detect/processor/o365detectprocessor"

import "github.com/o365detect/o365detect/internal/aggregate"

// holdSuppressed keeps back the groups whose row was emitted less than the
// suppression period ago: they stay open and keep counting until the first
// window end after the period. The caller holds p.mu.
func (p *detectProcessor) holdSuppressed(groups []*aggregate.Group) []*aggregate.Group {
	now := p.now()
	for row, until := range p.suppressed {
		if !now.Before(until) {
			delete(p.suppressed, row)
		}
	}
	out := groups[:0]
	var held []*aggregate.Group
	for _, g := range groups {
		if _, ok := p.suppressed[g.Row]; ok {
			held = append(held, g)
			continue
		}
		out = append(out, g)
	}
	p.agg.Merge(held)
	return out
}

// suppress starts the suppression period of rows just emitted. The map is
// bounded by max_groups; past it a row is simply not suppressed, which errs
// towards more detection records, never fewer. The caller holds p.mu.
func (p *detectProcessor) suppress(groups []*aggregate.Group) {
	if p.cfg.Suppression <= 0 {
		return
	}
	until := p.now().Add(p.cfg.Suppression)
	for _, g := range groups {
		if len(p.suppressed) >= p.cfg.MaxGroups {
			return
		}
		p.suppressed[g.Row] = until
	}
}
