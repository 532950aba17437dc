package activityemulator

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1" // x5t is defined as a SHA-1 thumbprint
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

type entraBody struct {
	Error         string `json:"error"`
	Description   string `json:"error_description"`
	Codes         []int  `json:"error_codes"`
	Timestamp     string `json:"timestamp"`
	TraceID       string `json:"trace_id"`
	CorrelationID string `json:"correlation_id"`
	ErrorURI      string `json:"error_uri"`
}

func entra(t *testing.T, r reply) entraBody {
	t.Helper()
	var b entraBody
	if err := json.Unmarshal(r.body, &b); err != nil {
		t.Fatalf("Entra body %q: %v", r.body, err)
	}
	return b
}

func TestTokenSuccess(t *testing.T) {
	s, _ := start(t, Options{TokenLifetime: 10 * time.Minute})
	r := postForm(t, s, s.TokenURL(), secretForm(s), nil)
	var got map[string]any
	if err := json.Unmarshal(r.body, &got); err != nil || r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	if got["token_type"] != "Bearer" || got["expires_in"] != 600.0 || got["ext_expires_in"] != 600.0 || got["access_token"] == "" || len(got) != 4 {
		t.Errorf("token response %v", got)
	}
	def, _ := start(t, Options{})
	if r := postForm(t, def, def.TokenURL(), secretForm(def), nil); !strings.Contains(string(r.body), `"expires_in":3599,"ext_expires_in":3599`) {
		t.Errorf("default lifetime: %s", r.body)
	}
}

func TestTokenFailuresAnswerAsEntra(t *testing.T) {
	s, _ := start(t, Options{})
	o := s.Options()
	with := func(k, v string) url.Values {
		f := secretForm(s)
		if v == "" {
			f.Del(k)
		} else {
			f.Set(k, v)
		}
		return f
	}
	tests := []struct {
		name      string
		url       string
		form      url.Values
		status    int
		err       string
		code      int
		desc      string
		violation bool
	}{
		{"wrong secret", s.TokenURL(), with("client_secret", "nope"), 401, "invalid_client", 7000215,
			"AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '" + o.ClientID + "'.", false},
		{"unknown client", s.TokenURL(), with("client_id", "11111111-2222-3333-4444-555555555555"), 400, "unauthorized_client", 700016,
			"AADSTS700016: Application with identifier '11111111-2222-3333-4444-555555555555' was not found in the directory '" + o.TenantID + "'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.", false},
		{"unknown tenant", s.LoginURL() + "/99999999-9999-4999-8999-999999999999/oauth2/v2.0/token", secretForm(s), 400, "invalid_request", 90002,
			"AADSTS90002: Tenant '99999999-9999-4999-8999-999999999999' not found.", false},
		{"wrong scope", s.TokenURL(), with("scope", "https://graph.microsoft.com/.default"), 400, "invalid_scope", 70011,
			"AADSTS70011: The provided value for the input parameter 'scope' isn't valid. The scope https://graph.microsoft.com/.default isn't valid.", true},
		{"no scope", s.TokenURL(), with("scope", ""), 400, "invalid_request", 900144,
			"AADSTS900144: The request body must contain the following parameter: 'scope'.", true},
		{"wrong grant", s.TokenURL(), with("grant_type", "password"), 400, "unsupported_grant_type", 70003, "AADSTS70003:", true},
		{"no credential", s.TokenURL(), with("client_secret", ""), 401, "invalid_client", 7000218,
			"AADSTS7000218: The request body must contain the following parameter: 'client_assertion' or 'client_secret'.", true},
	}
	traceLines := regexp.MustCompile(`^\r\nTrace ID: ([0-9a-f-]{36})\r\nCorrelation ID: (corr-[0-9]+)\r\nTimestamp: (2026-03-10 12:00:00Z)$`)
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := len(s.Stats().Violations)
			corr := "corr-" + string(rune('0'+i))
			r := postForm(t, s, tc.url, tc.form, http.Header{"Client-Request-Id": {corr}})
			b := entra(t, r)
			if r.status != tc.status || b.Error != tc.err || len(b.Codes) != 1 || b.Codes[0] != tc.code {
				t.Fatalf("got %d %s %v", r.status, b.Error, b.Codes)
			}
			if !strings.HasPrefix(b.Description, tc.desc) {
				t.Errorf("description %q, want it to start %q", b.Description, tc.desc)
			}
			m := traceLines.FindStringSubmatch(b.Description[strings.Index(b.Description, "\r\n"):])
			if m == nil || m[1] != b.TraceID || m[2] != corr || b.CorrelationID != corr || m[3] != b.Timestamp {
				t.Errorf("trace lines of %q do not match %+v", b.Description, b)
			}
			if got := len(s.Stats().Violations) - before; got != map[bool]int{false: 0, true: 1}[tc.violation] {
				t.Errorf("%d new violations: %q", got, s.Stats().Violations[before:])
			}
		})
	}
	if st := s.Stats(); st.TokenFailures != len(tests) || st.TokenRequests != len(tests) {
		t.Errorf("TokenRequests %d, TokenFailures %d", st.TokenRequests, st.TokenFailures)
	}
}

