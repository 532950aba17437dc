package window // import "github.com/o365detect/o365detect/internal/window"

import (
	"encoding/json"
	"fmt"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/o365detect/o365detect/internal/aggregate"
	"github.com/o365detect/o365detect/internal/dedup"
	"github.com/o365detect/o365detect/internal/rule"
)

// entryVersion is the journal entry format written. Version 1 (no "v")
// keyed a group by its row's seven values by position and knew one rule;
// version 2 names the rule and each row field, so that a field added to the
// row is written with the others and an entry a version cannot read fails
// loudly instead of shifting values into the wrong fields. Its groups sit
// under "g2", not "g": a version 1 reader then finds none, instead of
// reading every group as one ESCU row of empty fields.
const entryVersion = 2

// entry is one journal record: groups to merge and Ids remembered.
type entry struct {
	Version int `json:"v,omitempty"`
	// Groups are version 1's groups, NamedGroups version 2's.
	Groups      []journalGroup `json:"g,omitempty"`
	NamedGroups []journalGroup `json:"g2,omitempty"`
	IDs         []journalID    `json:"i,omitempty"`
}

type journalGroup struct {
	Rule string   `json:"rule,omitempty"`
	Row  namedRow `json:"row,omitzero"`
	// Key is a version 1 row: its values in the order of rule.RowFields.
	Key    [rule.RowFieldCount]string `json:"k,omitzero"`
	Count  int64                      `json:"c"`
	First  int64                      `json:"f"`
	Last   int64                      `json:"l"`
	Opened int64                      `json:"o"`
	// Partners are the group's distinct partner tenants.
	Partners []string `json:"p,omitempty"`
	// Resource is the group's resource in OTLP JSON, which keeps attribute
	// types exactly.
	Resource json.RawMessage `json:"r"`
}

type journalID struct {
	ID   string `json:"id"`
	Seen int64  `json:"t"` // unix nanoseconds
}

// namedRow is a row written as an object of rule.RowFields names.
type namedRow struct {
	values [rule.RowFieldCount]string
	set    bool
}

func (r namedRow) IsZero() bool { return !r.set }

func (r namedRow) MarshalJSON() ([]byte, error) {
	b := []byte{'{'}
	for i, name := range rule.RowFields {
		if i > 0 {
			b = append(b, ',')
		}
		k, _ := json.Marshal(name)
		v, err := json.Marshal(r.values[i])
		if err != nil {
			return nil, err
		}
		b = append(append(append(b, k...), ':'), v...)
	}
	return append(b, '}'), nil
}

// UnmarshalJSON reads a row by field name. A field this version does not
// know is an error: the entry was written by a newer version, and dropping
// the field would merge rows that differ in it.
func (r *namedRow) UnmarshalJSON(b []byte) error {
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	r.set = true
	for i, name := range rule.RowFields {
		v, ok := m[name]
		if !ok {
			v = rule.Fill
		}
		r.values[i] = v
		delete(m, name)
	}
	for name := range m {
		return fmt.Errorf("journal row has field %q, which this version does not know", name)
	}
	return nil
}

// emptyResource stands in for a resource that cannot be journaled. It is
// the OTLP JSON of an empty resource, so the format stays one that older
// versions read.
var emptyResource = json.RawMessage(`{"resourceLogs":[{"resource":{}}]}`)

// resourceNestOpen and resourceNestClose are how an entry nests a group's
// resource (the "g2" and "r" fields above). encoding/json limits nesting
// when it reads a whole entry but checks a json.RawMessage on its own when
// writing it, so a resource is checked where it will sit, or the entry
// could be written and never read back.
const resourceNestOpen, resourceNestClose = `{"g2":[{"r":`, `}]}`

