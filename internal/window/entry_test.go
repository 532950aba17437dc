package window

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/o365detect/o365detect/internal/aggregate"
	"github.com/o365detect/o365detect/internal/dedup"
	"github.com/o365detect/o365detect/internal/rule"
)

// deepResource returns a resource whose one attribute nests depth maps.
func deepResource(depth int) pcommon.Resource {
	r := pcommon.NewResource()
	m := r.Attributes()
	for range depth {
		m = m.PutEmptyMap("a")
	}
	return r
}

// oldEntry is a version 1 entry, as processors before named row fields
// wrote it; it must still replay.
const oldEntry = `{"g":[{"k":["d","alice@contoso.com","s","va","vp","sig","1"],"c":2,"f":1741082400000000000,"l":1741082460000000000,"o":1741082400000000000,"p":["p"],` +
	`"r":{"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"o365-audit"}},{"key":"n","value":{"intValue":"7"}}]}}]}}],"i":[{"id":"x","t":5}]}`

// withResource is oldEntry with alice's resource swapped for r.
func withResource(r string) string {
	start := strings.Index(oldEntry, `"r":`) + len(`"r":`)
	return oldEntry[:start] + r + `}],"i":[{"id":"x","t":5}]}`
}

func TestUnencodableResourceIsJournaledEmpty(t *testing.T) {
	for _, tc := range []struct {
		name  string
		depth int
		lost  bool
	}{
		{"shallow", 3, false},
		// The depths around encoding/json's nesting limit of 10000, each
		// map costing 4 levels in OTLP JSON.
		{"deepest an entry can hold", 2498, false},
		{"valid alone but too deep inside an entry", 2499, true},
		{"too deep to write", 2600, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			plain := pcommon.NewResource()
			plain.Attributes().PutStr("service.name", "o365-audit")
			deep := deepResource(tc.depth)
			at := time.Date(2025, 3, 4, 10, 0, 0, 0, time.UTC)
			groups := []*aggregate.Group{
				{Rule: rule.ESCU, Row: rule.Row{User: "alice"}, Count: 1, First: at, Last: at, Opened: at, Resource: plain},
				// Two groups sharing the deep resource: both lose it.
				{Rule: rule.ESCU, Row: rule.Row{User: "bob"}, Count: 2, First: at, Last: at, Opened: at, Resource: deep},
				{Rule: rule.ESCU, Row: rule.Row{User: "carol"}, Count: 3, First: at, Last: at, Opened: at, Resource: deep},
			}
			b, lost, err := encodeEntry(groups, []dedup.Entry{{ID: "x", Seen: time.Unix(0, 5)}})
			require.NoError(t, err, "one resource must not stop the whole entry")
			d, err := decodeEntry(b)
			got, ids, unread := d.groups, d.ids, d.resourcesLost
			require.NoError(t, err)
			assert.Zero(t, unread)
			assert.Equal(t, []dedup.Entry{{ID: "x", Seen: time.Unix(0, 5)}}, ids)
			require.Len(t, got, 3)
			assert.Equal(t, plain.Attributes().AsRaw(), got[0].Resource.Attributes().AsRaw())
			wantDeep := deep.Attributes().AsRaw()
			if tc.lost {
				assert.Equal(t, 2, lost)
				wantDeep = map[string]any{}
			} else {
				assert.Zero(t, lost)
			}
			for i, g := range got[1:] {
				assert.Equal(t, groups[i+1].Row, g.Row)
				assert.Equal(t, groups[i+1].Count, g.Count)
				assert.Equal(t, wantDeep, g.Resource.Attributes().AsRaw())
			}
		})
	}
}

func TestDecodeEntry(t *testing.T) {
	require.Equal(t, oldEntry, withResource(`{"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"o365-audit"}},{"key":"n","value":{"intValue":"7"}}]}}]}`))
	for _, tc := range []struct {
		name    string
		entry   string
		wantRes map[string]any
		unread  int
	}{
		{"old entry", oldEntry, map[string]any{"service.name": "o365-audit", "n": int64(7)}, 0},
		{"no resource logs", withResource(`{}`), map[string]any{}, 1},
		{"two resource logs", withResource(`{"resourceLogs":[{},{}]}`), map[string]any{}, 1},
		{"not OTLP", withResource(`{"resourceLogs":"x"}`), map[string]any{}, 1},
		{"null", withResource(`null`), map[string]any{}, 1},
		{"missing", strings.Replace(withResource(`null`), `,"r":null`, "", 1), map[string]any{}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := decodeEntry([]byte(tc.entry))
			groups, ids, unread := d.groups, d.ids, d.resourcesLost
			require.NoError(t, err, "one resource must not cost the whole entry")
			assert.Equal(t, tc.unread, unread)
			assert.Equal(t, []dedup.Entry{{ID: "x", Seen: time.Unix(0, 5)}}, ids)
			require.Len(t, groups, 1)
			g := groups[0]
			assert.Equal(t, rule.Row{Dest: "d", User: "alice@contoso.com", Src: "s", VendorAccount: "va", VendorProduct: "vp", Signature: "sig", SignatureID: "1"}, g.Row)
			assert.Equal(t, int64(2), g.Count)
			assert.Equal(t, time.Date(2025, 3, 4, 10, 1, 0, 0, time.UTC), g.Last)
			assert.Equal(t, []string{"p"}, g.Partners)
			assert.Equal(t, tc.wantRes, g.Resource.Attributes().AsRaw())
		})
	}
	_, err := decodeEntry([]byte(`{"g":`))
	assert.Error(t, err, "an entry that is not JSON is still unreadable as a whole")
}

