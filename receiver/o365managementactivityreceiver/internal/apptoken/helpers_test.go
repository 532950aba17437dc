package apptoken

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

const (
	testTenant = "00000000-0000-0000-0000-00000000000a"
	testClient = "11111111-2222-3333-4444-555555555555"
	testSecret = "s3cr3t~Value+With/Chars=0123456789"
	testScope  = "https://manage.office.com/.default"
)

// testKeys are generated once: RSA generation is slow and the race detector
// makes it slower.
var testKeys = sync.OnceValue(func() map[string]crypto.Signer {
	keys := map[string]crypto.Signer{}
	for name, bits := range map[string]int{"rsa": 2048, "rsa-other": 2048, "rsa-ca": 2048, "rsa-small": 1024} {
		k, err := rsa.GenerateKey(rand.Reader, bits)
		if err != nil {
			panic(err)
		}
		keys[name] = k
	}
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	keys["ec"] = ec
	return keys
})

func testKey(name string) crypto.Signer { return testKeys()[name] }

// selfSigned returns the DER of a certificate for key, signed by signer (the
// key itself when signer is nil).
func selfSigned(t *testing.T, cn string, key, signer crypto.Signer) []byte {
	t.Helper()
	if signer == nil {
		signer = key
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), signer)
	require.NoError(t, err)
	return der
}

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func pkcs1(t *testing.T, key crypto.Signer) []byte {
	t.Helper()
	return pemBlock("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(key.(*rsa.PrivateKey)))
}

func pkcs8(t *testing.T, key crypto.Signer) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	return pemBlock("PRIVATE KEY", der)
}

func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(path, data, 0o600))
	return path
}

// certFiles writes a certificate for the "rsa" key, with a CA certificate
// after it so that only the leaf may be used, and the key as PKCS#8.
func certFiles(t *testing.T) (certFile, keyFile string, leafDER []byte) {
	t.Helper()
	leafDER = selfSigned(t, "leaf", testKey("rsa"), testKey("rsa-ca"))
	caDER := selfSigned(t, "ca", testKey("rsa-ca"), nil)
	chain := append(pemBlock("CERTIFICATE", leafDER), pemBlock("CERTIFICATE", caDER)...)
	return writeFile(t, "cert.pem", chain), writeFile(t, "key.pem", pkcs8(t, testKey("rsa"))), leafDER
}

// fakeIdP is a token endpoint that records the forms it receives and
// answers with respond.
type fakeIdP struct {
	srv *httptest.Server

	mu      sync.Mutex
	forms   []url.Values
	paths   []string
	respond func(w http.ResponseWriter, form url.Values, n int)
}

func newFakeIdP(t *testing.T) *fakeIdP {
	t.Helper()
	f := &fakeIdP{respond: grantToken(3599)}
	f.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
			http.Error(w, "want a form POST", http.StatusMethodNotAllowed)
			return
		}
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		f.forms = append(f.forms, r.PostForm)
		f.paths = append(f.paths, r.URL.Path)
		n, respond := len(f.forms), f.respond
		f.mu.Unlock()
		respond(w, r.PostForm, n)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeIdP) setRespond(respond func(w http.ResponseWriter, form url.Values, n int)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.respond = respond
}

func (f *fakeIdP) requests() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.forms)
}

func (f *fakeIdP) path(i int) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.paths[i]
}

func (f *fakeIdP) form(i int) url.Values {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.forms[i]
}

// grantToken answers the n-th request with the token "token-n".
func grantToken(expiresIn int) func(http.ResponseWriter, url.Values, int) {
	return func(w http.ResponseWriter, _ url.Values, n int) {
		writeJSON(w, http.StatusOK, map[string]any{
			"token_type":     "Bearer",
			"expires_in":     expiresIn,
			"ext_expires_in": expiresIn,
			"access_token":   fmt.Sprintf("token-%d", n),
		})
	}
}

// refuse answers like Entra ID does, with the Trace ID, Correlation ID and
// Timestamp lines after the description.
func refuse(status int, oauthError string, code int, description string) func(http.ResponseWriter, url.Values, int) {
	return func(w http.ResponseWriter, _ url.Values, _ int) {
		writeJSON(w, status, map[string]any{
			"error": oauthError,
			"error_description": fmt.Sprintf("AADSTS%d: %s\r\nTrace ID: 0000aaaa-11bb-cccc-dd33-eeeeee333333\r\n"+
				"Correlation ID: aaaa0000-bb11-2222-33cc-444444dddddd\r\nTimestamp: 2026-01-09 02:02:12Z", code, description),
			"error_codes":    []int{code},
			"timestamp":      "2026-01-09 02:02:12Z",
			"trace_id":       "0000aaaa-11bb-cccc-dd33-eeeeee333333",
			"correlation_id": "aaaa0000-bb11-2222-33cc-444444dddddd",
			"error_uri":      fmt.Sprintf("https://login.microsoftonline.com/error?code=%d", code),
		})
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func secretConfig(f *fakeIdP) Config {
	return Config{
		LoginEndpoint: f.srv.URL + "/",
		TenantID:      testTenant,
		ClientID:      testClient,
		ClientSecret:  testSecret,
		Scope:         testScope,
	}
}

func certConfig(t *testing.T, f *fakeIdP) Config {
	t.Helper()
	certFile, keyFile, _ := certFiles(t)
	return Config{
		LoginEndpoint:      f.srv.URL,
		TenantID:           testTenant,
		ClientID:           testClient,
		CertificateFile:    certFile,
		CertificateKeyFile: keyFile,
		Scope:              testScope,
	}
}

// fakeClock is a settable clock for the renewal tests.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newSource(t *testing.T, f *fakeIdP, cfg Config) *Source {
	t.Helper()
	s, err := New(cfg, f.srv.Client())
	require.NoError(t, err)
	return s
}
