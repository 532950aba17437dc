package activityemulator

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestListingWindowFiltersOnContentCreatedWithExclusiveEnd(t *testing.T) {
	s, _ := start(t, Options{Subscribed: []string{"Audit.Exchange"}})
	ws, we := t0.Add(-6*time.Hour), t0.Add(-2*time.Hour)
	at := map[string]time.Time{
		"before":      ws.Add(-time.Millisecond),
		"atStart":     ws,
		"inside":      ws.Add(time.Hour),
		"justBeforeE": we.Add(-time.Millisecond),
		"atEnd":       we,
		"after":       we.Add(time.Millisecond),
	}
	ids := map[string]string{}
	for name, c := range at {
		ids[s.AddBlob(Blob{ContentType: "Audit.Exchange", Created: c})] = name
	}
	// Another content type in the window must not show.
	s.AddBlob(Blob{ContentType: "Audit.SharePoint", Created: ws.Add(time.Minute)})
	tok := token(t, s)

	tests := []struct {
		name       string
		start, end string
		want       []string
	}{
		{"seconds", ws.Format(secs), we.Format(secs), []string{"atStart", "inside", "justBeforeE"}},
		{"minutes", ws.Format("2006-01-02T15:04"), we.Format("2006-01-02T15:04"), []string{"atStart", "inside", "justBeforeE"}},
		{"day", "2026-03-10", "2026-03-11", []string{"before", "atStart", "inside", "justBeforeE", "atEnd", "after"}},
		{"end one second later", ws.Format(secs), we.Add(time.Second).Format(secs), []string{"atStart", "inside", "justBeforeE", "atEnd", "after"}},
		{"neither is the last 24 hours", "", "", []string{"before", "atStart", "inside", "justBeforeE", "atEnd", "after"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := list(t, do(t, s, "GET", listURL(s, "Audit.Exchange", tc.start, tc.end), tok))
			var names []string
			for i, e := range got {
				names = append(names, ids[e.ContentID])
				if i > 0 && got[i-1].ContentCreated > e.ContentCreated {
					t.Errorf("not sorted by contentCreated: %s after %s", e.ContentCreated, got[i-1].ContentCreated)
				}
				if e.ContentType != "Audit.Exchange" || e.ContentURI != feed(s)+"audit/"+e.ContentID {
					t.Errorf("entry %+v", e)
				}
			}
			if fmt.Sprint(names) != fmt.Sprint(tc.want) {
				t.Errorf("listed %v, want %v", names, tc.want)
			}
		})
	}
	noViolations(t, s)
}

func TestListedTimesArePrintedAsMicrosoftDoes(t *testing.T) {
	s, _ := start(t, Options{Subscribed: []string{"Audit.General"}})
	created := t0.Add(-time.Hour + 123456789*time.Nanosecond)
	s.AddBlob(Blob{ContentType: "Audit.General", Created: created})
	got := list(t, do(t, s, "GET", listURL(s, "Audit.General", "", ""), token(t, s)))
	if len(got) != 1 {
		t.Fatalf("got %d entries", len(got))
	}
	if got[0].ContentCreated != "2026-03-10T11:00:00.123Z" || got[0].ContentExpiration != "2026-03-17T11:00:00.123Z" {
		t.Errorf("created %s, expiration %s", got[0].ContentCreated, got[0].ContentExpiration)
	}
	if !strings.Contains(got[0].ContentID, "$") {
		t.Errorf("contentId %q does not look like the service's", got[0].ContentID)
	}
}

