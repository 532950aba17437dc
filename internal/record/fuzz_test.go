package record_test

import (
	"slices"
	"testing"

	"github.com/o365detect/o365detect/internal/record"
	"github.com/o365detect/o365detect/internal/record/recordtest"
	"github.com/o365detect/o365detect/internal/repotest"
)

// FuzzReadJSON compares the reader with an encoding/json decode: for every
// body the reader decodes, all fields must equal the reference's; a body it
// calls invalid must be one encoding/json rejects; and a body it skips
// without decoding must not hold the matched pair of values.
func FuzzReadJSON(f *testing.F) {
	for _, name := range []string{"sample.jsonl", "unseen.jsonl"} {
		for _, l := range repotest.Lines(f, "o365", name) {
			f.Add(l, "Id")
		}
	}
	f.Add(userRecord, "Operation")
	f.Add(userRecord, "Actor")
	f.Add(`{"Workload":"AzureActiveDirectory","Operation":"Add a partner to cross\u002dtenant access setting.","ModifiedProperties":[{"Name":"tenantId","NewValue":5}]}`, "")
	f.Fuzz(func(t *testing.T, body, sigField string) {
		var rec record.Record
		status := record.NewReader(sigField).ReadJSON(body, &rec)
		ref, ok := recordtest.Read(body, sigField)
		switch status {
		case record.Decoded:
			if !ok {
				t.Fatalf("decoded a body encoding/json rejects: %q", body)
			}
			if got, want := normalize(rec), normalize(ref); !equalRecords(got, want) {
				t.Fatalf("records differ\nfast: %+v\nref:  %+v\nbody: %q", got, want, body)
			}
		case record.Invalid:
			if ok {
				t.Fatalf("rejected a body encoding/json accepts: %q", body)
			}
		case record.NotCandidate:
			if ok && holdsMatch(ref) {
				t.Fatalf("prefilter skipped a matching body: %q", body)
			}
		}
	})
}

func holdsMatch(r record.Record) bool {
	if r.Workload.Kind != record.String || r.Operation.Kind != record.String {
		return false
	}
	return record.EqualFoldASCII(r.Workload.Text, "AzureActiveDirectory") &&
		(record.EqualFoldASCII(r.Operation.Text, "Add a partner to cross-tenant access setting.") ||
			record.EqualFoldASCII(r.Operation.Text, "Delete partner specific cross-tenant access setting."))
}

func equalRecords(a, b record.Record) bool {
	return slices.Equal(a.ActorIDs, b.ActorIDs) &&
		a.Workload == b.Workload && a.Operation == b.Operation &&
		a.OrganizationID == b.OrganizationID && a.ActorIPAddress == b.ActorIPAddress &&
		a.ClientIP == b.ClientIP && a.CreationTime == b.CreationTime && a.ID == b.ID && a.SignatureID == b.SignatureID &&
		a.PartnerTenantNew == b.PartnerTenantNew && a.PartnerTenantOld == b.PartnerTenantOld
}
