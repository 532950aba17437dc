package record_test

import (
	"slices"
	"testing"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/o365detect/o365detect/internal/record"
	"github.com/o365detect/o365detect/internal/record/recordtest"
	"github.com/o365detect/o365detect/internal/repotest"
)

// FuzzReadJSON compares the reader with an encoding/json decode: for every
// body the reader decodes, all fields, the modified properties included,
// must equal the reference's; a body it calls invalid must be one
// encoding/json rejects; and a body it skips without decoding must not be a
// candidate of any rule. The same body read as an Entra record must not be
// skipped when it holds a candidate Entra record either.
func FuzzReadJSON(f *testing.F) {
	for _, name := range []string{"sample.jsonl", "unseen.jsonl"} {
		for _, l := range repotest.Lines(f, "o365", name) {
			f.Add(l, "Id")
		}
	}
	for _, name := range []string{"eventhub.jsonl", "eventhub_other.jsonl", "graph.jsonl"} {
		for _, l := range repotest.Lines(f, "entra", name) {
			f.Add(l, "Id")
		}
	}
	f.Add(userRecord, "Operation")
	f.Add(userRecord, "Actor")
	f.Add(`{"Workload":"AzureActiveDirectory","Operation":"Add a partner to cross\u002dtenant access setting.","ModifiedProperties":[{"Name":"tenantId","NewValue":5}]}`, "")
	f.Add(`{"Workload":"AzureActiveDirectory","Operation":"Update a partner cross-tenant access setting.","ModifiedProperties":[{"Name":"a","NewValue":1.50,"OldValue":true},"x",{"Name":null,"NewValue":{"k":[1]},"OldValue":"\"v\""},{"Name":"b","Name":"c"}],"ModifiedProperties":[{"Name":"d"}]}`, "")
	f.Add(`{"Workload":"AzureActiveDirectory","Operation":"a\"cross-tenant\\","x":"cross-tenant"}`, "")
	f.Add(`{"activityDisplayName":"Reset the CROSS-TENANT access default setting"}`, "")
	rd := record.NewReader("Id")
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
			if ok && isCandidate(ref) {
				t.Fatalf("prefilter skipped a candidate body: %q", body)
			}
		}

		lr := plog.NewLogRecord()
		lr.Body().SetStr(body)
		recs, entraStatus := rd.ReadEntra(lr, pcommon.NewResource(), nil, status == record.NotCandidate)
		n, entraOK := entraCandidates(body)
		switch {
		case entraStatus == record.NotCandidate && n > 0:
			t.Fatalf("Entra prefilter skipped %d candidates: %q", n, body)
		case entraStatus == record.Decoded && isObjectText(body) && !entraOK:
			t.Fatalf("decoded an Entra body encoding/json rejects: %q", body)
		case entraStatus == record.Invalid && entraOK:
			t.Fatalf("rejected an Entra body encoding/json accepts: %q", body)
		}
		if entraStatus == record.Decoded && countCandidates(recs) != n {
			t.Fatalf("read %d Entra candidates, encoding/json %d: %q", countCandidates(recs), n, body)
		}
	})
}

// isObjectText reports whether ReadEntra reads s as JSON text: s starts,
// after JSON whitespace, with '{'.
func isObjectText(s string) bool {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ' ', '\t', '\n', '\r':
		case '{':
			return true
		default:
			return false
		}
	}
	return false
}

func countCandidates(recs []record.EntraRecord) int {
	n := 0
	for i := range recs {
		if recs[i].Activity.Kind == record.String && hasCrossTenant(recs[i].Activity.Text) {
			n++
		}
	}
	return n
}

func equalRecords(a, b record.Record) bool {
	return slices.Equal(a.ActorIDs, b.ActorIDs) &&
		a.Workload == b.Workload && a.Operation == b.Operation &&
		a.OrganizationID == b.OrganizationID && a.ActorIPAddress == b.ActorIPAddress &&
		a.ClientIP == b.ClientIP && a.CreationTime == b.CreationTime && a.ID == b.ID && a.SignatureID == b.SignatureID &&
		a.PartnerTenantNew == b.PartnerTenantNew && a.PartnerTenantOld == b.PartnerTenantOld &&
		slices.Equal(a.Properties, b.Properties)
}