func TestPagingReturnsEveryBlobOnceAndStops(t *testing.T) {
	for _, n := range []int{0, 1, 6, 7, 14, 50} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			s, _ := start(t, Options{PageSize: 7, Subscribed: []string{"Audit.SharePoint"}})
			ws := t0.Add(-10 * time.Hour)
			want := map[string]int{}
			for i := range n {
				// Several blobs share a millisecond so paging cannot lean on
				// contentCreated alone.
				id := s.AddBlob(Blob{ContentType: "Audit.SharePoint", Created: ws.Add(time.Duration(i/3) * time.Minute)})
				want[id] = 1
			}
			s.AddBlob(Blob{ContentType: "Audit.SharePoint", Created: ws.Add(-time.Second)})
			tok := token(t, s)
			got := map[string]int{}
			pages := 0
			next := listURL(s, "Audit.SharePoint", ws.Format(secs), t0.Format(secs))
			for next != "" {
				pages++
				if pages > n+2 {
					t.Fatal("paging does not stop")
				}
				r := do(t, s, "GET", next, tok)
				for _, e := range list(t, r) {
					got[e.ContentID]++
				}
				next = r.header.Get("NextPageUri")
				if next == "" {
					continue
				}
				u, err := url.Parse(next)
				if err != nil {
					t.Fatal(err)
				}
				q := u.Query()
				if "https://"+u.Host != s.URL() || q.Get("nextPage") == "" ||
					q.Get("startTime") != ws.Format(secs) || q.Get("endTime") != t0.Format(secs) ||
					q.Get("PublisherIdentifier") != publisher {
					t.Fatalf("NextPageUri %s", next)
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("got %v, want each of %d blobs once", got, n)
			}
			wantPages := max(1, (n+6)/7)
			if pages != wantPages {
				t.Errorf("%d pages, want %d", pages, wantPages)
			}
			if st := s.Stats(); st.Lists != pages {
				t.Errorf("Stats.Lists = %d, want %d", st.Lists, pages)
			}
			noViolations(t, s)
		})
	}
}

func TestPagingSeesBlobsAddedBehindTheCursorOnlyOnce(t *testing.T) {
	s, _ := start(t, Options{PageSize: 2, Subscribed: []string{"Audit.General"}})
	ws := t0.Add(-5 * time.Hour)
	for i := range 4 {
		s.AddBlob(Blob{ContentType: "Audit.General", Created: ws.Add(time.Duration(i) * time.Minute)})
	}
	tok := token(t, s)
	r := do(t, s, "GET", listURL(s, "Audit.General", ws.Format(secs), t0.Format(secs)), tok)
	first := list(t, r)
	// One blob lands before the cursor, one after: only the later one can
	// be on a later page, and nothing already served repeats.
	s.AddBlob(Blob{ContentType: "Audit.General", Created: ws.Add(30 * time.Second)})
	late := s.AddBlob(Blob{ContentType: "Audit.General", Created: ws.Add(time.Hour)})
	seen := map[string]int{}
	for _, e := range first {
		seen[e.ContentID]++
	}
	for next := r.header.Get("NextPageUri"); next != ""; next = r.header.Get("NextPageUri") {
		r = do(t, s, "GET", next, tok)
		for _, e := range list(t, r) {
			seen[e.ContentID]++
		}
	}
	if len(seen) != 5 || seen[late] != 1 {
		t.Errorf("seen %v", seen)
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("%s listed %d times", id, n)
		}
	}
}

func TestBlobListedTwice(t *testing.T) {
	s, _ := start(t, Options{Subscribed: []string{"Audit.AzureActiveDirectory"}})
	c := t0.Add(-3 * time.Hour)
	id := s.AddBlob(Blob{ContentType: "Audit.AzureActiveDirectory", Created: c, AlsoListedAt: []time.Time{c.Add(time.Hour)}})
	tok := token(t, s)
	got := list(t, do(t, s, "GET", listURL(s, "Audit.AzureActiveDirectory", c.Format(secs), t0.Format(secs)), tok))
	if len(got) != 2 || got[0].ContentID != id || got[1].ContentID != id ||
		got[0].ContentCreated == got[1].ContentCreated || got[0].ContentExpiration != got[1].ContentExpiration {
		t.Errorf("got %+v", got)
	}
	// A window holding only the second listing still finds it.
	got = list(t, do(t, s, "GET", listURL(s, "Audit.AzureActiveDirectory", c.Add(30*time.Minute).Format(secs), t0.Format(secs)), tok))
	if len(got) != 1 || got[0].ContentID != id {
		t.Errorf("got %+v", got)
	}
}

