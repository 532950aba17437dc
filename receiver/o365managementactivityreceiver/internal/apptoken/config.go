package apptoken // import "github.com/o365detect/o365detect/receiver/o365managementactivityreceiver/internal/apptoken"

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
)

// Config says where to ask for a token and how the app proves who it is.
type Config struct {
	// LoginEndpoint is the token authority base URL, such as
	// https://login.microsoftonline.com. A trailing slash is tolerated.
	LoginEndpoint string
	// TenantID is the directory the token is for: a GUID or a verified
	// domain name.
	TenantID string
	// ClientID is the application (client) id of the app registration.
	ClientID string

	// ClientSecret authenticates the app with a secret. Set either it or
	// both certificate files.
	ClientSecret string
	// CertificateFile is a PEM file holding the certificate registered with
	// the app; a chain is allowed, its first certificate being the leaf.
	CertificateFile string
	// CertificateKeyFile is a PEM file holding the certificate's RSA
	// private key, PKCS#1 or PKCS#8, unencrypted.
	CertificateKeyFile string

	// Scope is the space-separated scope requested, such as
	// https://manage.office.com/.default.
	Scope string
}

// validate checks the fields that do not need the file system and returns
// the token URL they make.
func (c Config) validate() (string, error) {
	var errs []error
	base, err := loginBase(c.LoginEndpoint)
	if err != nil {
		errs = append(errs, fmt.Errorf("login_endpoint: %w", err))
	}
	if err := checkTenant(c.TenantID); err != nil {
		errs = append(errs, fmt.Errorf("tenant_id: %w", err))
	}
	if strings.TrimSpace(c.ClientID) == "" {
		errs = append(errs, errors.New("client_id: must not be empty"))
	}
	if len(strings.Fields(c.Scope)) == 0 {
		errs = append(errs, errors.New("scope: must not be empty"))
	}
	errs = append(errs, c.checkCredential()...)
	if len(errs) > 0 {
		return "", errors.Join(errs...)
	}
	return base + "/" + c.TenantID + "/oauth2/v2.0/token", nil
}

// checkCredential insists on exactly one way of authenticating, so that a
// forgotten secret in a certificate setup cannot silently take over.
func (c Config) checkCredential() []error {
	hasSecret := c.ClientSecret != ""
	hasCert := c.CertificateFile != "" || c.CertificateKeyFile != ""
	switch {
	case hasSecret && hasCert:
		return []error{errors.New("client_secret: set either client_secret or certificate_file with certificate_key_file, not both")}
	case !hasSecret && !hasCert:
		return []error{errors.New("client_secret: set client_secret, or certificate_file with certificate_key_file")}
	case hasCert && c.CertificateFile == "":
		return []error{errors.New("certificate_file: must be set with certificate_key_file")}
	case hasCert && c.CertificateKeyFile == "":
		return []error{errors.New("certificate_key_file: must be set with certificate_file")}
	}
	return nil
}

// loginBase returns the endpoint without its trailing slashes. The secret is
// sent to this URL, so it must be https; plain http is allowed on loopback
// only, for local test servers.
func loginBase(endpoint string) (string, error) {
	if endpoint == "" {
		return "", errors.New("must not be empty")
	}
	u, err := url.Parse(endpoint)
	if err != nil {
		return "", errors.New("not a URL")
	}
	if u.Host == "" {
		return "", errors.New("must be an absolute URL such as https://login.microsoftonline.com")
	}
	// Credentials in the URL would be echoed by every network error.
	if u.User != nil {
		return "", errors.New("must not contain user information")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return "", errors.New("must not have a query or fragment")
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !isLoopback(u.Hostname()) {
			return "", errors.New("must use https")
		}
	default:
		return "", errors.New("must use https")
	}
	return strings.TrimRight(endpoint, "/"), nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// checkTenant accepts the characters of GUIDs and domain names, which keeps
// the tenant a single path segment of the token URL.
func checkTenant(tenant string) error {
	if tenant == "" {
		return errors.New("must not be empty")
	}
	if tenant == "." || tenant == ".." {
		return fmt.Errorf("%q is not a tenant GUID or domain name", tenant)
	}
	for _, r := range tenant {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '.', r == '_':
		default:
			return fmt.Errorf("%q is not a tenant GUID or domain name", tenant)
		}
	}
	return nil
}
