package activityemulator

import (
	"crypto/sha1" // x5t is defined as a SHA-1 thumbprint
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/golang-jwt/jwt/v5"
)

const jwtBearerType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// errKeyNotFound marks an assertion whose x5t names no registered key.
var errKeyNotFound = errors.New("the key was not found")

func errBadSignature(detail string) entraError {
	return entraError{http.StatusUnauthorized, "invalid_client", 700027,
		"Client assertion contains an invalid signature. [Reason - " + detail + "]"}
}

func errAssertionClient() entraError {
	return entraError{http.StatusUnauthorized, "invalid_client", 700021,
		"Client assertion application identifier doesn't match 'client_id' parameter."}
}

func errAssertionAudience() entraError {
	return entraError{http.StatusUnauthorized, "invalid_client", 700023,
		"Client assertion audience claim does not match Realm issuer."}
}

func errAssertionTime() entraError {
	return entraError{http.StatusUnauthorized, "invalid_client", 700024,
		"Client assertion is not within its valid time range."}
}

func errAssertionMalformed(detail string) entraError {
	return entraError{http.StatusBadRequest, "invalid_request", 50027,
		"JWT token is invalid or malformed. " + detail}
}

// thumbprint is base64url without padding, as x5t and x5t#S256 carry it.
func thumbprint(sum []byte) string { return base64.RawURLEncoding.EncodeToString(sum) }

// checkAssertion verifies a certificate credential as Entra documents it:
// a JWT signed RS256 (PS256 also accepted) by the registered certificate,
// named by x5t or x5t#S256, with aud the token endpoint, iss and sub the
// client id, exp in the future and a jti.
func (s *Server) checkAssertion(req *http.Request, form url.Values, clientID, tenant string) (entraError, bool) {
	if t := form.Get("client_assertion_type"); t != jwtBearerType {
		s.violate(req, "client_assertion_type %q is not %s", t, jwtBearerType)
		if t == "" {
			return errMissingBodyParameter("client_assertion_type"), false
		}
		return errAssertionMalformed("Unsupported client_assertion_type."), false
	}
	raw := form.Get("client_assertion")
	if raw == "" {
		s.violate(req, "client_assertion_type sent without client_assertion")
		return errMissingBodyParameter("client_assertion"), false
	}
	cert := s.opts.ClientCertificate
	var usedThumbprint string
	keyFunc := func(t *jwt.Token) (any, error) {
		x5t, _ := t.Header["x5t"].(string)
		x5t256, _ := t.Header["x5t#S256"].(string)
		x5t, x5t256 = strings.TrimRight(x5t, "="), strings.TrimRight(x5t256, "=")
		usedThumbprint = x5t
		if usedThumbprint == "" {
			usedThumbprint = x5t256
		}
		if cert == nil {
			return nil, errKeyNotFound
		}
		sha1Sum := sha1.Sum(cert.Raw)
		sha256Sum := sha256.Sum256(cert.Raw)
		if x5t == thumbprint(sha1Sum[:]) || x5t256 == thumbprint(sha256Sum[:]) {
			return cert.PublicKey, nil
		}
		return nil, errKeyNotFound
	}
	claims := jwt.MapClaims{}
	parser := jwt.NewParser(jwt.WithValidMethods([]string{"RS256", "PS256"}), jwt.WithoutClaimsValidation())
	if _, err := parser.ParseWithClaims(raw, claims, keyFunc); err != nil {
		switch {
		case errors.Is(err, errKeyNotFound):
			return errBadSignature(fmt.Sprintf("The key was not found., Thumbprint of key used by client: '%s', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '%s'.", usedThumbprint, clientID)), false
		case errors.Is(err, jwt.ErrTokenMalformed):
			s.violate(req, "client_assertion is not a JWT: %v", err)
			return errAssertionMalformed(""), false
		default:
			return errBadSignature("The signature could not be verified with the key the assertion names."), false
		}
	}
	aud, _ := claims.GetAudience()
	if !containsString(aud, s.tokenURL(tenant)) {
		s.violate(req, "client_assertion aud %q is not the token endpoint %s", []string(aud), s.tokenURL(tenant))
		return errAssertionAudience(), false
	}
	iss, _ := claims.GetIssuer()
	sub, _ := claims.GetSubject()
	if !strings.EqualFold(iss, clientID) || !strings.EqualFold(sub, clientID) {
		s.violate(req, "client_assertion iss %q and sub %q are not both the client id", iss, sub)
		return errAssertionClient(), false
	}
	// Only exp is judged by the emulator's clock: a test may run that
	// clock far from the real one the client signs with, and nbf or iat
	// would then refuse good assertions.
	exp, err := claims.GetExpirationTime()
	if err != nil || exp == nil {
		s.violate(req, "client_assertion has no exp")
		return errAssertionTime(), false
	}
	if !s.now().Before(exp.Time) {
		return errAssertionTime(), false
	}
	if jti, _ := claims["jti"].(string); jti == "" {
		s.violate(req, "client_assertion has no jti")
		return errAssertionMalformed("The jti claim is required."), false
	}
	return entraError{}, true
}

func containsString(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
