package aggregate_test

import (
	"fmt"
	"runtime"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/o365detect/o365detect/internal/aggregate"
	"github.com/o365detect/o365detect/internal/rule"
)

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func resource(name string) pcommon.Resource {
	r := pcommon.NewResource()
	r.Attributes().PutStr("service.name", name)
	return r
}

func TestAddGroupsByExactRow(t *testing.T) {
	a := aggregate.New()
	row := rule.Row{Dest: "org", User: "alice", Src: "0", VendorAccount: "org", VendorProduct: "p", Signature: "s", SignatureID: "1"}
	upper := row
	upper.User = "Alice" // stats groups by exact strings
	arrived := at("2025-03-07T09:00:00Z")

	a.Add(rule.ESCU, row, at("2025-03-04T10:00:05Z"), arrived, resource("first"), "")
	a.Add(rule.ESCU, row, at("2025-03-04T09:59:59Z"), arrived.Add(time.Second), resource("second"), "")
	a.Add(rule.ESCU, row, at("2025-03-04T10:00:01Z"), arrived, resource("third"), "")
	a.Add(rule.ESCU, upper, at("2025-03-04T10:00:00Z"), arrived, resource("other"), "")
	require.Equal(t, 2, a.Len())

	groups := a.Drain()
	require.Len(t, groups, 2)
	assert.Equal(t, 0, a.Len())
	assert.Nil(t, a.Drain())

	g := groups[0]
	assert.Equal(t, row, g.Row)
	assert.Equal(t, int64(3), g.Count)
	assert.Equal(t, at("2025-03-04T09:59:59Z"), g.First, "min, not first arrival")
	assert.Equal(t, at("2025-03-04T10:00:05Z"), g.Last, "max, not last arrival")
	assert.Equal(t, arrived, g.Opened)
	name, _ := g.Resource.Attributes().Get("service.name")
	assert.Equal(t, "first", name.Str(), "the resource of the group's first record")
	assert.Equal(t, "Alice", groups[1].Row.User)
}

func TestAddCopiesKey(t *testing.T) {
	// The row's strings point into the record body; a group must not keep
	// the whole body alive through them.
	body := `{"UserId":"alice@contoso.com","OrganizationId":"org"}`
	row := rule.Row{User: body[11:28], Dest: body[48:51]}
	a := aggregate.New()
	a.Add(rule.ESCU, row, at("2025-03-04T10:00:00Z"), at("2025-03-04T10:00:00Z"), resource("svc"), "")
	key := a.Drain()[0].Row
	assert.Equal(t, row, key)
	assert.NotSame(t, unsafe.StringData(row.User), unsafe.StringData(key.User))
	assert.NotSame(t, unsafe.StringData(row.Dest), unsafe.StringData(key.Dest))
}

func TestMerge(t *testing.T) {
	a := aggregate.New()
	row := rule.Row{User: "alice"}
	a.Add(rule.ESCU, row, at("2025-03-04T10:05:00Z"), at("2025-03-07T09:05:00Z"), resource("late"), "")
	retried := &aggregate.Group{Rule: rule.ESCU, Row: row, Count: 2, First: at("2025-03-04T10:00:00Z"), Last: at("2025-03-04T10:01:00Z"),
		Opened: at("2025-03-07T09:00:00Z"), Resource: resource("early")}
	other := &aggregate.Group{Rule: rule.ESCU, Row: rule.Row{User: "bob"}, Count: 1, First: at("2025-03-04T11:00:00Z"), Last: at("2025-03-04T11:00:00Z"),
		Opened: at("2025-03-07T09:00:00Z"), Resource: resource("bob")}
	a.Merge([]*aggregate.Group{retried, other})
	require.Equal(t, 2, a.Len())
	groups := a.Drain()
	g := groups[0]
	assert.Equal(t, int64(3), g.Count)
	assert.Equal(t, at("2025-03-04T10:00:00Z"), g.First)
	assert.Equal(t, at("2025-03-04T10:05:00Z"), g.Last)
	v, _ := g.Resource.Attributes().Get("service.name")
	assert.Equal(t, "early", v.Str(), "the earliest-opened group's resource is kept")
	assert.Equal(t, "bob", groups[1].Row.User)
}

