package apptoken // import "github.com/o365detect/o365detect/receiver/o365managementactivityreceiver/internal/apptoken"

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

const (
	// maxRenewMargin is how long before expiry a token is renewed, so that
	// a request sent with it does not arrive after it expired.
	maxRenewMargin = 5 * time.Minute
	// fallbackLifetime is assumed when an answer has no expires_in; Entra ID
	// always sends it, and a short guess only costs an early renewal.
	fallbackLifetime = 10 * time.Minute
)

// Source hands out app-only access tokens for one app and scope. It is safe
// for concurrent use.
type Source struct {
	tokenURL string
	clientID string
	secret   string
	cert     *certificate
	scopes   []string
	client   *http.Client
	now      func() time.Time

	mu      sync.Mutex
	token   string
	renewAt time.Time
	// pending is the token request under way, shared by every caller that
	// needs a token meanwhile.
	pending *request
}

// request is one token request and, once done is closed, its result.
type request struct {
	done  chan struct{}
	token string
	err   error
	// abandoned is set when the request failed because the caller that
	// sent it gave up; the callers waiting on it send their own.
	abandoned bool
}

// New validates cfg and loads the credential, reading the certificate files
// once. Errors name the config field they come from. The token requests are
// sent with client, which carries the TLS and proxy settings; nil means
// http.DefaultClient.
func New(cfg Config, client *http.Client) (*Source, error) {
	tokenURL, err := cfg.validate()
	if err != nil {
		return nil, err
	}
	s := &Source{
		tokenURL: tokenURL,
		clientID: cfg.ClientID,
		secret:   cfg.ClientSecret,
		scopes:   strings.Fields(cfg.Scope),
		client:   client,
		now:      time.Now,
	}
	if cfg.ClientSecret == "" {
		if s.cert, err = loadCertificate(cfg.CertificateFile, cfg.CertificateKeyFile); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// TokenURL is the token endpoint: {LoginEndpoint}/{TenantID}/oauth2/v2.0/token.
func (s *Source) TokenURL() string { return s.tokenURL }

// Token returns the cached access token, or requests a new one when none is
// cached or the cached one expires within the renewal margin: five minutes,
// or a tenth of the token's lifetime if that is shorter. Callers arriving
// while a request is under way wait for it instead of sending their own.
//
// A refused request returns an *Error; other failures (network, timeouts)
// are returned wrapped and are worth retrying.
func (s *Source) Token(ctx context.Context) (string, error) {
	for {
		s.mu.Lock()
		if s.token != "" && s.now().Before(s.renewAt) {
			token := s.token
			s.mu.Unlock()
			return token, nil
		}
		if r := s.pending; r != nil {
			s.mu.Unlock()
			select {
			case <-r.done:
				if r.abandoned {
					if ctx.Err() != nil {
						return "", ctx.Err()
					}
					continue
				}
				return r.token, r.err
			case <-ctx.Done():
				return "", ctx.Err()
			}
		}
		r := &request{done: make(chan struct{})}
		s.pending = r
		s.mu.Unlock()

		s.send(ctx, r)
		return r.token, r.err
	}
}

// Invalidate drops token from the cache after the resource server refused
// it, so that the next Token requests a new one. A token that is no longer
// the cached one (another caller already renewed it) is ignored, which keeps
// callers holding the old token from discarding the new one.
func (s *Source) Invalidate(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if token != "" && token == s.token {
		s.token = ""
		s.renewAt = time.Time{}
	}
}

// send runs the token request r and publishes its result.
func (s *Source) send(ctx context.Context, r *request) {
	start := s.now()
	token, lifetime, err := s.fetch(ctx)

	s.mu.Lock()
	if err == nil {
		s.token = token
		s.renewAt = start.Add(lifetime - renewMargin(lifetime))
	}
	s.pending = nil
	s.mu.Unlock()

	r.token, r.err = token, err
	r.abandoned = err != nil && ctx.Err() != nil
	close(r.done)
}

// renewMargin is the margin before expiry at which a token is renewed.
func renewMargin(lifetime time.Duration) time.Duration {
	return min(maxRenewMargin, lifetime/10)
}

// fetch sends one token request and returns the token and its lifetime.
func (s *Source) fetch(ctx context.Context) (string, time.Duration, error) {
	cc := clientcredentials.Config{
		ClientID:     s.clientID,
		ClientSecret: s.secret,
		TokenURL:     s.tokenURL,
		Scopes:       s.scopes,
		// Entra ID takes the credential in the body; auto-detection would
		// first send a doomed request with a Basic header.
		AuthStyle: oauth2.AuthStyleInParams,
	}
	var assertion string
	if s.cert != nil {
		var err error
		if assertion, err = s.cert.assertion(s.clientID, s.tokenURL, s.now()); err != nil {
			return "", 0, err
		}
		cc.EndpointParams = url.Values{
			"client_assertion_type": {assertionType},
			"client_assertion":      {assertion},
		}
	}
	if s.client != nil {
		ctx = context.WithValue(ctx, oauth2.HTTPClient, s.client)
	}
	tok, err := cc.Token(ctx)
	if err != nil {
		if re, ok := errors.AsType[*oauth2.RetrieveError](err); ok {
			return "", 0, newError(re, s.secret, assertion)
		}
		return "", 0, requestError(err, s.secret, assertion)
	}
	return tok.AccessToken, lifetime(tok), nil
}

// lifetime reads expires_in from the answer itself: oauth2 turns it into an
// Expiry on the real clock, which renewals must not mix with the Source's.
func lifetime(tok *oauth2.Token) time.Duration {
	var seconds int64
	switch v := tok.Extra("expires_in").(type) {
	case float64:
		seconds = int64(v)
	case string:
		seconds, _ = strconv.ParseInt(v, 10, 64)
	}
	if seconds > 0 {
		return time.Duration(seconds) * time.Second
	}
	if !tok.Expiry.IsZero() {
		if d := time.Until(tok.Expiry); d > 0 {
			return d
		}
	}
	return fallbackLifetime
}
