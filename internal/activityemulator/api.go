package activityemulator

import (
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// route is what an API path asks for.
type route struct {
	op        Op
	tenant    string
	contentID string // for OpFetch
	method    string // the one HTTP method the operation takes
}

// parseRoute reads /api/v1.0/{tenant}/activity/feed/{operation}. The
// reference's paging sample shows /api/v1/ in a NextPageUri, so that
// prefix is served too.
func parseRoute(path string) (route, bool) {
	var rest string
	switch {
	case strings.HasPrefix(path, "/api/v1.0/"):
		rest = path[len("/api/v1.0/"):]
	case strings.HasPrefix(path, "/api/v1/"):
		rest = path[len("/api/v1/"):]
	default:
		return route{}, false
	}
	tenant, rest, ok := strings.Cut(rest, "/")
	if !ok || tenant == "" {
		return route{}, false
	}
	rest, ok = strings.CutPrefix(rest, "activity/feed/")
	if !ok {
		return route{}, false
	}
	r := route{tenant: tenant}
	switch rest {
	case "subscriptions/start":
		r.op, r.method = OpStart, http.MethodPost
	case "subscriptions/stop":
		r.op, r.method = OpStop, http.MethodPost
	case "subscriptions/list":
		r.op, r.method = OpListSubscriptions, http.MethodGet
	case "subscriptions/content":
		r.op, r.method = OpList, http.MethodGet
	default:
		id, ok := strings.CutPrefix(rest, "audit/")
		if !ok || id == "" || strings.Contains(id, "/") {
			return route{}, false
		}
		r.op, r.method, r.contentID = OpFetch, http.MethodGet, id
	}
	return r, true
}

// query reads a parameter regardless of case, as the ASP.NET service
// binds them (the troubleshooting page itself writes "starttime").
func query(q url.Values, name string) string {
	if v, ok := q[name]; ok && len(v) > 0 {
		return v[0]
	}
	for k, v := range q {
		if strings.EqualFold(k, name) && len(v) > 0 {
			return v[0]
		}
	}
	return ""
}

func (s *Server) serveAPI(w http.ResponseWriter, req *http.Request) {
	rec := &recorder{ResponseWriter: w}
	s.enter()
	defer func() {
		status := rec.code()
		s.update(func(st *Stats) {
			st.Statuses[status]++
			if status == http.StatusUnauthorized {
				st.Unauthorized++
			}
		})
		s.leave()
	}()
	s.handleAPI(rec, req)
}

func (s *Server) enter() {
	s.mu.Lock()
	s.inFlight++
	if s.inFlight > s.stats.MaxInFlight {
		s.stats.MaxInFlight = s.inFlight
	}
	s.mu.Unlock()
}

func (s *Server) leave() {
	s.mu.Lock()
	s.inFlight--
	s.mu.Unlock()
}

// handleAPI checks a request in a fixed order: route and method, then a
// queued Fault, the rate limit, the token, the tenant, and last the
// operation's own parameters. The service's own order is not documented;
// this one makes a Fault hit the very next request of its kind and keeps
// parameter errors for requests that are otherwise acceptable.
func (s *Server) handleAPI(w http.ResponseWriter, req *http.Request) {
	q := req.URL.Query()
	rt, ok := parseRoute(req.URL.Path)
	if !ok {
		// 404 and 405 carry ASP.NET Web API's own texts, the framework the
		// service answers 401 with too.
		s.violate(req, "no such API operation")
		writeJSON(w, http.StatusNotFound, map[string]string{
			"Message": "No HTTP resource was found that matches the request URI '" + s.api.URL + req.URL.RequestURI() + "'."})
		return
	}
	publisher := query(q, "PublisherIdentifier")
	ct := query(q, "contentType")
	s.update(func(st *Stats) {
		if publisher != "" {
			st.PublisherIdentifiers[publisher]++
		}
		switch rt.op {
		case OpStart:
			st.Starts[ct]++
		case OpList:
			st.Lists++
		case OpFetch:
			st.Fetches[rt.contentID]++
		}
	})
	switch {
	case publisher == "":
		s.violate(req, "no PublisherIdentifier")
	case !isGUID(publisher):
		s.violate(req, "PublisherIdentifier %q is not a GUID", publisher)
	}
	if req.Method != rt.method {
		s.violate(req, "%s takes %s", rt.op, rt.method)
		w.Header().Set("Allow", rt.method)
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{
			"Message": "The requested resource does not support http method '" + req.Method + "'."})
		return
	}
	// The throttling message names the operation for blob fetches, as the
	// troubleshooting page shows, and the HTTP method otherwise, as the
	// reference's table describes.
	opName := req.Method
	if rt.op == OpFetch {
		opName = "GetBlob"
	}
	if f, ok := s.takeFault(rt.op); ok {
		if f.Code == "AF429" {
			s.update(func(st *Stats) { st.Throttled++ })
		}
		writeAPIFault(w, f, opName, publisher)
		return
	}
	if wait, ok := s.admit(); !ok {
		s.update(func(st *Stats) { st.Throttled++ })
		writeAPIError(w, errThrottled(opName, publisher), wait)
		return
	}
	tokenTenant, ok := s.authorize(w, req)
	if !ok {
		return
	}
	if !strings.EqualFold(rt.tenant, tokenTenant) {
		s.violate(req, "tenant %q in the path is not the token's tenant %q", rt.tenant, tokenTenant)
		if !isGUID(rt.tenant) {
			writeAPIError(w, errTenantNotGUID(rt.tenant), 0)
		} else {
			writeAPIError(w, errTenantMismatch(rt.tenant, tokenTenant), 0)
		}
		return
	}
	switch rt.op {
	case OpStart:
		s.handleStart(w, req, ct)
	case OpStop:
		s.handleStop(w, req, ct)
	case OpListSubscriptions:
		s.handleListSubscriptions(w)
	case OpList:
		s.handleListContent(w, req, rt, ct, publisher)
	case OpFetch:
		s.handleFetch(w, req, rt.contentID)
	}
}

