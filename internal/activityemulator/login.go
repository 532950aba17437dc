package activityemulator

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

type tokenInfo struct {
	tenant  string
	expires time.Time
}

// RevokeTokens makes every token issued so far answer 401; tokens issued
// afterwards work.
func (s *Server) RevokeTokens() {
	s.mu.Lock()
	s.tokens = map[string]tokenInfo{}
	s.mu.Unlock()
}

// entraError is a refusal in Entra's shape. The description gets Entra's
// trace lines appended when written.
type entraError struct {
	status int
	err    string // the OAuth error
	code   int    // the AADSTS number
	desc   string // the text after "AADSTSnnnn: "
}

// The refusals and their texts. 7000215, 700016 and 90002 are as Entra
// answers them in recorded responses; 70011 is the sample on Entra's error
// code reference; 700021, 700023, 700024 and 700027 are named on the Azure
// SDK's service principal troubleshooting page, 700027 with the "[Reason
// - The key was not found.]" detail Entra adds. 900144, 7000218 and
// 900561 are Entra's texts for a malformed request; 70003 and 50027 are
// the nearest Entra codes for an unsupported grant and a malformed
// assertion, with wording that could not be checked.
func errInvalidSecret(clientID string) entraError {
	return entraError{http.StatusUnauthorized, "invalid_client", 7000215,
		"Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '" + clientID + "'."}
}

func errUnknownClient(clientID, tenant string) entraError {
	return entraError{http.StatusBadRequest, "unauthorized_client", 700016,
		"Application with identifier '" + clientID + "' was not found in the directory '" + tenant + "'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant."}
}

func errUnknownTenant(tenant string) entraError {
	return entraError{http.StatusBadRequest, "invalid_request", 90002,
		"Tenant '" + tenant + "' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant."}
}

func errInvalidScope(scope string) entraError {
	return entraError{http.StatusBadRequest, "invalid_scope", 70011,
		"The provided value for the input parameter 'scope' isn't valid. The scope " + scope + " isn't valid."}
}

func errMissingBodyParameter(name string) entraError {
	return entraError{http.StatusBadRequest, "invalid_request", 900144,
		"The request body must contain the following parameter: '" + name + "'."}
}

var errNoCredential = entraError{http.StatusUnauthorized, "invalid_client", 7000218,
	"The request body must contain the following parameter: 'client_assertion' or 'client_secret'."}

func errUnsupportedGrant(grant string) entraError {
	return entraError{http.StatusBadRequest, "unsupported_grant_type", 70003,
		"The app requested an unsupported grant type '" + grant + "'."}
}

func errNotPost(method string) entraError {
	return entraError{http.StatusBadRequest, "invalid_request", 900561,
		"The endpoint only accepts POST, OPTIONS requests. Received a " + method + " request."}
}

// tokenResponse is Entra's v2.0 client credentials answer.
type tokenResponse struct {
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in"`
	ExtExpiresIn int    `json:"ext_expires_in"`
	AccessToken  string `json:"access_token"`
}

func (s *Server) serveLogin(w http.ResponseWriter, req *http.Request) {
	rec := &recorder{ResponseWriter: w}
	defer func() {
		status := rec.code()
		s.update(func(st *Stats) {
			st.TokenRequests++
			st.Statuses[status]++
			if status != http.StatusOK {
				st.TokenFailures++
			}
		})
	}()
	s.handleLogin(rec, req)
}

func (s *Server) handleLogin(w http.ResponseWriter, req *http.Request) {
	if scheme, _, _ := strings.Cut(req.Header.Get("Authorization"), " "); strings.EqualFold(scheme, "Bearer") {
		s.update(func(st *Stats) { st.LoginWithBearer++ })
		s.violate(req, "a bearer token was sent to the login host")
	}
	tenant, ok := strings.CutSuffix(strings.TrimPrefix(req.URL.Path, "/"), "/oauth2/v2.0/token")
	if !ok || tenant == "" || strings.Contains(tenant, "/") {
		s.violate(req, "not the v2.0 token endpoint")
		http.NotFound(w, req)
		return
	}
	if req.Method != http.MethodPost {
		s.violate(req, "the token endpoint takes POST")
		s.writeEntra(w, req, errNotPost(req.Method))
		return
	}
	if f, ok := s.takeFault(OpToken); ok {
		s.writeTokenFault(w, req, f)
		return
	}
	if !strings.EqualFold(tenant, s.opts.TenantID) {
		s.writeEntra(w, req, errUnknownTenant(tenant))
		return
	}
	for _, k := range []string{"client_secret", "client_assertion"} {
		if req.URL.Query().Has(k) {
			s.violate(req, "%s sent in the query string", k)
		}
	}
	if err := req.ParseForm(); err != nil {
		s.violate(req, "unreadable form body: %v", err)
	}
	form := req.PostForm
	required := []string{"grant_type", "client_id", "scope"}
	for _, k := range required {
		if form.Get(k) == "" {
			s.violate(req, "no %s in the form body", k)
			s.writeEntra(w, req, errMissingBodyParameter(k))
			return
		}
	}
	if g := form.Get("grant_type"); g != "client_credentials" {
		s.violate(req, "grant_type %q is not client_credentials", g)
		s.writeEntra(w, req, errUnsupportedGrant(g))
		return
	}
	clientID := form.Get("client_id")
	if !strings.EqualFold(clientID, s.opts.ClientID) {
		s.writeEntra(w, req, errUnknownClient(clientID, tenant))
		return
	}
	if sc := form.Get("scope"); sc != s.opts.Scope {
		s.violate(req, "scope %q is not %q", sc, s.opts.Scope)
		s.writeEntra(w, req, errInvalidScope(sc))
		return
	}
	secret, assertion := form.Get("client_secret"), form.Get("client_assertion")
	switch {
	case assertion != "" || form.Get("client_assertion_type") != "":
		if secret != "" {
			// Entra's answer to both credentials at once is not
			// documented; the assertion, the stronger one, decides here.
			s.violate(req, "both client_secret and client_assertion sent")
		}
		if e, ok := s.checkAssertion(req, form, clientID, tenant); !ok {
			s.writeEntra(w, req, e)
			return
		}
	case secret != "":
		if subtle.ConstantTimeCompare([]byte(secret), []byte(s.opts.ClientSecret)) != 1 {
			s.writeEntra(w, req, errInvalidSecret(clientID))
			return
		}
	default:
		s.violate(req, "neither client_secret nor client_assertion sent")
		s.writeEntra(w, req, errNoCredential)
		return
	}
	s.issueToken(w)
}

