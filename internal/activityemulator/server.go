package activityemulator

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"
)

// Server is a running emulator: the API host, the login host and the
// foreign host. Its methods are safe for concurrent use, including while
// requests are being served.
type Server struct {
	opts Options

	api, login, foreign *httptest.Server
	certPEM             []byte
	transport           *http.Transport
	client              *http.Client
	closeOnce           sync.Once

	mu       sync.Mutex
	subs     map[string]*subscription
	blobs    map[string]*blob
	listings map[string][]listing // per content type, sorted by key
	seq      uint64
	tokens   map[string]tokenInfo
	faults   map[Op][]Fault
	recent   []time.Time // API requests admitted in the last minute
	inFlight int
	stats    Stats
}

// New starts the three servers. It panics if they cannot start, as
// httptest does, since a test cannot go on without them.
func New(opts Options) *Server {
	opts = opts.withDefaults()
	tlsCert, cert, certPEM, err := newLoopbackCert()
	if err != nil {
		panic("activityemulator: " + err.Error())
	}
	s := &Server{
		opts:     opts,
		certPEM:  certPEM,
		subs:     map[string]*subscription{},
		blobs:    map[string]*blob{},
		listings: map[string][]listing{},
		tokens:   map[string]tokenInfo{},
		faults:   map[Op][]Fault{},
		stats:    newStats(),
	}
	for _, ct := range opts.Subscribed {
		s.subs[ct] = &subscription{state: subEnabled}
	}
	s.api = startTLS(http.HandlerFunc(s.serveAPI), tlsCert)
	s.login = startTLS(http.HandlerFunc(s.serveLogin), tlsCert)
	s.foreign = startTLS(http.HandlerFunc(s.serveForeign), tlsCert)

	pool := x509.NewCertPool()
	pool.AddCert(cert)
	s.transport = &http.Transport{
		TLSClientConfig:   &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
		ForceAttemptHTTP2: true,
	}
	s.client = &http.Client{Transport: s.transport}
	return s
}

func startTLS(h http.Handler, cert tls.Certificate) *httptest.Server {
	srv := httptest.NewUnstartedServer(h)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	// Tests deliberately connect with clients that distrust the
	// certificate; the handshake errors that causes are expected noise.
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	return srv
}

// Close stops all three servers and drops the connections of Client.
// Connections still open are cut first, so a client that stopped reading
// a long blob cannot hold Close up; it then waits for handlers to return.
// Calling it again does nothing.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		for _, srv := range []*httptest.Server{s.api, s.login, s.foreign} {
			srv.CloseClientConnections()
			srv.Close()
		}
		s.transport.CloseIdleConnections()
	})
}

// URL is the API host's base, such as https://127.0.0.1:PORT; the API
// root is URL()+"/api/v1.0/"+tenant+"/activity/feed".
func (s *Server) URL() string { return s.api.URL }

// LoginURL is the token authority's base; tokens are requested from
// LoginURL()+"/"+tenant+"/oauth2/v2.0/token".
func (s *Server) LoginURL() string { return s.login.URL }

// TokenURL is the token endpoint for the configured tenant, which is also
// the audience a client assertion must name.
func (s *Server) TokenURL() string { return s.tokenURL(s.opts.TenantID) }

func (s *Server) tokenURL(tenant string) string {
	return s.login.URL + "/" + tenant + "/oauth2/v2.0/token"
}

// ForeignURL is the base of the host that stands for any other server a
// contentUri might name.
func (s *Server) ForeignURL() string { return s.foreign.URL }

// CACertPEM is the PEM of the certificate the three servers present.
func (s *Server) CACertPEM() []byte { return append([]byte(nil), s.certPEM...) }

// Client is an HTTP client that trusts the servers' certificate and
// nothing else.
func (s *Server) Client() *http.Client { return s.client }

// Options returns the options in force, defaults filled in.
func (s *Server) Options() Options {
	o := s.opts
	o.Subscribed = append([]string(nil), o.Subscribed...)
	return o
}

// now is the emulator's clock in UTC, the zone every API time is in.
func (s *Server) now() time.Time { return s.opts.Now().UTC() }