func TestLoginRefusesGetAndRecordsBearer(t *testing.T) {
	s, _ := start(t, Options{})
	r := do(t, s, "GET", s.TokenURL(), "")
	if b := entra(t, r); r.status != 400 || b.Codes[0] != 900561 {
		t.Errorf("GET: %d %s", r.status, r.body)
	}
	r = postForm(t, s, s.TokenURL(), secretForm(s), http.Header{"Authorization": {"Bearer leaked"}})
	if r.status != 200 {
		t.Errorf("token with a stray bearer: %d", r.status)
	}
	st := s.Stats()
	if st.LoginWithBearer != 1 || len(st.Violations) != 2 || !strings.Contains(st.Violations[1], "bearer token was sent to the login host") {
		t.Errorf("stats %+v", st)
	}
}

func TestTokenFaults(t *testing.T) {
	s, _ := start(t, Options{})
	s.FailNext(OpToken, 1, Fault{Status: 503, RetryAfter: 1500 * time.Millisecond})
	s.FailNext(OpToken, 1, Fault{Code: "temporarily_unavailable", Message: "AADSTS50196: The server terminated an operation because it encountered a client request loop."})
	r := postForm(t, s, s.TokenURL(), secretForm(s), nil)
	if r.status != 503 || r.header.Get("Retry-After") != "2" || len(r.body) != 0 {
		t.Errorf("plain fault: %d %v %q", r.status, r.header, r.body)
	}
	r = postForm(t, s, s.TokenURL(), secretForm(s), nil)
	if b := entra(t, r); r.status != 400 || b.Error != "temporarily_unavailable" || b.Codes[0] != 50196 {
		t.Errorf("Entra fault: %d %s", r.status, r.body)
	}
	token(t, s)
	if st := s.Stats(); st.TokenRequests != 3 || st.TokenFailures != 2 {
		t.Errorf("stats %+v", st)
	}
}

// newClientCert makes an RSA certificate as an app registration holds.
func newClientCert(t *testing.T) (*x509.Certificate, *rsa.PrivateKey) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "receiver"},
		NotBefore: t0.Add(-time.Hour), NotAfter: t0.Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert, key
}

