package rule_test

import (
	"testing"

	"github.com/o365detect/o365detect/internal/record"
	"github.com/o365detect/o365detect/internal/record/recordtest"
	"github.com/o365detect/o365detect/internal/repotest"
	"github.com/o365detect/o365detect/internal/rule"
)

// FuzzFastPathAgreesWithFullDecode compares the detection's outcome on the
// fast path (prefilter and scanner) with its outcome on a full encoding/json
// decode, on arbitrary bodies. Any difference in match, user or row fails.
func FuzzFastPathAgreesWithFullDecode(f *testing.F) {
	for _, s := range seedBodies(f) {
		f.Add(s)
	}
	rd := record.NewReader("Id")
	f.Fuzz(func(t *testing.T, body string) {
		var fast record.Record
		status := rd.ReadJSON(body, &fast)
		fastMatch := status == record.Decoded && rule.Match(&fast)

		ref, ok := recordtest.Read(body, "Id")
		refMatch := ok && rule.Match(&ref)

		if fastMatch != refMatch {
			t.Fatalf("match differs: fast %v (status %d), full decode %v\nbody: %q", fastMatch, status, refMatch, body)
		}
		if status == record.Invalid && ok {
			t.Fatalf("fast path rejected a body encoding/json accepts: %q", body)
		}
		if status == record.Decoded && !ok {
			t.Fatalf("fast path accepted a body encoding/json rejects: %q", body)
		}
		if !fastMatch {
			return
		}
		fu, fok := rule.User(fast.ActorIDs)
		ru, rok := rule.User(ref.ActorIDs)
		if fu != ru || fok != rok {
			t.Fatalf("user differs: fast %q/%v, full %q/%v\nbody: %q", fu, fok, ru, rok, body)
		}
		if fr, rr := rule.NewRow(&fast), rule.NewRow(&ref); fr != rr {
			t.Fatalf("row differs:\nfast %+v\nfull %+v\nbody: %q", fr, rr, body)
		}
	})
}

// seedBodies returns the bundled sample records plus hand-made edge cases.
func seedBodies(tb testing.TB) []string {
	seeds := []string{
		`{"Workload":"AzureActiveDirectory","Operation":"Add a partner to cross-tenant access setting.","Actor":[{"ID":"a@b.c"},{"ID":"User"}],"OrganizationId":"o","Id":"1"}`,
		`{"Workload":"azureactivedirectory","Operation":"delete partner specific cross\u002dtenant access setting.","Actor":[{"ID":"n"},{"ID":"a"},{"ID":"b"},{"ID":"sp"},{"ID":"ServicePrincipal"}]}`,
		`{"Work\u006coad":"AzureActiveDirectory","Operation":"Add a partner to cross-tenant access setting."}`,
		`{"Workload":"AzureActiveDirectory","Operation":"Add a partner to cross-tenant access setting.","Workload":"Exchange"}`,
		`{"Workload" : "AzureActiveDirectory" ,"Operation": "Add a partner to cross-tenant access setting." ,"ClientIP":"\ud83d\ude00","x":[1,-0.5e+3,true,null,{}]}`,
		`{"Workload":"AzureActiveDirectory","Operation":"Add a partner to cross-tenant access setting.","Actor":[{"ID":"\ud800"}]}`,
		`{"Workload":"AzureActiveDirectory","Operation":"Add a partner to cross-tenant access setting.",`,
		"{\"Workload\":\"AzureActiveDirectory\",\"Operation\":\"Add a partner to cross-tenant access setting.\",\"OrganizationId\":\"\xff\"}",
		`[{"Workload":"AzureActiveDirectory","Operation":"Add a partner to cross-tenant access setting."}]`,
		`{"Nested":{"Workload":"AzureActiveDirectory","Operation":"Add a partner to cross-tenant access setting."}}`,
		`not json at all`,
		``,
	}
	for _, name := range []string{"sample.jsonl", "unseen.jsonl"} {
		seeds = append(seeds, repotest.Lines(tb, "o365", name)...)
	}
	return seeds
}