func TestListingValidation(t *testing.T) {
	s, _ := start(t, Options{Subscribed: []string{"Audit.Exchange"}})
	tok := token(t, s)
	other := "0d9f2c1b-7a6e-4b5d-8c3f-2e1a0b9c8d7e"
	f := func(d time.Duration) string { return t0.Add(d).Format(secs) }
	tests := []struct {
		name      string
		tenant    string
		q         url.Values
		status    int
		code      string
		violation string
	}{
		{name: "both times", q: url.Values{"startTime": {f(-2 * time.Hour)}, "endTime": {f(-time.Hour)}}, status: 200},
		{name: "exactly 24 hours", q: url.Values{"startTime": {f(-24 * time.Hour)}, "endTime": {f(0)}}, status: 200},
		{name: "neither", q: url.Values{}, status: 200},
		{name: "start 6 days 23 hours back", q: url.Values{"startTime": {f(-167 * time.Hour)}, "endTime": {f(-166 * time.Hour)}}, status: 200},
		{name: "end in the future", q: url.Values{"startTime": {f(-time.Hour)}, "endTime": {f(time.Hour)}}, status: 200},
		{name: "lower-case names", q: url.Values{"starttime": {f(-2 * time.Hour)}, "endtime": {f(-time.Hour)}}, status: 200},
		{name: "only start", q: url.Values{"startTime": {f(-time.Hour)}}, status: 400, code: "AF20030", violation: "only one of"},
		{name: "only end", q: url.Values{"endTime": {f(-time.Hour)}}, status: 400, code: "AF20030", violation: "only one of"},
		{name: "over 24 hours", q: url.Values{"startTime": {f(-24*time.Hour - time.Second)}, "endTime": {f(0)}}, status: 400, code: "AF20030", violation: "more than 24 hours"},
		{name: "start over 7 days back", q: url.Values{"startTime": {f(-7*24*time.Hour - time.Minute)}, "endTime": {f(-7 * 24 * time.Hour)}}, status: 400, code: "AF20030", violation: "more than 7 days"},
		{name: "end before start", q: url.Values{"startTime": {f(-time.Hour)}, "endTime": {f(-2 * time.Hour)}}, status: 400, code: "AF20030", violation: "not after"},
		{name: "end equals start", q: url.Values{"startTime": {f(-time.Hour)}, "endTime": {f(-time.Hour)}}, status: 400, code: "AF20030", violation: "not after"},
		{name: "impossible date", q: url.Values{"startTime": {"2026-13-45"}, "endTime": {f(0)}}, status: 400, code: "AF20002", violation: "startTime"},
		{name: "not a time", q: url.Values{"startTime": {f(-time.Hour)}, "endTime": {"now"}}, status: 400, code: "AF20002", violation: "endTime"},
		{name: "zone and fraction served but undocumented", q: url.Values{"startTime": {"2026-03-10T10:00:00.000Z"}, "endTime": {f(0)}}, status: 200, violation: "not in a documented format"},
		{name: "no contentType", q: url.Values{"contentType": {""}}, status: 400, code: "AF20001", violation: "no contentType"},
		{name: "unknown contentType", q: url.Values{"contentType": {"Audit.Teams"}}, status: 400, code: "AF20020", violation: "not a content type"},
		{name: "never subscribed", q: url.Values{"contentType": {"Audit.SharePoint"}}, status: 400, code: "AF20022"},
		{name: "another tenant", tenant: other, q: url.Values{}, status: 401, code: "AF20010", violation: "not the token's tenant"},
		{name: "tenant not a GUID", tenant: "contoso.onmicrosoft.com", q: url.Values{}, status: 400, code: "AF20013", violation: "not the token's tenant"},
		{name: "forged nextPage", q: url.Values{"nextPage": {"page2"}}, status: 400, code: "AF20031", violation: "nextPage"},
		{name: "no PublisherIdentifier", q: url.Values{"PublisherIdentifier": {""}}, status: 200, violation: "no PublisherIdentifier"},
	}
	messages := map[string]string{
		"AF20030": "Start time and end time must both be specified (or both omitted) and must be less than or equal to 24 hours apart, with the start time no more than 7 days in the past.",
		"AF20020": "The specified content type is not valid.",
		"AF20022": "No subscription found for the specified content type.",
		"AF20001": "Missing parameter: contentType.",
		"AF20031": "Invalid nextPage Input: page2.",
		"AF20010": "The tenant ID passed in the URL (" + other + ") does not match the tenant ID passed in the access token (" + DefaultTenantID + ").",
		"AF20013": "The tenant ID passed in the URL (contoso.onmicrosoft.com) is not a valid GUID.",
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q := url.Values{"contentType": {"Audit.Exchange"}, "PublisherIdentifier": {publisher}}
			for k, v := range tc.q {
				if v[0] == "" {
					q.Del(k)
				} else {
					q[k] = v
				}
			}
			tenant := tc.tenant
			if tenant == "" {
				tenant = DefaultTenantID
			}
			before := len(s.Stats().Violations)
			r := do(t, s, "GET", s.URL()+"/api/v1.0/"+tenant+"/activity/feed/subscriptions/content?"+q.Encode(), tok)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			if tc.code != "" {
				code, msg := r.apiErr(t)
				if code != tc.code {
					t.Errorf("code %s, want %s", code, tc.code)
				}
				if want, ok := messages[code]; ok && msg != want {
					t.Errorf("message %q, want %q", msg, want)
				}
				if code == "AF20002" && !strings.HasPrefix(msg, "Invalid parameter type: ") || code == "AF20002" && !strings.HasSuffix(msg, "Expected type: datetime") {
					t.Errorf("message %q", msg)
				}
			}
			v := s.Stats().Violations[before:]
			switch {
			case tc.violation == "" && len(v) != 0:
				t.Errorf("unexpected violations %q", v)
			case tc.violation != "" && (len(v) != 1 || !strings.Contains(v[0], tc.violation)):
				t.Errorf("violations %q, want one about %q", v, tc.violation)
			}
		})
	}
}

