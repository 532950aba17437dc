package o365managementactivityreceiver // import "github.com/o365detect/o365detect/receiver/o365managementactivityreceiver"

import (
	"context"
	"fmt"
	"net/http"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/confighttp"
	"golang.org/x/time/rate"

	"github.com/o365detect/o365detect/receiver/o365managementactivityreceiver/internal/activityapi"
	"github.com/o365detect/o365detect/receiver/o365managementactivityreceiver/internal/apptoken"
)

// newAPIClient builds the API client: the configured HTTP client for the
// API host, and, unless an auth extension authenticates the requests, a
// token source on a second client for the login host. That second client
// shares the TLS, proxy and timeout settings only: the API's headers and
// authenticator never go to the login host.
func newAPIClient(ctx context.Context, cfg *Config, host component.Host, set component.TelemetrySettings, observe func(activityapi.Op, activityapi.Outcome)) (*activityapi.Client, error) {
	httpClient, err := cfg.ToClient(ctx, host.GetExtensions(), set)
	if err != nil {
		return nil, fmt.Errorf("HTTP client: %w", err)
	}
	// Go drops Authorization on a redirect to another domain but keeps it
	// for a subdomain; the token goes to the API host only.
	httpClient.CheckRedirect = sameHostOnly
	var tokens activityapi.TokenSource
	if !cfg.Auth.HasValue() {
		loginCfg := confighttp.NewDefaultClientConfig()
		loginCfg.TLS = cfg.TLS
		// The secret goes to the login host: never without verifying it,
		// even when the API's proxy is trusted blindly.
		loginCfg.TLS.InsecureSkipVerify = false
		loginCfg.ProxyURL = cfg.ProxyURL
		loginCfg.Timeout = cfg.Timeout
		loginClient, err := loginCfg.ToClient(ctx, host.GetExtensions(), set)
		if err != nil {
			return nil, fmt.Errorf("HTTP client for the login host: %w", err)
		}
		// A redirect would re-send the form, secret included, elsewhere.
		loginClient.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		loginClient.Transport = &countRequests{next: loginClient.Transport, observe: observe}
		tokens, err = apptoken.New(apptoken.Config{
			LoginEndpoint:      cfg.loginBase(),
			TenantID:           cfg.TenantID,
			ClientID:           cfg.ClientID,
			ClientSecret:       string(cfg.ClientSecret),
			CertificateFile:    cfg.CertificateFile,
			CertificateKeyFile: cfg.CertificateKeyFile,
			Scope:              cfg.scope(),
		}, loginClient)
		if err != nil {
			return nil, err
		}
	}
	perSecond := float64(cfg.MaxRequestsPerMinute) / 60
	return activityapi.New(activityapi.Config{
		BaseURL:     cfg.apiBase(),
		TenantID:    cfg.TenantID,
		PublisherID: cfg.publisherIdentifier(),
		HTTPClient:  httpClient,
		Tokens:      tokens,
		// A burst of one second's worth lets a poll start promptly and
		// keeps any minute under the limit.
		Limiter: rate.NewLimiter(rate.Limit(perSecond), max(1, int(perSecond))),
		Retry:   cfg.RetryOnFailure,
		Observe: observe,
	})
}

// sameHostOnly refuses a redirect to another host.
func sameHostOnly(req *http.Request, via []*http.Request) error {
	if len(via) >= 10 {
		return fmt.Errorf("stopped after %d redirects", len(via))
	}
	if req.URL.Host != via[0].URL.Host {
		return fmt.Errorf("refused a redirect from %s to another host, %s", via[0].URL.Host, req.URL.Host)
	}
	return nil
}

// countRequests counts the token requests by outcome.
type countRequests struct {
	next    http.RoundTripper
	observe func(activityapi.Op, activityapi.Outcome)
}

func (c *countRequests) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := c.next.RoundTrip(req)
	switch {
	case err != nil, resp.StatusCode >= 500:
		c.observe(activityapi.OpToken, activityapi.OutcomeRetryable)
	case resp.StatusCode == http.StatusTooManyRequests:
		c.observe(activityapi.OpToken, activityapi.OutcomeThrottled)
	case resp.StatusCode >= 400:
		c.observe(activityapi.OpToken, activityapi.OutcomeFailure)
	default:
		c.observe(activityapi.OpToken, activityapi.OutcomeSuccess)
	}
	return resp, err
}
