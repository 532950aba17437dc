package apptoken

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
)

func TestRefusals(t *testing.T) {
	tests := []struct {
		name        string
		respond     func(http.ResponseWriter, url.Values, int)
		status      int
		code        string
		description string
		cause       string
		permanent   bool
	}{
		{
			name:        "wrong secret",
			respond:     refuse(401, "invalid_client", 7000215, "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '11111111-2222-3333-4444-555555555555'."),
			status:      401,
			code:        "AADSTS7000215",
			description: "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '11111111-2222-3333-4444-555555555555'.",
			cause:       "wrong client secret",
			permanent:   true,
		},
		{
			name:        "expired secret",
			respond:     refuse(401, "invalid_client", 7000222, "The provided client secret keys for app '11111111-2222-3333-4444-555555555555' are expired."),
			status:      401,
			code:        "AADSTS7000222",
			description: "The provided client secret keys for app '11111111-2222-3333-4444-555555555555' are expired.",
			cause:       "client secret expired",
			permanent:   true,
		},
		{
			name:        "unknown app",
			respond:     refuse(400, "unauthorized_client", 700016, "Application with identifier '11111111-2222-3333-4444-555555555555' was not found in the directory 'Contoso'."),
			status:      400,
			code:        "AADSTS700016",
			description: "Application with identifier '11111111-2222-3333-4444-555555555555' was not found in the directory 'Contoso'.",
			cause:       "unknown application",
			permanent:   true,
		},
		{
			name:        "unknown tenant",
			respond:     refuse(400, "invalid_request", 90002, "Tenant '00000000-0000-0000-0000-00000000000a' not found."),
			status:      400,
			code:        "AADSTS90002",
			description: "Tenant '00000000-0000-0000-0000-00000000000a' not found.",
			cause:       "tenant not found",
			permanent:   true,
		},
		{
			name:        "certificate not registered",
			respond:     refuse(401, "invalid_client", 700027, "The certificate with identifier used to sign the client assertion is not registered on application. [Reason - The key was not found.]"),
			status:      401,
			code:        "AADSTS700027",
			description: "The certificate with identifier used to sign the client assertion is not registered on application. [Reason - The key was not found.]",
			cause:       "certificate not registered",
			permanent:   true,
		},
		{
			name:        "clock skew",
			respond:     refuse(401, "invalid_client", 700024, "Client assertion is not within its valid time range."),
			status:      401,
			code:        "AADSTS700024",
			description: "Client assertion is not within its valid time range.",
			cause:       "check the system clock",
			permanent:   true,
		},
		{
			name:        "app disabled",
			respond:     refuse(400, "unauthorized_client", 7000112, "Application 'x' is disabled."),
			status:      400,
			code:        "AADSTS7000112",
			description: "Application 'x' is disabled.",
			cause:       "application disabled",
			permanent:   true,
		},
		{
			name:        "no consent",
			respond:     refuse(400, "invalid_grant", 65001, "The user or administrator has not consented to use the application."),
			status:      400,
			code:        "AADSTS65001",
			description: "The user or administrator has not consented to use the application.",
			cause:       "consent missing",
			permanent:   true,
		},
		{
			name:        "invalid scope",
			respond:     refuse(400, "invalid_scope", 70011, "The provided value for the input parameter 'scope' is not valid."),
			status:      400,
			code:        "AADSTS70011",
			description: "The provided value for the input parameter 'scope' is not valid.",
			cause:       "invalid scope",
			permanent:   true,
		},
		{
			name:        "tenant throttled",
			respond:     refuse(429, "temporarily_unavailable", 90055, "There are too many incoming requests."),
			status:      429,
			code:        "AADSTS90055",
			description: "There are too many incoming requests.",
			cause:       "throttled",
			permanent:   false,
		},
		{
			name:        "transient",
			respond:     refuse(400, "temporarily_unavailable", 50033, "A transient error has occurred."),
			status:      400,
			code:        "AADSTS50033",
			description: "A transient error has occurred.",
			cause:       "transient",
			permanent:   false,
		},
		{
			name:        "unknown code, configuration error",
			respond:     refuse(400, "invalid_request", 9999999, "Something new."),
			status:      400,
			code:        "AADSTS9999999",
			description: "Something new.",
			cause:       "invalid token request",
			permanent:   true,
		},
		{
			name:      "server error without body",
			respond:   func(w http.ResponseWriter, _ url.Values, _ int) { w.WriteHeader(500) },
			status:    500,
			cause:     "HTTP 500 Internal Server Error",
			permanent: false,
		},
		{
			name: "proxy error page",
			respond: func(w http.ResponseWriter, _ url.Values, _ int) {
				w.Header().Set("Content-Type", "text/html")
				w.WriteHeader(502)
				fmt.Fprint(w, "<html><body>Bad gateway</body></html>")
			},
			status:    502,
			cause:     "HTTP 502 Bad Gateway",
			permanent: false,
		},
		{
			name: "unavailable",
			respond: func(w http.ResponseWriter, _ url.Values, _ int) {
				writeJSON(w, 503, map[string]any{"error": "temporarily_unavailable", "error_description": "try later"})
			},
			status:      503,
			description: "try later",
			cause:       "temporarily unavailable",
			permanent:   false,
		},
		{
			name: "code only in the description",
			respond: func(w http.ResponseWriter, _ url.Values, _ int) {
				writeJSON(w, 401, map[string]any{"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided.\nTrace ID: x"})
			},
			status:      401,
			code:        "AADSTS7000215",
			description: "Invalid client secret provided.",
			cause:       "wrong client secret",
			permanent:   true,
		},
		{
			name: "server echoing the request",
			respond: func(w http.ResponseWriter, form url.Values, _ int) {
				writeJSON(w, 400, map[string]any{"error": "invalid_request", "error_description": "AADSTS900144: got " + form.Encode() + " and " + testSecret, "error_codes": []int{900144}})
			},
			status:    400,
			code:      "AADSTS900144",
			cause:     "required request parameter is missing",
			permanent: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeIdP(t)
			f.setRespond(tt.respond)
			_, err := newSource(t, f, secretConfig(f)).Token(t.Context())
			require.Error(t, err)

			var e *Error
			require.ErrorAs(t, err, &e)
			assert.Equal(t, tt.status, e.StatusCode)
			assert.Equal(t, tt.code, e.Code)
			if tt.description != "" {
				assert.Equal(t, tt.description, e.Description)
			}
			assert.Equal(t, tt.permanent, e.Permanent())

			msg := err.Error()
			assert.True(t, strings.HasPrefix(msg, "token request refused: "), msg)
			assert.Contains(t, msg, tt.cause)
			if tt.code != "" {
				// The cause comes before what Entra ID said.
				assert.Less(t, strings.Index(msg, tt.cause), strings.Index(msg, tt.code), msg)
			}
			assertNoLeak(t, msg)
			assertNoLeak(t, e.Description)
		})
	}
}