func TestStartSubscription(t *testing.T) {
	s, _ := start(t, Options{})
	tok := token(t, s)
	startURL := withPublisher(feed(s) + "subscriptions/start?contentType=Audit.General")
	r := do(t, s, "POST", startURL, tok)
	if r.status != 200 || string(r.body) != `{"contentType":"Audit.General","status":"enabled","webhook":null}` {
		t.Fatalf("first start: %d %s", r.status, r.body)
	}
	r = do(t, s, "POST", startURL, tok)
	if code, msg := r.apiErr(t); r.status != 400 || code != "AF20024" || msg != "The subscription is already enabled. No property change." {
		t.Errorf("second start: %d %s", r.status, r.body)
	}
	r = do(t, s, "POST", withPublisher(feed(s)+"subscriptions/start?contentType=Audit.Nope"), tok)
	if code, _ := r.apiErr(t); code != "AF20020" {
		t.Errorf("bad content type: %s", r.body)
	}
	r = do(t, s, "GET", withPublisher(feed(s)+"subscriptions/list"), tok)
	if r.status != 200 || string(r.body) != `[{"contentType":"Audit.General","status":"enabled","webhook":null}]` {
		t.Errorf("list: %d %s", r.status, r.body)
	}
	if r := do(t, s, "GET", startURL, tok); r.status != http.StatusMethodNotAllowed {
		t.Errorf("GET start: %d", r.status)
	}
	if st := s.Stats(); st.Starts["Audit.General"] != 3 {
		t.Errorf("Starts = %v", st.Starts)
	}
}