// encodeEntry encodes a journal entry. lost is how many groups are
// journaled with an empty resource because theirs could not be encoded;
// one odd resource must not keep a whole batch out of the journal.
func encodeEntry(groups []*aggregate.Group, ids []dedup.Entry) (b []byte, lost int, err error) {
	e := entry{Version: entryVersion, NamedGroups: make([]journalGroup, 0, len(groups))}
	// Groups opened by one batch share one resource copy: encode it once.
	type encodedResource struct {
		raw json.RawMessage
		ok  bool
	}
	encoded := make(map[pcommon.Resource]encodedResource)
	for _, g := range groups {
		res, seen := encoded[g.Resource]
		if !seen {
			res.raw, res.ok = encodeResource(g.Resource)
			encoded[g.Resource] = res
		}
		if !res.ok {
			lost++
		}
		e.NamedGroups = append(e.NamedGroups, journalGroup{
			Rule:  g.Rule.ID,
			Row:   namedRow{values: g.Row.Fields(), set: true},
			Count: g.Count, First: g.First.UnixNano(), Last: g.Last.UnixNano(), Opened: g.Opened.UnixNano(),
			Partners: g.Partners, Resource: res.raw,
		})
	}
	if len(ids) > 0 {
		e.IDs = make([]journalID, len(ids))
		for i, id := range ids {
			e.IDs[i] = journalID{ID: id.ID, Seen: id.Seen.UnixNano()}
		}
	}
	b, err = json.Marshal(e)
	return b, lost, err
}

// encodeResource returns res in OTLP JSON, or emptyResource and false when
// that would not survive a round trip through the journal.
func encodeResource(res pcommon.Resource) (json.RawMessage, bool) {
	ld := plog.NewLogs()
	res.CopyTo(ld.ResourceLogs().AppendEmpty().Resource())
	b, err := (&plog.JSONMarshaler{}).MarshalLogs(ld)
	if err != nil || !validInEntry(b) {
		return emptyResource, false
	}
	return b, true
}

func validInEntry(res []byte) bool {
	nested := make([]byte, 0, len(resourceNestOpen)+len(res)+len(resourceNestClose))
	nested = append(append(append(nested, resourceNestOpen...), res...), resourceNestClose...)
	return json.Valid(nested)
}

// decoded is what a journal entry gives back.
type decoded struct {
	groups []*aggregate.Group
	ids    []dedup.Entry
	// resourcesLost counts groups given an empty resource because theirs
	// could not be read; the groups themselves are kept.
	resourcesLost int
	// unknownRules counts groups of a rule this version does not have,
	// which are dropped.
	unknownRules int
}

// decodeEntry decodes a journal entry of any version written so far.
func decodeEntry(b []byte) (decoded, error) {
	var e entry
	if err := json.Unmarshal(b, &e); err != nil {
		return decoded{}, err
	}
	if e.Version > entryVersion {
		return decoded{}, fmt.Errorf("journal entry version %d is newer than this version reads (%d)", e.Version, entryVersion)
	}
	groups := e.Groups
	if e.Version >= 2 {
		groups = e.NamedGroups
	}
	d := decoded{groups: make([]*aggregate.Group, 0, len(groups))}
	for _, jg := range groups {
		r, values := rule.ESCU, jg.Key
		if e.Version >= 2 {
			if r = rule.ByID(jg.Rule); r == nil {
				d.unknownRules++
				continue
			}
			values = jg.Row.values
		}
		res, ok := decodeResource(jg.Resource)
		if !ok {
			d.resourcesLost++
		}
		d.groups = append(d.groups, &aggregate.Group{
			Rule:  r,
			Row:   rule.RowFromFields(values),
			Count: jg.Count, First: time.Unix(0, jg.First).UTC(), Last: time.Unix(0, jg.Last).UTC(), Opened: time.Unix(0, jg.Opened).UTC(),
			Resource: res,
			Partners: jg.Partners,
		})
	}
	d.ids = make([]dedup.Entry, len(e.IDs))
	for i, id := range e.IDs {
		d.ids[i] = dedup.Entry{ID: id.ID, Seen: time.Unix(0, id.Seen)}
	}
	return d, nil
}

// decodeResource reads a journaled resource; when it cannot, it returns an
// empty one and false.
func decodeResource(raw json.RawMessage) (pcommon.Resource, bool) {
	ld, err := (&plog.JSONUnmarshaler{}).UnmarshalLogs(raw)
	if err != nil || ld.ResourceLogs().Len() != 1 {
		return pcommon.NewResource(), false
	}
	return ld.ResourceLogs().At(0).Resource(), true
}