func BenchmarkAdd(b *testing.B) {
	a := aggregate.New()
	row := rule.Row{Dest: "org", User: "alice", Src: "0", VendorAccount: "org", VendorProduct: "p", Signature: "s", SignatureID: "1"}
	res := resource("svc")
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		a.Add(rule.ESCU, row, now, now, res, "p")
	}
}

func TestPartners(t *testing.T) {
	a := aggregate.New()
	row := rule.Row{User: "alice"}
	now := at("2025-03-04T10:00:00Z")
	for i := range aggregate.MaxPartners + 5 {
		a.Add(rule.ESCU, row, now, now, resource("svc"), fmt.Sprintf("tenant-%d", i%(aggregate.MaxPartners+2)))
		a.Add(rule.ESCU, row, now, now, resource("svc"), "")
	}
	g := a.Drain()[0]
	assert.Len(t, g.Partners, aggregate.MaxPartners, "bounded")
	assert.Equal(t, "tenant-0", g.Partners[0], "first-seen order")
	other := &aggregate.Group{Rule: rule.ESCU, Row: rule.Row{User: "bob"}, Count: 1, First: now, Last: now, Opened: now, Resource: resource("b"), Partners: []string{"x"}}
	a.Add(rule.ESCU, rule.Row{User: "bob"}, now, now, resource("b"), "y")
	a.Merge([]*aggregate.Group{other})
	assert.Equal(t, []string{"y", "x"}, a.Drain()[0].Partners)
}

// BenchmarkGroupMemory reports the heap one open group holds, with rows of
// realistic size (GUIDs, a UPN, an IPv4 address, the operation) and one
// partner tenant; the resource is shared per batch and not counted.
func BenchmarkGroupMemory(b *testing.B) {
	const groups = 10000
	res := resource("o365-audit")
	now := at("2025-03-04T10:00:00Z")
	var before, after runtime.MemStats
	for b.Loop() {
		runtime.GC()
		runtime.ReadMemStats(&before)
		a := aggregate.New()
		for i := range groups {
			row := rule.Row{
				Dest: "5f2b8c1d-3e4a-4b6c-9d7e-0a1b2c3d4e5f", User: fmt.Sprintf("user%06d@contoso.com", i), Src: "203.0.113.10",
				VendorAccount: "5f2b8c1d-3e4a-4b6c-9d7e-0a1b2c3d4e5f", VendorProduct: "Microsoft Office 365 AzureActiveDirectory",
				Signature: "Add a partner to cross-tenant access setting.", SignatureID: fmt.Sprintf("a1f3c2d4-1111-4a2b-9c3d-%012d", i),
			}
			a.Add(rule.ESCU, row, now, now, res, "9b8a7c6d-2222-4e5f-8a9b-1c2d3e4f5a6b")
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/groups, "B/group")
		runtime.KeepAlive(a)
	}
}

// TestAddGroupsByRule: one row hit by two rules is two groups, each under
// its rule, and a merge goes back to the group of the same rule.
func TestAddGroupsByRule(t *testing.T) {
	other := &rule.Rule{Name: "another rule", ID: "another"}
	row := rule.Row{Dest: "org", User: "alice", Src: "0", VendorAccount: "org", VendorProduct: "p", Signature: "s", SignatureID: "1"}
	now := at("2025-03-04T10:00:00Z")
	a := aggregate.New()
	a.Add(rule.ESCU, row, now, now, resource("a"), "")
	a.Add(other, row, now, now, resource("a"), "")
	a.Add(other, row, now, now, resource("a"), "")
	require.Equal(t, 2, a.Len())
	groups := a.Drain()
	assert.Same(t, rule.ESCU, groups[0].Rule)
	assert.Equal(t, int64(1), groups[0].Count)
	assert.Same(t, other, groups[1].Rule)
	assert.Equal(t, int64(2), groups[1].Count)

	a.Add(rule.ESCU, row, now, now, resource("a"), "")
	a.Merge(groups)
	require.Equal(t, 2, a.Len())
	merged := a.Drain()
	assert.Equal(t, int64(2), merged[0].Count, "the ESCU group took the retried ESCU group only")
	assert.Equal(t, int64(2), merged[1].Count)
}