func TestDisableSubscription(t *testing.T) {
	s, c := start(t, Options{Subscribed: []string{"Audit.General"}})
	tok := token(t, s)
	id := s.AddBlob(Blob{ContentType: "Audit.General", Created: t0.Add(-time.Hour), Records: []string{`{}`}})
	listIt := func() reply { return do(t, s, "GET", listURL(s, "Audit.General", "", ""), tok) }
	fetch := func() reply { return do(t, s, "GET", withPublisher(feed(s)+"audit/"+id), tok) }
	if r := listIt(); r.status != 200 {
		t.Fatalf("list: %d", r.status)
	}

	s.DisableSubscription("Audit.General")
	for name, r := range map[string]reply{"list": listIt(), "fetch": fetch()} {
		if code, _ := r.apiErr(t); r.status != 400 || code != "AF20022" {
			t.Errorf("%s while stopped: %d %s", name, r.status, r.body)
		}
	}
	c.Advance(time.Minute)
	lost := s.AddBlob(Blob{ContentType: "Audit.General", Created: c.Now().Add(-time.Second)})
	c.Advance(time.Minute)
	if r := do(t, s, "POST", withPublisher(feed(s)+"subscriptions/start?contentType=Audit.General"), tok); r.status != 200 {
		t.Fatalf("restart: %d %s", r.status, r.body)
	}
	got := list(t, listIt())
	if len(got) != 1 || got[0].ContentID != id {
		t.Errorf("after restart listed %+v; want only %s, not %s created while stopped", got, id, lost)
	}
	if r := fetch(); r.status != 200 {
		t.Errorf("fetch after restart: %d", r.status)
	}

	s.SuspendSubscription("Audit.General")
	r := listIt()
	if code, msg := r.apiErr(t); code != "AF20023" || msg != "The subscription was disabled by a tenant admin." {
		t.Errorf("suspended: %s", r.body)
	}
	r = do(t, s, "GET", withPublisher(feed(s)+"subscriptions/list"), tok)
	if !strings.Contains(string(r.body), `"status":"disabled"`) {
		t.Errorf("list subscriptions: %s", r.body)
	}
	noViolations(t, s)
}

func TestStopSubscription(t *testing.T) {
	s, _ := start(t, Options{Subscribed: []string{"DLP.All"}})
	tok := token(t, s)
	stop := withPublisher(feed(s) + "subscriptions/stop?contentType=DLP.All")
	if r := do(t, s, "POST", stop, tok); r.status != 200 || len(r.body) != 0 {
		t.Fatalf("stop: %d %s", r.status, r.body)
	}
	if r := do(t, s, "GET", listURL(s, "DLP.All", "", ""), tok); r.status != 400 {
		t.Errorf("list after stop: %d", r.status)
	}
}

func TestThrottleByRequestsPerMinute(t *testing.T) {
	s, c := start(t, Options{RequestsPerMinute: 3, Subscribed: []string{"Audit.Exchange"}})
	tok := token(t, s)
	u := listURL(s, "Audit.Exchange", "", "")
	for i := range 3 {
		if r := do(t, s, "GET", u, tok); r.status != 200 {
			t.Fatalf("request %d: %d", i, r.status)
		}
	}
	r := do(t, s, "GET", u, tok)
	code, msg := r.apiErr(t)
	if r.status != 429 || code != "AF429" || r.header.Get("Retry-After") != "60" ||
		msg != "Too many requests. Method=GET, PublisherId="+publisher {
		t.Fatalf("fourth: %d %v %s", r.status, r.header, r.body)
	}
	c.Advance(30 * time.Second)
	if r := do(t, s, "GET", u, tok); r.status != 429 || r.header.Get("Retry-After") != "30" {
		t.Fatalf("after 30s: %d Retry-After %q", r.status, r.header.Get("Retry-After"))
	}
	c.Advance(31 * time.Second)
	if r := do(t, s, "GET", u, tok); r.status != 200 {
		t.Fatalf("after a minute: %d", r.status)
	}
	if st := s.Stats(); st.Throttled != 2 || st.Statuses[429] != 2 {
		t.Errorf("Throttled %d, Statuses %v", st.Throttled, st.Statuses)
	}
}

