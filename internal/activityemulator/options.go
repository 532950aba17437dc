package activityemulator

import (
	"crypto/x509"
	"time"
)

// Defaults used when the matching Options field is empty. The identifiers
// are GUIDs because the service rejects a tenant that is not one (AF20013).
const (
	DefaultTenantID      = "4f3c6a1e-9b2d-4c8e-a7f0-1d2e3b4c5a60"
	DefaultClientID      = "8a7b6c5d-4e3f-4a1b-9c8d-7e6f5a4b3c21"
	DefaultClientSecret  = "emu8Q~activity.feed.client.secret"
	DefaultScope         = "https://manage.office.com/.default"
	DefaultTokenLifetime = 3599 * time.Second
	DefaultPageSize      = 100
)

// ContentTypes are the content types the API accepts; any other value is
// answered with AF20020. Read it; do not change it.
var ContentTypes = []string{
	"Audit.AzureActiveDirectory",
	"Audit.Exchange",
	"Audit.SharePoint",
	"Audit.General",
	"DLP.All",
}

// Options configures a Server. The zero value is usable.
type Options struct {
	// TenantID, ClientID and ClientSecret identify the one tenant and the
	// one application registration the emulator knows.
	TenantID, ClientID, ClientSecret string
	// ClientCertificate, when set, lets the application also authenticate
	// with a client assertion signed by this certificate's RSA key.
	ClientCertificate *x509.Certificate
	// Scope is the only scope the token endpoint grants.
	Scope string
	// TokenLifetime is how long an access token is honoured, by the
	// emulator's clock; expires_in reports it in whole seconds.
	TokenLifetime time.Duration
	// PageSize is how many blobs one listing page holds at most.
	PageSize int
	// RequestsPerMinute, when positive, throttles API requests beyond that
	// many in any sliding minute of the emulator's clock.
	RequestsPerMinute int
	// Now is the emulator's clock, used for token expiry, listing windows,
	// blob expiry and throttling. It must be safe for concurrent use.
	// TLS certificate validity always uses the real clock.
	Now func() time.Time
	// Subscribed lists content types whose subscription is already
	// enabled when the emulator starts, as in a tenant someone set up
	// before; the rest answer AF20022 until started.
	Subscribed []string
}

// withDefaults fills the empty fields.
func (o Options) withDefaults() Options {
	if o.TenantID == "" {
		o.TenantID = DefaultTenantID
	}
	if o.ClientID == "" {
		o.ClientID = DefaultClientID
	}
	if o.ClientSecret == "" {
		o.ClientSecret = DefaultClientSecret
	}
	if o.Scope == "" {
		o.Scope = DefaultScope
	}
	if o.TokenLifetime <= 0 {
		o.TokenLifetime = DefaultTokenLifetime
	}
	if o.PageSize <= 0 {
		o.PageSize = DefaultPageSize
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	o.Subscribed = append([]string(nil), o.Subscribed...)
	return o
}

func validContentType(ct string) bool {
	for _, c := range ContentTypes {
		if c == ct {
			return true
		}
	}
	return false
}