func (s *Server) issueToken(w http.ResponseWriter) {
	raw := make([]byte, 32)
	_, _ = rand.Read(raw)
	// Entra's tokens are JWTs, but a client must treat them as opaque;
	// an opaque string keeps a client from leaning on their contents.
	tok := base64.RawURLEncoding.EncodeToString(raw)
	s.mu.Lock()
	s.tokens[tok] = tokenInfo{tenant: s.opts.TenantID, expires: s.now().Add(s.opts.TokenLifetime)}
	s.mu.Unlock()
	secs := int(s.opts.TokenLifetime / time.Second)
	w.Header().Set("Cache-Control", "no-store, no-cache")
	w.Header().Set("Pragma", "no-cache")
	writeJSON(w, http.StatusOK, tokenResponse{TokenType: "Bearer", ExpiresIn: secs, ExtExpiresIn: secs, AccessToken: tok})
}

// writeEntra answers e in Entra's shape: the description carries the
// trace, correlation and timestamp lines, joined by CRLF; the correlation
// id echoes the client-request-id header when there is one, as Entra does.
func (s *Server) writeEntra(w http.ResponseWriter, req *http.Request, e entraError) {
	desc := e.desc
	if e.code != 0 {
		desc = "AADSTS" + strconv.Itoa(e.code) + ": " + desc
	}
	s.writeEntraBody(w, req, e.status, e.err, desc)
}

func (s *Server) writeEntraBody(w http.ResponseWriter, req *http.Request, status int, oauthErr, desc string) {
	trace := newGUID()
	corr := req.Header.Get("client-request-id")
	if corr == "" {
		corr = newGUID()
	}
	ts := s.now().Format("2006-01-02 15:04:05Z")
	body := struct {
		Error         string `json:"error"`
		Description   string `json:"error_description"`
		Codes         []int  `json:"error_codes"`
		Timestamp     string `json:"timestamp"`
		TraceID       string `json:"trace_id"`
		CorrelationID string `json:"correlation_id"`
		ErrorURI      string `json:"error_uri,omitempty"`
	}{
		Error:         oauthErr,
		Description:   desc + "\r\nTrace ID: " + trace + "\r\nCorrelation ID: " + corr + "\r\nTimestamp: " + ts,
		Codes:         []int{},
		Timestamp:     ts,
		TraceID:       trace,
		CorrelationID: corr,
	}
	if n, ok := aadstsCode(desc); ok {
		body.Codes = []int{n}
		// Entra links its own error page; the emulator's login host
		// stands in for it so nothing points off loopback.
		body.ErrorURI = s.login.URL + "/error?code=" + strconv.Itoa(n)
	}
	writeJSON(w, status, body)
}

func (s *Server) writeTokenFault(w http.ResponseWriter, req *http.Request, f Fault) {
	if f.Code == "" {
		setRetryAfter(w, f.RetryAfter)
		w.Header().Set("Content-Length", "0")
		w.WriteHeader(f.status())
		return
	}
	setRetryAfter(w, f.RetryAfter)
	msg := f.Message
	if msg == "" {
		// Not checked against Entra; its generic transient failure.
		msg = "AADSTS50000: There was an error issuing a token or an issue with our sign-in service."
	}
	s.writeEntraBody(w, req, f.status(), f.Code, msg)
}

// aadstsCode reads n from a description starting "AADSTSn:".
func aadstsCode(desc string) (int, bool) {
	rest, ok := strings.CutPrefix(desc, "AADSTS")
	if !ok {
		return 0, false
	}
	num, _, ok := strings.Cut(rest, ":")
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(num)
	return n, err == nil
}

func newGUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
