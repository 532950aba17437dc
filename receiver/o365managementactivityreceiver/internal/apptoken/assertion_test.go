package apptoken

import (
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestClientAssertion verifies each assertion the way Entra ID would: with
// the registered certificate's public key, against the documented header and
// claims.
func TestClientAssertion(t *testing.T) {
	f := newFakeIdP(t)
	certFile, keyFile, leafDER := certFiles(t)
	leaf, err := x509.ParseCertificate(leafDER)
	require.NoError(t, err)
	cfg := Config{
		LoginEndpoint: f.srv.URL, TenantID: testTenant, ClientID: testClient,
		CertificateFile: certFile, CertificateKeyFile: keyFile, Scope: testScope,
	}
	s := newSource(t, f, cfg)

	type seen struct {
		header map[string]any
		claims jwt.MapClaims
	}
	var (
		mu         sync.Mutex
		assertions []seen
	)
	f.setRespond(func(w http.ResponseWriter, form url.Values, n int) {
		var claims jwt.MapClaims
		tok, err := jwt.ParseWithClaims(form.Get("client_assertion"), &claims,
			func(*jwt.Token) (any, error) { return leaf.PublicKey.(*rsa.PublicKey), nil },
			jwt.WithValidMethods([]string{"PS256"}), jwt.WithAudience(s.TokenURL()),
			jwt.WithIssuer(testClient), jwt.WithSubject(testClient), jwt.WithIssuedAt(), jwt.WithExpirationRequired())
		if !assert.NoError(t, err) {
			writeJSON(w, http.StatusUnauthorized, map[string]any{"error": "invalid_client"})
			return
		}
		mu.Lock()
		assertions = append(assertions, seen{tok.Header, claims})
		mu.Unlock()
		grantToken(3599)(w, form, n)
	})

	first, err := s.Token(t.Context())
	require.NoError(t, err)
	s.Invalidate(first)
	_, err = s.Token(t.Context())
	require.NoError(t, err)
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, assertions, 2)

	sum1 := sha1.Sum(leafDER)
	sum256 := sha256.Sum256(leafDER)
	for _, a := range assertions {
		assert.Equal(t, "PS256", a.header["alg"])
		assert.Equal(t, "JWT", a.header["typ"])
		assert.Equal(t, base64.RawURLEncoding.EncodeToString(sum256[:]), a.header["x5t#S256"])
		assert.Equal(t, base64.RawURLEncoding.EncodeToString(sum1[:]), a.header["x5t"])

		// A plain string, as in Microsoft's example.
		assert.Equal(t, s.TokenURL(), a.claims["aud"])
		nbf, exp, iat := a.claims["nbf"].(float64), a.claims["exp"].(float64), a.claims["iat"].(float64)
		assert.Equal(t, 600.0, exp-nbf)
		assert.Equal(t, nbf, iat)
		assert.WithinDuration(t, time.Now(), time.Unix(int64(nbf), 0), time.Minute)
		assert.Regexp(t, `^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`, a.claims["jti"])
	}
	assert.NotEqual(t, assertions[0].claims["jti"], assertions[1].claims["jti"])
}

func TestAssertionRejectedBySomeoneElsesKey(t *testing.T) {
	certFile, keyFile, _ := certFiles(t)
	c, err := loadCertificate(certFile, keyFile)
	require.NoError(t, err)
	signed, err := c.assertion(testClient, "https://login.example/t/oauth2/v2.0/token", time.Now())
	require.NoError(t, err)

	other := testKey("rsa-other").Public()
	_, err = jwt.Parse(signed, func(*jwt.Token) (any, error) { return other, nil }, jwt.WithValidMethods([]string{"PS256"}))
	require.ErrorIs(t, err, jwt.ErrTokenSignatureInvalid)
}