var fullRow = rule.Row{Dest: "d", User: "alice@contoso.com", Src: "s", VendorAccount: "va", VendorProduct: "vp", Signature: "sig", SignatureID: "1"}

// TestEntryNamesEveryRowField: an entry names its version, its rule and each
// row field as rule.RowFields lists them, so a field added to the row is
// written without a change here.
func TestEntryNamesEveryRowField(t *testing.T) {
	at := time.Date(2025, 3, 4, 10, 0, 0, 0, time.UTC)
	g := &aggregate.Group{Rule: rule.ESCU, Row: fullRow, Count: 2, First: at, Last: at, Opened: at, Resource: pcommon.NewResource()}
	b, _, err := encodeEntry([]*aggregate.Group{g}, nil)
	require.NoError(t, err)
	var raw struct {
		V  int   `json:"v"`
		G  []any `json:"g"`
		G2 []struct {
			Rule string            `json:"rule"`
			Row  map[string]string `json:"row"`
			K    []string          `json:"k"`
		} `json:"g2"`
	}
	require.NoError(t, json.Unmarshal(b, &raw))
	assert.Equal(t, entryVersion, raw.V)
	assert.Nil(t, raw.G, "no groups where a version 1 reader looks")
	require.Len(t, raw.G2, 1)
	assert.Equal(t, rule.ESCU.ID, raw.G2[0].Rule)
	assert.Nil(t, raw.G2[0].K, "no positional key in a named entry")
	fields := fullRow.Fields()
	want := map[string]string{}
	for i, name := range rule.RowFields {
		want[name] = fields[i]
	}
	assert.Equal(t, want, raw.G2[0].Row)

	d, err := decodeEntry(b)
	require.NoError(t, err)
	require.Len(t, d.groups, 1)
	assert.Same(t, rule.ESCU, d.groups[0].Rule)
	assert.Equal(t, fullRow, d.groups[0].Row)
	assert.Equal(t, int64(2), d.groups[0].Count)
}

func TestDecodeNamedEntry(t *testing.T) {
	row := `"row":{"dest":"d","user":"alice@contoso.com","src":"s","vendor_account":"va","vendor_product":"vp","signature":"sig","signature_id":"1"}`
	group := func(ruleID, row string) string {
		return `{"v":2,"g2":[{"rule":"` + ruleID + `",` + row + `,"c":1,"f":0,"l":0,"o":0,"r":{"resourceLogs":[{"resource":{}}]}}],"i":[{"id":"x","t":5}]}`
	}
	for _, tc := range []struct {
		name         string
		entry        string
		wantRow      *rule.Row
		unknownRules int
		wantErr      string
	}{
		{name: "every field", entry: group(rule.ESCU.ID, row), wantRow: &fullRow},
		{
			name:    "a field missing is filled as fillnull fills it",
			entry:   group(rule.ESCU.ID, strings.Replace(row, `"src":"s",`, "", 1)),
			wantRow: &rule.Row{Dest: "d", User: "alice@contoso.com", Src: rule.Fill, VendorAccount: "va", VendorProduct: "vp", Signature: "sig", SignatureID: "1"},
		},
		{name: "a field this version does not know", entry: group(rule.ESCU.ID, strings.Replace(row, `"dest"`, `"app"`, 1)), wantErr: `field "app"`},
		{name: "a rule this version does not have", entry: group("no-such-rule", row), unknownRules: 1},
		{name: "a newer version", entry: strings.Replace(group(rule.ESCU.ID, row), `"v":2`, `"v":3`, 1), wantErr: "version 3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := decodeEntry([]byte(tc.entry))
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.unknownRules, d.unknownRules)
			assert.Equal(t, []dedup.Entry{{ID: "x", Seen: time.Unix(0, 5)}}, d.ids, "the Ids survive a dropped group")
			if tc.wantRow == nil {
				assert.Empty(t, d.groups)
				return
			}
			require.Len(t, d.groups, 1)
			assert.Equal(t, *tc.wantRow, d.groups[0].Row)
		})
	}
}