func TestRefusalWithCertificateHidesAssertion(t *testing.T) {
	f := newFakeIdP(t)
	assertions := make(chan string, 1)
	f.setRespond(func(w http.ResponseWriter, form url.Values, _ int) {
		sent := form.Get("client_assertion")
		assertions <- sent
		writeJSON(w, 401, map[string]any{"error": "invalid_client", "error_description": "AADSTS700027: bad assertion " + sent, "error_codes": []int{700027}})
	})
	_, err := newSource(t, f, certConfig(t, f)).Token(t.Context())
	var e *Error
	require.ErrorAs(t, err, &e)
	assert.True(t, e.Permanent())
	assert.Contains(t, err.Error(), "[redacted]")
	sent := <-assertions
	require.Contains(t, sent, ".")
	// Neither the whole assertion nor its signature may show.
	assert.NotContains(t, err.Error(), sent[strings.LastIndex(sent, ".")+1:])
}

func TestNetworkErrorsAreNotRefusals(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())

	s, err := New(Config{
		LoginEndpoint: "https://" + addr, TenantID: testTenant, ClientID: testClient,
		ClientSecret: testSecret, Scope: testScope,
	}, &http.Client{})
	require.NoError(t, err)
	_, err = s.Token(t.Context())
	require.Error(t, err)

	var e *Error
	assert.NotErrorAs(t, err, &e, "a refused connection is worth retrying")
	assert.Contains(t, err.Error(), "token request failed")
	assert.Contains(t, err.Error(), addr)
	assertNoLeak(t, err.Error())
}

func TestErrorMessage(t *testing.T) {
	e := &Error{StatusCode: 401, Code: "AADSTS7000215", Description: "Invalid client secret provided.", OAuthError: "invalid_client", codes: []string{"AADSTS7000215"}}
	assert.Equal(t, "token request refused: wrong client secret (AADSTS7000215: Invalid client secret provided.)", e.Error())

	e = &Error{StatusCode: 403, OAuthError: "access_denied"}
	assert.Equal(t, "token request refused: HTTP 403 access_denied", e.Error())
	assert.True(t, e.Permanent())

	e = &Error{StatusCode: 408}
	assert.Equal(t, "token request refused: HTTP 408 Request Timeout", e.Error())
	assert.False(t, e.Permanent())
}

func TestDescriptionIsBounded(t *testing.T) {
	long := strings.Repeat("é", 1000)
	e := newError(&oauth2.RetrieveError{
		Response: &http.Response{StatusCode: 400},
		Body:     []byte(`{"error":"invalid_request","error_description":"AADSTS90014: ` + long + `"}`),
	})
	assert.LessOrEqual(t, len(e.Description), maxDescription+len("..."))
	assert.True(t, strings.HasSuffix(e.Description, "é..."), e.Description[len(e.Description)-10:])
}

func assertNoLeak(t *testing.T, s string) {
	t.Helper()
	assert.NotContains(t, s, testSecret)
	assert.NotContains(t, s, "token-")
	assert.NotContains(t, s, "Trace ID")
	assert.NotContains(t, s, url.QueryEscape(testSecret))
	assert.NotContains(t, s, "<html>")
}