func x5t(c *x509.Certificate) string {
	sum := sha1.Sum(c.Raw) // x5t is defined as a SHA-1 thumbprint
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func x5tS256(c *x509.Certificate) string {
	sum := sha256.Sum256(c.Raw)
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func TestClientAssertion(t *testing.T) {
	cert, key := newClientCert(t)
	otherCert, otherKey := newClientCert(t)
	s, _ := start(t, Options{ClientCertificate: cert})
	o := s.Options()
	claims := func(edit func(jwt.MapClaims)) jwt.MapClaims {
		c := jwt.MapClaims{"aud": s.TokenURL(), "iss": o.ClientID, "sub": o.ClientID, "jti": "a1",
			"exp": t0.Add(10 * time.Minute).Unix(), "nbf": t0.Add(-time.Minute).Unix()}
		if edit != nil {
			edit(c)
		}
		return c
	}
	sign := func(m jwt.SigningMethod, header map[string]any, c jwt.MapClaims, k any) string {
		tok := jwt.NewWithClaims(m, c)
		for hk, hv := range header {
			tok.Header[hk] = hv
		}
		raw, err := tok.SignedString(k)
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	tests := []struct {
		name      string
		assertion string
		typ       string
		status    int
		code      int
		violation bool
	}{
		{"RS256 with x5t", sign(jwt.SigningMethodRS256, map[string]any{"x5t": x5t(cert)}, claims(nil), key), "", 200, 0, false},
		{"PS256 with x5t#S256", sign(jwt.SigningMethodPS256, map[string]any{"x5t#S256": x5tS256(cert)}, claims(nil), key), "", 200, 0, false},
		{"aud as a list", sign(jwt.SigningMethodRS256, map[string]any{"x5t": x5t(cert)}, claims(func(c jwt.MapClaims) { c["aud"] = []string{s.TokenURL()} }), key), "", 200, 0, false},
		{"signed by another key", sign(jwt.SigningMethodRS256, map[string]any{"x5t": x5t(cert)}, claims(nil), otherKey), "", 401, 700027, false},
		{"naming another certificate", sign(jwt.SigningMethodRS256, map[string]any{"x5t": x5t(otherCert)}, claims(nil), otherKey), "", 401, 700027, false},
		{"no thumbprint", sign(jwt.SigningMethodRS256, nil, claims(nil), key), "", 401, 700027, false},
		{"HS256", sign(jwt.SigningMethodHS256, map[string]any{"x5t": x5t(cert)}, claims(nil), []byte("k")), "", 401, 700027, false},
		{"wrong audience", sign(jwt.SigningMethodRS256, map[string]any{"x5t": x5t(cert)}, claims(func(c jwt.MapClaims) { c["aud"] = "https://login.example/common" }), key), "", 401, 700023, true},
		{"iss not the client", sign(jwt.SigningMethodRS256, map[string]any{"x5t": x5t(cert)}, claims(func(c jwt.MapClaims) { c["iss"] = "someone" }), key), "", 401, 700021, true},
		{"expired", sign(jwt.SigningMethodRS256, map[string]any{"x5t": x5t(cert)}, claims(func(c jwt.MapClaims) { c["exp"] = t0.Add(-time.Second).Unix() }), key), "", 401, 700024, false},
		{"no jti", sign(jwt.SigningMethodRS256, map[string]any{"x5t": x5t(cert)}, claims(func(c jwt.MapClaims) { delete(c, "jti") }), key), "", 400, 50027, true},
		{"not a JWT", "abc", "", 400, 50027, true},
		{"wrong assertion type", sign(jwt.SigningMethodRS256, map[string]any{"x5t": x5t(cert)}, claims(nil), key), "urn:ietf:params:oauth:client-assertion-type:saml2-bearer", 400, 50027, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			typ := tc.typ
			if typ == "" {
				typ = jwtBearerType
			}
			form := url.Values{"grant_type": {"client_credentials"}, "client_id": {o.ClientID}, "scope": {o.Scope},
				"client_assertion_type": {typ}, "client_assertion": {tc.assertion}}
			before := len(s.Stats().Violations)
			r := postForm(t, s, s.TokenURL(), form, nil)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			if tc.code != 0 {
				if b := entra(t, r); len(b.Codes) != 1 || b.Codes[0] != tc.code || !strings.HasPrefix(b.Description, "AADSTS") {
					t.Errorf("got %s", r.body)
				}
			}
			if got := len(s.Stats().Violations) - before; got != map[bool]int{false: 0, true: 1}[tc.violation] {
				t.Errorf("%d new violations: %q", got, s.Stats().Violations[before:])
			}
		})
	}

	// Without a registered certificate every assertion names an unknown key.
	bare, _ := start(t, Options{})
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {o.ClientID}, "scope": {o.Scope},
		"client_assertion_type": {jwtBearerType}, "client_assertion": {sign(jwt.SigningMethodRS256, map[string]any{"x5t": x5t(cert)}, claims(func(c jwt.MapClaims) { c["aud"] = bare.TokenURL() }), key)}}
	r := postForm(t, bare, bare.TokenURL(), form, nil)
	if b := entra(t, r); r.status != 401 || b.Codes[0] != 700027 || !strings.Contains(b.Description, "The key was not found.") || !strings.Contains(b.Description, x5t(cert)) {
		t.Errorf("no certificate: %d %s", r.status, r.body)
	}
}

func TestServersShareOneCertificateOnLoopback(t *testing.T) {
	s, _ := start(t, Options{})
	hosts := map[string]bool{}
	for _, u := range []string{s.URL(), s.LoginURL(), s.ForeignURL()} {
		pu, err := url.Parse(u)
		if err != nil || pu.Scheme != "https" || pu.Hostname() != "127.0.0.1" {
			t.Errorf("%s is not https on 127.0.0.1", u)
		}
		hosts[pu.Host] = true
	}
	if len(hosts) != 3 {
		t.Errorf("hosts %v are not three", hosts)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(s.CACertPEM()) {
		t.Fatal("CACertPEM holds no certificate")
	}
	fromPEM := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	defer fromPEM.CloseIdleConnections()
	for _, u := range []string{s.URL(), s.LoginURL(), s.ForeignURL()} {
		for _, c := range []*http.Client{s.Client(), fromPEM} {
			resp, err := c.Get(u + "/")
			if err != nil {
				t.Fatalf("%s: %v", u, err)
			}
			resp.Body.Close()
		}
	}
	untrusting := &http.Client{Transport: &http.Transport{}}
	defer untrusting.CloseIdleConnections()
	_, err := untrusting.Get(s.URL() + "/")
	var unknown x509.UnknownAuthorityError
	if !errors.As(err, &unknown) {
		t.Errorf("a client without the certificate got %v", err)
	}
}

func TestCloseIsIdempotent(t *testing.T) {
	s := New(Options{})
	u := s.URL()
	s.Close()
	s.Close()
	c := &http.Client{Transport: &http.Transport{}, Timeout: 5 * time.Second}
	defer c.CloseIdleConnections()
	if _, err := c.Get(u); err == nil {
		t.Error("server still answers after Close")
	}
}
