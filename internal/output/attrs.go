package output // import "github.com/o365detect/o365detect/internal/output"

import (
	"net/netip"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/o365detect/o365detect/internal/aggregate"
	"github.com/o365detect/o365detect/internal/rule"
)

// putResultRow writes the ESCU result row: count, firstTime, lastTime and
// the by-fields.
func putResultRow(attrs pcommon.Map, g *aggregate.Group) {
	attrs.PutInt(AttrCount, g.Count)
	attrs.PutStr(AttrFirstTime, rule.FormatTime(g.First))
	attrs.PutStr(AttrLastTime, rule.FormatTime(g.Last))
	putRow(attrs, &g.Row)
}

// putRow writes the by-fields under the search's own names.
func putRow(attrs pcommon.Map, row *rule.Row) {
	for i, v := range row.Fields() {
		attrs.PutStr(rule.RowFields[i], v)
	}
}

// putStrs writes a string slice attribute.
func putStrs(attrs pcommon.Map, key string, vals ...string) {
	s := attrs.PutEmptySlice(key)
	s.EnsureCapacity(len(vals))
	for _, v := range vals {
		s.AppendEmpty().SetStr(v)
	}
}

// putStrOrStrs writes one value as a string and several as a slice: Splunk
// makes a multivalue field of a slice, and a field with one value is the
// plain value ESCU's own results carry.
func putStrOrStrs(attrs pcommon.Map, key string, vals []string) {
	if len(vals) == 1 {
		attrs.PutStr(key, vals[0])
		return
	}
	putStrs(attrs, key, vals...)
}

func putIfSet(attrs pcommon.Map, key, val string) {
	if val != "" {
		attrs.PutStr(key, val)
	}
}

// known reports whether a row value is a value: not empty and not
// fillnull's "0".
func known(s string) bool {
	return s != "" && s != rule.Fill
}

// parseIP reads src as an IP address, with or without a port ("1.2.3.4",
// "2001:db8::1", "1.2.3.4:50000", "[2001:db8::1]:50000"), and returns it in
// canonical form. A zoned IPv6 address is not accepted: Elasticsearch's ip
// type has no zones.
func parseIP(src string) (ip string, port int64, ok bool) {
	if a, err := netip.ParseAddr(src); err == nil {
		if a.Zone() != "" {
			return "", 0, false
		}
		return a.String(), 0, true
	}
	if ap, err := netip.ParseAddrPort(src); err == nil && ap.Addr().Zone() == "" {
		return ap.Addr().String(), int64(ap.Port()), true
	}
	return "", 0, false
}