func TestAPITokens(t *testing.T) {
	s, c := start(t, Options{Subscribed: []string{"Audit.Exchange"}})
	u := listURL(s, "Audit.Exchange", "", "")
	denied := `{"Message":"Authorization has been denied for this request."}`
	tok := token(t, s)

	if r := do(t, s, "GET", u, ""); r.status != 401 || string(r.body) != denied {
		t.Errorf("no token: %d %s", r.status, r.body)
	}
	if r := do(t, s, "GET", u, "not-a-token"); r.status != 401 || string(r.body) != denied {
		t.Errorf("unknown token: %d %s", r.status, r.body)
	}
	c.Advance(3598 * time.Second)
	if r := do(t, s, "GET", u, tok); r.status != 200 {
		t.Errorf("token at 3598s: %d", r.status)
	}
	c.Advance(time.Second)
	if r := do(t, s, "GET", u, tok); r.status != 401 {
		t.Errorf("expired token: %d", r.status)
	}
	fresh := token(t, s)
	s.RevokeTokens()
	if r := do(t, s, "GET", u, fresh); r.status != 401 || string(r.body) != denied {
		t.Errorf("revoked token: %d %s", r.status, r.body)
	}
	if r := do(t, s, "GET", u, token(t, s)); r.status != 200 {
		t.Errorf("token after revocation: %d", r.status)
	}
	st := s.Stats()
	if st.Unauthorized != 4 {
		t.Errorf("Unauthorized = %d, want 4", st.Unauthorized)
	}
	if len(st.Violations) != 1 || !strings.Contains(st.Violations[0], "no Authorization") {
		t.Errorf("violations %q: only the missing header is the client's fault", st.Violations)
	}
}

func TestFailNext(t *testing.T) {
	s, _ := start(t, Options{Subscribed: []string{"Audit.Exchange"}})
	tok := token(t, s)
	id := s.AddBlob(Blob{ContentType: "Audit.Exchange", Created: t0.Add(-time.Hour), Records: []string{`{"Id":"1"}`}})
	listU := listURL(s, "Audit.Exchange", "", "")
	fetchU := withPublisher(feed(s) + "audit/" + id)
	startU := withPublisher(feed(s) + "subscriptions/start?contentType=Audit.General")

	tests := []struct {
		name       string
		op         Op
		n          int
		fault      Fault
		url        string
		status     int
		code       string
		message    string
		retryAfter string
	}{
		{"throttled listing", OpList, 2, Fault{Status: 429, Code: "AF429", RetryAfter: 30 * time.Second}, listU, 429, "AF429", "Too many requests. Method=GET, PublisherId=" + publisher, "30"},
		{"throttled fetch names GetBlob", OpFetch, 1, Fault{Code: "AF429"}, fetchU, 429, "AF429", "Too many requests. Method=GetBlob, PublisherId=" + publisher, ""},
		{"old-style 403 throttle", OpStart, 1, Fault{Status: 403, Code: "AF429", Message: "Too many requests. Method=StartSubscription, PublisherId=x"}, startU, 403, "AF429", "Too many requests. Method=StartSubscription, PublisherId=x", ""},
		{"internal error", OpFetch, 1, Fault{Code: "AF50000"}, fetchU, 500, "AF50000", "An internal error occurred. Retry the request.", ""},
		{"plain 503", OpFetch, 2, Fault{Status: 503, RetryAfter: 1500 * time.Millisecond}, fetchU, 503, "", "", "2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			method := "GET"
			if tc.op == OpStart {
				method = "POST"
			}
			s.FailNext(tc.op, tc.n, tc.fault)
			for i := range tc.n {
				r := do(t, s, method, tc.url, tok)
				if r.status != tc.status || r.header.Get("Retry-After") != tc.retryAfter {
					t.Fatalf("request %d: %d Retry-After %q: %s", i, r.status, r.header.Get("Retry-After"), r.body)
				}
				if tc.code == "" {
					if len(r.body) != 0 {
						t.Errorf("body %q, want empty", r.body)
					}
					continue
				}
				if code, msg := r.apiErr(t); code != tc.code || msg != tc.message {
					t.Errorf("got %s %q", code, msg)
				}
			}
			if r := do(t, s, method, tc.url, tok); r.status != 200 {
				t.Errorf("after the faults: %d %s", r.status, r.body)
			}
			s.DisableSubscription("Audit.General")
		})
	}
	if st := s.Stats(); st.Throttled != 4 {
		t.Errorf("Throttled = %d, want 4", st.Throttled)
	}
}