// authorize checks the bearer token and returns its tenant; on failure it
// has answered 401.
func (s *Server) authorize(w http.ResponseWriter, req *http.Request) (string, bool) {
	h := req.Header.Get("Authorization")
	scheme, tok, _ := strings.Cut(h, " ")
	if h == "" || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
		s.violate(req, "no Authorization: Bearer header")
		writeDenied(w)
		return "", false
	}
	now := s.now()
	s.mu.Lock()
	info, ok := s.tokens[strings.TrimSpace(tok)]
	s.mu.Unlock()
	if !ok || !now.Before(info.expires) {
		writeDenied(w)
		return "", false
	}
	return info.tenant, true
}

// checkContentType answers AF20001 or AF20020 when ct does not do.
func (s *Server) checkContentType(w http.ResponseWriter, req *http.Request, ct string) bool {
	switch {
	case ct == "":
		s.violate(req, "no contentType")
		writeAPIError(w, errMissingParameter("contentType"), 0)
		return false
	case !validContentType(ct):
		s.violate(req, "contentType %q is not a content type", ct)
		writeAPIError(w, errInvalidContentType, 0)
		return false
	}
	return true
}

// subscriptionBody is the shape of start and list answers. Webhooks are
// not emulated, so webhook is always null, as for a polling client.
type subscriptionBody struct {
	ContentType string  `json:"contentType"`
	Status      string  `json:"status"`
	Webhook     *string `json:"webhook"`
}

func (s *Server) handleStart(w http.ResponseWriter, req *http.Request, ct string) {
	if !s.checkContentType(w, req, ct) {
		return
	}
	s.mu.Lock()
	started := s.startLocked(ct)
	s.mu.Unlock()
	if !started {
		writeAPIError(w, errAlreadyEnabled, 0)
		return
	}
	writeJSON(w, http.StatusOK, subscriptionBody{ContentType: ct, Status: "enabled"})
}

// handleStop answers 200 with an empty body, as documented. Stopping what
// is not enabled is not documented; AF20022 is the plausible answer.
func (s *Server) handleStop(w http.ResponseWriter, req *http.Request, ct string) {
	if !s.checkContentType(w, req, ct) {
		return
	}
	s.mu.Lock()
	err := s.usableLocked(ct)
	if err == nil {
		s.stopLocked(ct, subStopped, "")
	}
	s.mu.Unlock()
	if err != nil {
		writeAPIError(w, *err, 0)
		return
	}
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusOK)
}

