package o365managementactivityreceiver // import "github.com/o365detect/o365detect/receiver/o365managementactivityreceiver"

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/config/configretry"
)

// Config is the receiver's configuration. The embedded HTTP client settings
// (endpoint, tls, timeout, proxy_url, headers, auth, ...) apply to the API
// requests; the token requests share its TLS, proxy and timeout settings only.
type Config struct {
	confighttp.ClientConfig `mapstructure:",squash"`

	// TenantID is the Entra ID tenant (directory) GUID whose audit logs are read.
	TenantID string `mapstructure:"tenant_id"`
	// ClientID is the application (client) id of the Entra app registration.
	ClientID string `mapstructure:"client_id"`
	// ClientSecret is the app's client secret. Exactly one of ClientSecret,
	// CertificateFile with CertificateKeyFile, or auth.authenticator is set.
	ClientSecret configopaque.String `mapstructure:"client_secret"`
	// CertificateFile and CertificateKeyFile are PEM files of a certificate
	// registered with the app and its RSA key; the receiver signs a client
	// assertion with them, as Microsoft recommends for daemon apps.
	CertificateFile    string `mapstructure:"certificate_file"`
	CertificateKeyFile string `mapstructure:"certificate_key_file"`

	// Cloud selects the API and login hosts: commercial, gcc, gcc_high or dod.
	Cloud string `mapstructure:"cloud"`
	// LoginEndpoint overrides the cloud's token authority base URL. The
	// endpoint key (from the HTTP client settings) overrides the API base URL.
	LoginEndpoint string `mapstructure:"login_endpoint"`

	// ContentTypes are the feeds to subscribe to and poll.
	ContentTypes []string `mapstructure:"content_types"`
	// PublisherIdentifier is sent on every request; Microsoft assigns quota
	// by it. Default: the tenant id.
	PublisherIdentifier string `mapstructure:"publisher_identifier"`

	// PollInterval is the time between two listings of a content type.
	PollInterval time.Duration `mapstructure:"poll_interval"`
	// InitialLookback is how far back the first poll lists content when
	// storage holds no cursor.
	InitialLookback time.Duration `mapstructure:"initial_lookback"`
	// MaxConcurrentDownloads bounds the blobs fetched at once per receiver.
	MaxConcurrentDownloads int `mapstructure:"max_concurrent_downloads"`
	// MaxRequestsPerMinute bounds the API requests of this receiver.
	MaxRequestsPerMinute int `mapstructure:"max_requests_per_minute"`
	// BatchSize is the most log records sent to the next consumer at once;
	// a larger blob is sent in several batches, so memory stays bounded.
	BatchSize int `mapstructure:"batch_size"`

	// Storage names a storage extension (such as file_storage) that keeps
	// the cursors and the dedup set across restarts.
	Storage *component.ID `mapstructure:"storage"`
	// Dedup removes records whose Id was already delivered.
	Dedup DedupConfig `mapstructure:"dedup"`
	// RetryOnFailure is the backoff for retryable API errors and for
	// batches the next consumer refuses.
	RetryOnFailure configretry.BackOffConfig `mapstructure:"retry_on_failure"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// DedupConfig configures the removal of records delivered more than once.
type DedupConfig struct {
	// Enabled turns dedup on (the default).
	Enabled bool `mapstructure:"enabled"`
	// MaxIDs bounds the record Ids held in memory.
	MaxIDs int `mapstructure:"max_ids"`
}

var _ component.Config = (*Config)(nil)

// Content types of the Management Activity API.
const (
	ContentTypeAzureActiveDirectory = "Audit.AzureActiveDirectory"
	ContentTypeExchange             = "Audit.Exchange"
	ContentTypeSharePoint           = "Audit.SharePoint"
	ContentTypeGeneral              = "Audit.General"
	ContentTypeDLP                  = "DLP.All"
)

var contentTypes = []string{
	ContentTypeAzureActiveDirectory,
	ContentTypeExchange,
	ContentTypeSharePoint,
	ContentTypeGeneral,
	ContentTypeDLP,
}

// cloudHosts are the API and login hosts of each cloud, as the Management
// Activity API reference and the Entra national-cloud pages give them.
var cloudHosts = map[string]struct{ api, login string }{
	"commercial": {"manage.office.com", "login.microsoftonline.com"},
	"gcc":        {"manage-gcc.office.com", "login.microsoftonline.com"},
	"gcc_high":   {"manage.office365.us", "login.microsoftonline.us"},
	"dod":        {"manage.protection.apps.mil", "login.microsoftonline.us"},
}

// contentLifetime is how long Microsoft keeps a blob, and so the furthest
// back a listing may start.
const contentLifetime = 7 * 24 * time.Hour

// lookbackMargin keeps the first listing clear of the 7-day limit, which the
// service checks against its own clock.
const lookbackMargin = 5 * time.Minute

// maxInitialLookback is the longest initial_lookback the API accepts.
const maxInitialLookback = contentLifetime - lookbackMargin

// microsoftRequestsPerMinute is the per-tenant quota Microsoft documents.
const microsoftRequestsPerMinute = 2000

var guidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// Validate checks the configuration; every error names its field.
func (c *Config) Validate() error {
	var errs []error
	add := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...)))
	}

	switch {
	case c.TenantID == "":
		add("tenant_id", "is required")
	case !guidPattern.MatchString(c.TenantID):
		add("tenant_id", "must be the tenant's GUID (the API takes no domain name), got %q", c.TenantID)
	}
	if c.ClientID == "" {
		add("client_id", "is required")
	}

	hasSecret := c.ClientSecret != ""
	hasCert := c.CertificateFile != "" || c.CertificateKeyFile != ""
	hasAuth := c.Auth.HasValue()
	switch n := count(hasSecret, hasCert, hasAuth); {
	case n == 0:
		add("client_secret", "one credential is required: client_secret, certificate_file with certificate_key_file, or auth.authenticator")
	case n > 1:
		add("client_secret", "set exactly one credential: client_secret, certificate_file with certificate_key_file, or auth.authenticator")
	}
	if hasCert && c.CertificateFile == "" {
		add("certificate_file", "is required with certificate_key_file")
	}
	if hasCert && c.CertificateKeyFile == "" {
		add("certificate_key_file", "is required with certificate_file")
	}

	if _, ok := cloudHosts[c.Cloud]; !ok {
		add("cloud", "must be one of commercial, gcc, gcc_high, dod, got %q", c.Cloud)
	}
	if c.Endpoint != "" {
		if err := checkBaseURL(c.Endpoint); err != nil {
			add("endpoint", "%v", err)
		}
	}
	if c.LoginEndpoint != "" {
		if err := checkBaseURL(c.LoginEndpoint); err != nil {
			add("login_endpoint", "%v", err)
		}
	}

	if len(c.ContentTypes) == 0 {
		add("content_types", "must name at least one content type")
	}
	for i, ct := range c.ContentTypes {
		if !slices.Contains(contentTypes, ct) {
			add("content_types", "unknown content type %q, want one of %s", ct, strings.Join(contentTypes, ", "))
		} else if slices.Index(c.ContentTypes, ct) != i {
			add("content_types", "%q is listed twice", ct)
		}
	}
	if c.PublisherIdentifier != "" && !guidPattern.MatchString(c.PublisherIdentifier) {
		add("publisher_identifier", "must be a GUID, got %q", c.PublisherIdentifier)
	}

	if c.PollInterval <= 0 {
		add("poll_interval", "must be greater than 0, got %s", c.PollInterval)
	}
	if c.InitialLookback <= 0 || c.InitialLookback > maxInitialLookback {
		add("initial_lookback", "must be greater than 0 and at most %s (the API keeps content 7 days), got %s", maxInitialLookback, c.InitialLookback)
	}
	if c.MaxConcurrentDownloads < 1 {
		add("max_concurrent_downloads", "must be at least 1, got %d", c.MaxConcurrentDownloads)
	}
	if c.MaxRequestsPerMinute < 1 || c.MaxRequestsPerMinute > microsoftRequestsPerMinute {
		add("max_requests_per_minute", "must be between 1 and %d (Microsoft's quota per tenant), got %d", microsoftRequestsPerMinute, c.MaxRequestsPerMinute)
	}
	if c.BatchSize < 1 {
		add("batch_size", "must be at least 1, got %d", c.BatchSize)
	}
	if c.Dedup.Enabled && c.Dedup.MaxIDs < 1 {
		add("dedup.max_ids", "must be at least 1, got %d", c.Dedup.MaxIDs)
	}
	if err := c.RetryOnFailure.Validate(); err != nil {
		add("retry_on_failure", "%v", err)
	}
	return errors.Join(errs...)
}

func count(bs ...bool) int {
	n := 0
	for _, b := range bs {
		if b {
			n++
		}
	}
	return n
}

// checkBaseURL accepts an https URL with a host and no query or fragment:
// tokens must never travel in clear text.
func checkBaseURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return err
	}
	if u.Scheme != "https" {
		return fmt.Errorf("must be an https URL, got %q", s)
	}
	if u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("must be a base URL with a host and no query, got %q", s)
	}
	return nil
}

// apiBase is the API base URL: endpoint, or the cloud's API host.
func (c *Config) apiBase() string {
	if c.Endpoint != "" {
		return strings.TrimRight(c.Endpoint, "/")
	}
	return "https://" + cloudHosts[c.Cloud].api
}

// loginBase is the token authority base URL: login_endpoint, or the cloud's
// login host.
func (c *Config) loginBase() string {
	if c.LoginEndpoint != "" {
		return strings.TrimRight(c.LoginEndpoint, "/")
	}
	return "https://" + cloudHosts[c.Cloud].login
}

// scope is the token scope: the cloud's API resource, whatever endpoint
// override points the requests elsewhere (a proxy still needs a token for
// the real resource).
func (c *Config) scope() string {
	return "https://" + cloudHosts[c.Cloud].api + "/.default"
}

// publisherIdentifier is publisher_identifier, or the tenant id.
func (c *Config) publisherIdentifier() string {
	if c.PublisherIdentifier != "" {
		return c.PublisherIdentifier
	}
	return c.TenantID
}
