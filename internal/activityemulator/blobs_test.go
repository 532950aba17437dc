package activityemulator

import (
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestBlobIsServedByteForByte(t *testing.T) {
	s, _ := start(t, Options{Subscribed: []string{"Audit.Exchange"}})
	tok := token(t, s)
	tests := []struct {
		name    string
		records []string
		want    string
	}{
		{"none", nil, "[]"},
		{"one", []string{`{"Id":"a"}`}, `[{"Id":"a"}]`},
		{"spacing and order kept", []string{`{"Id":"a", "RecordType":15}`, `{ "b" : [1, 2.50, "\u00e9"] }`}, `[{"Id":"a", "RecordType":15},{ "b" : [1, 2.50, "\u00e9"] }]`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id := s.AddBlob(Blob{ContentType: "Audit.Exchange", Created: t0.Add(-time.Hour), Records: tc.records})
			r := do(t, s, "GET", withPublisher(feed(s)+"audit/"+id), tok)
			if r.status != 200 || string(r.body) != tc.want {
				t.Fatalf("got %d %q, want %q", r.status, r.body, tc.want)
			}
			mt, _, err := mime.ParseMediaType(r.header.Get("Content-Type"))
			if err != nil || mt != "application/json" {
				t.Errorf("Content-Type %q", r.header.Get("Content-Type"))
			}
			if r.header.Get("Content-Length") != fmt.Sprint(len(tc.want)) {
				t.Errorf("Content-Length %q", r.header.Get("Content-Length"))
			}
		})
	}
}

func TestBlobExpiresSevenDaysAfterCreation(t *testing.T) {
	created := t0.Add(-time.Hour)
	tests := []struct {
		name   string
		at     time.Time
		status int
	}{
		{"a day old", created.Add(24 * time.Hour), 200},
		{"at contentExpiration", created.Add(7 * 24 * time.Hour), 200},
		{"just after contentExpiration", created.Add(7*24*time.Hour + time.Millisecond), 400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, c := start(t, Options{Subscribed: []string{"Audit.SharePoint"}})
			id := s.AddBlob(Blob{ContentType: "Audit.SharePoint", Created: created, Records: []string{`{}`}})
			c.Advance(tc.at.Sub(t0))
			r := do(t, s, "GET", withPublisher(feed(s)+"audit/"+id), token(t, s))
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			if tc.status == 200 {
				return
			}
			want := "Content requested with the key " + id + " has already expired. Content older than 7 days cannot be retrieved."
			if code, msg := r.apiErr(t); code != "AF20051" || msg != want {
				t.Errorf("got %s %q", code, msg)
			}
			noViolations(t, s)
		})
	}
}

func TestGeneratedBlobStreamsWithoutBeingHeld(t *testing.T) {
	const n = 100000
	s, _ := start(t, Options{Subscribed: []string{"Audit.AzureActiveDirectory"}})
	id := s.AddBlob(Blob{ContentType: "Audit.AzureActiveDirectory", Created: t0.Add(-time.Hour), Count: n, Record: func(i int) string {
		return fmt.Sprintf(`{"Id":"%08d","RecordType":15,"Operation":"UserLoggedIn"}`, i)
	}})
	req, _ := http.NewRequest("GET", withPublisher(feed(s)+"audit/"+id), nil)
	req.Header.Set("Authorization", "Bearer "+token(t, s))
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.ContentLength != -1 {
		t.Fatalf("status %d, length %d: a generated blob is streamed", resp.StatusCode, resp.ContentLength)
	}
	dec := json.NewDecoder(resp.Body)
	if tok, err := dec.Token(); err != nil || tok != json.Delim('[') {
		t.Fatalf("first token %v %v", tok, err)
	}
	count := 0
	for dec.More() {
		var rec struct{ Id string }
		if err := dec.Decode(&rec); err != nil {
			t.Fatalf("record %d: %v", count, err)
		}
		if rec.Id != fmt.Sprintf("%08d", count) {
			t.Fatalf("record %d has Id %s", count, rec.Id)
		}
		count++
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim(']') {
		t.Fatalf("last token %v %v", tok, err)
	}
	if rest, _ := io.ReadAll(dec.Buffered()); strings.TrimSpace(string(rest)) != "" {
		t.Errorf("trailing bytes %q", rest)
	}
	if count != n {
		t.Errorf("%d records, want %d", count, n)
	}
	resp.Body.Close()
	if st := s.Stats(); st.BlobsServed[id] != 1 {
		t.Errorf("BlobsServed %v", st.BlobsServed)
	}
}

func TestForeignContentURI(t *testing.T) {
	s, _ := start(t, Options{Subscribed: []string{"Audit.General"}})
	tok := token(t, s)
	s.AddBlob(Blob{ContentType: "Audit.General", Created: t0.Add(-time.Hour), Foreign: true})
	got := list(t, do(t, s, "GET", listURL(s, "Audit.General", "", ""), tok))
	if len(got) != 1 || !strings.HasPrefix(got[0].ContentURI, s.ForeignURL()+"/") {
		t.Fatalf("listed %+v, want a contentUri on %s", got, s.ForeignURL())
	}
	do(t, s, "GET", withPublisher(got[0].ContentURI), "")
	st := s.Stats()
	if st.ForeignRequests != 1 || st.ForeignWithAuth != 0 || len(st.Violations) != 0 {
		t.Errorf("without a token: %+v", st)
	}
	do(t, s, "GET", withPublisher(got[0].ContentURI), tok)
	st = s.Stats()
	if st.ForeignRequests != 2 || st.ForeignWithAuth != 1 || len(st.Violations) != 1 || !strings.Contains(st.Violations[0], "other than the API") {
		t.Errorf("with a token: %+v", st)
	}
}

func TestAddBlobRejectsIncompleteBlobs(t *testing.T) {
	s, _ := start(t, Options{})
	for name, b := range map[string]Blob{
		"no content type":  {Created: t0},
		"count, no record": {ContentType: "Audit.General", Count: 3},
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			s.AddBlob(b)
		})
	}
}

func TestCloseCutsAStalledFetch(t *testing.T) {
	s := New(Options{Now: func() time.Time { return t0 }, Subscribed: []string{"Audit.General"}})
	id := s.AddBlob(Blob{ContentType: "Audit.General", Created: t0.Add(-time.Hour), Count: 1 << 20, Record: func(i int) string {
		return fmt.Sprintf(`{"Id":"%08d","Padding":"................................................"}`, i)
	}})
	req, _ := http.NewRequest("GET", withPublisher(feed(s)+"audit/"+id), nil)
	req.Header.Set("Authorization", "Bearer "+token(t, s))
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if _, err := io.ReadFull(resp.Body, make([]byte, 16)); err != nil {
		t.Fatal(err)
	}
	closed := make(chan struct{})
	go func() {
		s.Close()
		close(closed)
	}()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Close waits on a client that stopped reading")
	}
	if _, err := io.Copy(io.Discard, resp.Body); err == nil {
		t.Error("the stalled fetch was not cut")
	}
	if st := s.Stats(); st.BlobsServed[id] != 0 {
		t.Errorf("a cut blob counted as served: %v", st.BlobsServed)
	}
}