// handleListSubscriptions lists every subscription ever started; one that
// is stopped or suspended shows status "disabled".
func (s *Server) handleListSubscriptions(w http.ResponseWriter) {
	out := []subscriptionBody{}
	s.mu.Lock()
	for _, ct := range ContentTypes {
		sub := s.subs[ct]
		if sub == nil {
			continue
		}
		status := "enabled"
		if sub.state != subEnabled {
			status = "disabled"
		}
		out = append(out, subscriptionBody{ContentType: ct, Status: status})
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

// contentEntry is one listed blob, fields in the reference's order.
type contentEntry struct {
	ContentType       string `json:"contentType"`
	ContentID         string `json:"contentId"`
	ContentURI        string `json:"contentUri"`
	ContentCreated    string `json:"contentCreated"`
	ContentExpiration string `json:"contentExpiration"`
}

func (s *Server) handleListContent(w http.ResponseWriter, req *http.Request, rt route, ct, publisher string) {
	if !s.checkContentType(w, req, ct) {
		return
	}
	q := req.URL.Query()
	win, werr, notes := checkWindow(query(q, "startTime"), query(q, "endTime"), s.now())
	for _, n := range notes {
		s.violate(req, "%s", n)
	}
	if werr != nil {
		writeAPIError(w, *werr, 0)
		return
	}
	var afterMS int64 = -1 << 62
	var afterSeq uint64
	if np := query(q, "nextPage"); np != "" {
		ms, seq, ok := parseNextPage(np)
		if !ok {
			s.violate(req, "nextPage %q was not issued by the service", np)
			writeAPIError(w, errInvalidNextPage(np), 0)
			return
		}
		afterMS, afterSeq = ms, seq
	}

	s.mu.Lock()
	if err := s.usableLocked(ct); err != nil {
		s.mu.Unlock()
		writeAPIError(w, *err, 0)
		return
	}
	ls := s.listings[ct]
	startMS := win.start.UnixMilli()
	if startMS-1 > afterMS {
		// Entries at or after the window start: after (startMS-1, max).
		afterMS, afterSeq = startMS-1, ^uint64(0)
	}
	i := sort.Search(len(ls), func(i int) bool { return ls[i].after(afterMS, afterSeq) })
	page := []contentEntry{}
	var last listing
	more := false
	for ; i < len(ls) && ls[i].created.Before(win.end); i++ {
		l := ls[i]
		if l.created.Before(win.start) || s.hiddenLocked(ct, l.created) {
			continue
		}
		if len(page) == s.opts.PageSize {
			more = true
			break
		}
		page = append(page, contentEntry{
			ContentType:       l.blob.contentType,
			ContentID:         l.blob.id,
			ContentURI:        s.contentURI(l.blob),
			ContentCreated:    formatAPITime(l.created),
			ContentExpiration: formatAPITime(l.blob.expiration()),
		})
		last = l
	}
	s.mu.Unlock()

	if more {
		next := url.Values{}
		next.Set("contentType", ct)
		next.Set("startTime", win.startText)
		next.Set("endTime", win.endText)
		if publisher != "" {
			next.Set("PublisherIdentifier", publisher)
		}
		next.Set("nextPage", formatNextPage(last))
		// The reference's paging sample names the page under /api/v1/,
		// not the /api/v1.0/ of the request; so does this.
		path := strings.Replace(req.URL.EscapedPath(), "/api/v1.0/", "/api/v1/", 1)
		w.Header().Set("NextPageUri", s.api.URL+path+"?"+next.Encode())
	}
	writeJSON(w, http.StatusOK, page)
}

// The nextPage value names the last entry served, in a form like the
// reference's sample (2015101900R022885001761): milliseconds, "R", the
// entry's sequence number. Paging by position rather than by offset keeps
// blobs added between pages from shifting what the next page holds.
func formatNextPage(l listing) string {
	return strconv.FormatInt(l.created.UnixMilli(), 10) + "R" + strconv.FormatUint(l.seq, 10)
}

func parseNextPage(v string) (int64, uint64, bool) {
	a, b, ok := strings.Cut(v, "R")
	if !ok {
		return 0, 0, false
	}
	ms, err1 := strconv.ParseInt(a, 10, 64)
	seq, err2 := strconv.ParseUint(b, 10, 64)
	return ms, seq, err1 == nil && err2 == nil
}

func (s *Server) handleFetch(w http.ResponseWriter, req *http.Request, id string) {
	now := s.now()
	s.mu.Lock()
	b := s.blobs[id]
	var err *apiError
	if b != nil {
		err = s.usableLocked(b.contentType)
	}
	s.mu.Unlock()
	switch {
	case b == nil:
		s.violate(req, "contentId %q was never listed", id)
		writeAPIError(w, errNoContent(id), 0)
		return
	case err != nil:
		writeAPIError(w, *err, 0)
		return
	case now.After(b.expiration()):
		writeAPIError(w, errExpired(id), 0)
		return
	}
	if serveBlob(w, b) {
		s.update(func(st *Stats) { st.BlobsServed[id]++ })
	}
}

// isGUID accepts the 8-4-4-4-12 hex form.
func isGUID(v string) bool {
	if len(v) != 36 {
		return false
	}
	for i, c := range v {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}