func TestUnknownContentAndPaths(t *testing.T) {
	s, _ := start(t, Options{Subscribed: []string{"Audit.Exchange"}})
	tok := token(t, s)
	r := do(t, s, "GET", withPublisher(feed(s)+"audit/madeup$id"), tok)
	if code, msg := r.apiErr(t); r.status != 400 || code != "AF20050" || msg != "The specified content (madeup$id) does not exist." {
		t.Errorf("unknown blob: %d %s", r.status, r.body)
	}
	if r := do(t, s, "GET", withPublisher(feed(s)+"subscriptions/nothing"), tok); r.status != 404 {
		t.Errorf("unknown operation: %d", r.status)
	}
	if v := s.Stats().Violations; len(v) != 2 {
		t.Errorf("violations %q", v)
	}
}

func TestViolationsRecordABadWindow(t *testing.T) {
	s, _ := start(t, Options{})
	tok := token(t, s)
	do(t, s, "POST", withPublisher(feed(s)+"subscriptions/start?contentType=Audit.SharePoint"), tok)
	id := s.AddBlob(Blob{ContentType: "Audit.SharePoint", Created: t0.Add(-2 * time.Hour), Records: []string{`{}`}})
	for _, e := range list(t, do(t, s, "GET", listURL(s, "Audit.SharePoint", t0.Add(-3*time.Hour).Format(secs), t0.Format(secs)), tok)) {
		do(t, s, "GET", withPublisher(e.ContentURI), tok)
	}
	if st := s.Stats(); st.BlobsServed[id] != 1 || st.Fetches[id] != 1 || st.PublisherIdentifiers[publisher] != 3 {
		t.Errorf("stats %+v", st)
	}
	noViolations(t, s)

	do(t, s, "GET", listURL(s, "Audit.SharePoint", t0.Add(-25*time.Hour).Format(secs), t0.Format(secs)), tok)
	v := s.Stats().Violations
	if len(v) != 1 || !strings.Contains(v[0], "subscriptions/content") || !strings.Contains(v[0], "25h0m0s apart, more than 24 hours") {
		t.Errorf("violations %q", v)
	}
}

func TestMaxInFlightAndConcurrentUse(t *testing.T) {
	s, _ := start(t, Options{PageSize: 3, Subscribed: []string{"Audit.General"}})
	tok := token(t, s)
	release := make(chan struct{})
	started := make(chan struct{}, 4)
	id := s.AddBlob(Blob{ContentType: "Audit.General", Created: t0.Add(-time.Hour), Count: 1, Record: func(int) string {
		started <- struct{}{}
		<-release
		return `{}`
	}})
	type result struct {
		status int
		body   string
		err    error
	}
	done := make(chan result, 4)
	for range 4 {
		go func() {
			req, _ := http.NewRequest("GET", withPublisher(feed(s)+"audit/"+id), nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			resp, err := s.Client().Do(req)
			if err != nil {
				done <- result{err: err}
				return
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			done <- result{resp.StatusCode, string(b), err}
		}()
	}
	for range 4 {
		<-started
	}
	// Blobs can be added and listed while others are being served.
	for i := range 10 {
		s.AddBlob(Blob{ContentType: "Audit.General", Created: t0.Add(-time.Duration(i) * time.Minute)})
	}
	list(t, do(t, s, "GET", listURL(s, "Audit.General", "", ""), tok))
	close(release)
	for range 4 {
		if r := <-done; r.err != nil || r.status != 200 || r.body != "[{}]" {
			t.Errorf("fetch: %d %s %v", r.status, r.body, r.err)
		}
	}
	if st := s.Stats(); st.MaxInFlight != 5 {
		t.Errorf("MaxInFlight = %d, want 5", st.MaxInFlight)
	}
}

func TestStatsIsACopy(t *testing.T) {
	s, _ := start(t, Options{})
	token(t, s)
	st := s.Stats()
	st.Statuses[200] = 99
	st.Violations = append(st.Violations, "x")
	if again := s.Stats(); again.Statuses[200] != 1 || len(again.Violations) != 0 || again.TokenRequests != 1 {
		t.Errorf("stats changed through a copy: %+v", again)
	}
	b, _ := json.Marshal(st)
	if len(b) == 0 {
		t.Error("stats do not marshal")
	}
}
