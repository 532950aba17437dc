package apptoken // import "github.com/o365detect/o365detect/receiver/o365managementactivityreceiver/internal/apptoken"

import (
	"crypto/rand"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// assertionType is the client_assertion_type of a JWT client assertion
// (RFC 7523).
const assertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// assertionLifetime is how long an assertion is valid. Microsoft asks for
// 5 to 10 minutes at most; each request signs a new one anyway.
const assertionLifetime = 10 * time.Minute

// assertion signs a new client assertion for one token request, in the
// format of Microsoft's "certificate credentials" page: PS256 with an
// x5t#S256 header. The SHA-1 x5t goes along too: the page asked for it
// alone until 2024, and tenants have been reported to refuse x5t#S256 alone
// with AADSTS700027. Both name the same certificate.
func (c *certificate) assertion(clientID, tokenURL string, now time.Time) (string, error) {
	jti, err := newJTI()
	if err != nil {
		return "", err
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodPS256, jwt.MapClaims{
		// A plain string, as Microsoft's example has it; golang-jwt would
		// encode a one-element audience list as an array.
		"aud": tokenURL,
		"iss": clientID,
		"sub": clientID,
		"jti": jti,
		"nbf": now.Unix(),
		"iat": now.Unix(),
		"exp": now.Add(assertionLifetime).Unix(),
	})
	tok.Header["x5t#S256"] = c.x5tS256
	tok.Header["x5t"] = c.x5t
	signed, err := tok.SignedString(c.key)
	if err != nil {
		return "", fmt.Errorf("sign client assertion: %w", err)
	}
	return signed, nil
}

// newJTI returns a random (version 4) UUID, the form Microsoft shows for jti,
// which must practically never repeat.
func newJTI() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("client assertion id: %w", err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16]), nil
}
