package apptoken

import (
	"context"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestTokenRequestForm(t *testing.T) {
	tests := []struct {
		name   string
		config func(*testing.T, *fakeIdP) Config
		check  func(*testing.T, url.Values)
	}{
		{
			name:   "secret",
			config: func(_ *testing.T, f *fakeIdP) Config { return secretConfig(f) },
			check: func(t *testing.T, form url.Values) {
				assert.Equal(t, []string{testSecret}, form["client_secret"])
				assert.NotContains(t, form, "client_assertion")
				assert.NotContains(t, form, "client_assertion_type")
			},
		},
		{
			name:   "certificate",
			config: certConfig,
			check: func(t *testing.T, form url.Values) {
				assert.NotContains(t, form, "client_secret")
				assert.Equal(t, []string{"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, form["client_assertion_type"])
				assert.Len(t, form["client_assertion"], 1)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeIdP(t)
			s := newSource(t, f, tt.config(t, f))

			token, err := s.Token(t.Context())
			require.NoError(t, err)
			assert.Equal(t, "token-1", token)

			require.Equal(t, 1, f.requests())
			assert.Equal(t, "/"+testTenant+"/oauth2/v2.0/token", f.path(0))
			form := f.form(0)
			assert.Equal(t, []string{"client_credentials"}, form["grant_type"])
			assert.Equal(t, []string{testClient}, form["client_id"])
			assert.Equal(t, []string{testScope}, form["scope"])
			tt.check(t, form)
		})
	}
}

func TestTokenURL(t *testing.T) {
	for _, endpoint := range []string{"https://login.microsoftonline.us", "https://login.microsoftonline.us/", "https://login.microsoftonline.us//"} {
		s, err := New(Config{
			LoginEndpoint: endpoint, TenantID: "contoso.onmicrosoft.com", ClientID: testClient,
			ClientSecret: testSecret, Scope: testScope,
		}, nil)
		require.NoError(t, err)
		assert.Equal(t, "https://login.microsoftonline.us/contoso.onmicrosoft.com/oauth2/v2.0/token", s.TokenURL(), endpoint)
	}
}

func TestTokenUsesGivenClient(t *testing.T) {
	f := newFakeIdP(t)
	// The test server's certificate is trusted by its own client only.
	s, err := New(secretConfig(f), &http.Client{})
	require.NoError(t, err)
	_, err = s.Token(t.Context())
	require.ErrorContains(t, err, "certificate")
	assert.Zero(t, f.requests())

	_, err = newSource(t, f, secretConfig(f)).Token(t.Context())
	require.NoError(t, err)
	assert.Equal(t, 1, f.requests())
}

func TestTokenCached(t *testing.T) {
	f := newFakeIdP(t)
	s := newSource(t, f, secretConfig(f))
	first, err := s.Token(t.Context())
	require.NoError(t, err)
	second, err := s.Token(t.Context())
	require.NoError(t, err)
	assert.Equal(t, first, second)
	assert.Equal(t, 1, f.requests())
}

func TestTokenRenewal(t *testing.T) {
	tests := []struct {
		name      string
		expiresIn int
		// keep is the latest age at which the first token is still served,
		// renew the earliest at which a new one is requested.
		keep, renew time.Duration
	}{
		// A tenth of 100 s is shorter than five minutes.
		{"short-lived", 100, 89 * time.Second, 91 * time.Second},
		// Five minutes is shorter than a tenth of an hour.
		{"hour", 3600, 54*time.Minute + 59*time.Second, 55*time.Minute + time.Second},
		{"expired", 3600, 0, 2 * time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeIdP(t)
			f.setRespond(grantToken(tt.expiresIn))
			s := newSource(t, f, secretConfig(f))
			clock := &fakeClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
			s.now = clock.now

			first, err := s.Token(t.Context())
			require.NoError(t, err)

			clock.advance(tt.keep)
			token, err := s.Token(t.Context())
			require.NoError(t, err)
			assert.Equal(t, first, token)
			assert.Equal(t, 1, f.requests())

			clock.advance(tt.renew - tt.keep)
			token, err = s.Token(t.Context())
			require.NoError(t, err)
			assert.NotEqual(t, first, token)
			assert.Equal(t, 2, f.requests())
		})
	}
}

func TestInvalidate(t *testing.T) {
	f := newFakeIdP(t)
	s := newSource(t, f, secretConfig(f))

	first, err := s.Token(t.Context())
	require.NoError(t, err)
	s.Invalidate(first)
	second, err := s.Token(t.Context())
	require.NoError(t, err)
	assert.NotEqual(t, first, second)
	assert.Equal(t, 2, f.requests())

	// A caller that still held the first token must not discard the second.
	s.Invalidate(first)
	s.Invalidate("")
	third, err := s.Token(t.Context())
	require.NoError(t, err)
	assert.Equal(t, second, third)
	assert.Equal(t, 2, f.requests())
}

func TestTokenConcurrentCallersShareOneRequest(t *testing.T) {
	f := newFakeIdP(t)
	release := make(chan struct{})
	f.setRespond(func(w http.ResponseWriter, form url.Values, n int) {
		<-release
		grantToken(3599)(w, form, n)
	})
	s := newSource(t, f, secretConfig(f))

	const callers = 50
	var started, finished sync.WaitGroup
	tokens := make([]string, callers)
	errs := make([]error, callers)
	for i := range callers {
		started.Add(1)
		finished.Add(1)
		go func() {
			defer finished.Done()
			started.Done()
			tokens[i], errs[i] = s.Token(context.Background())
		}()
	}
	started.Wait()
	// Give every caller time to reach Token while the request is held.
	time.Sleep(100 * time.Millisecond)
	close(release)
	finished.Wait()

	assert.Equal(t, 1, f.requests())
	for i := range callers {
		require.NoError(t, errs[i])
		assert.Equal(t, "token-1", tokens[i])
	}
}

func TestTokenWaiterOutlivesCanceledSender(t *testing.T) {
	f := newFakeIdP(t)
	arrived := make(chan struct{}, 2)
	release := make(chan struct{})
	f.setRespond(func(w http.ResponseWriter, form url.Values, n int) {
		arrived <- struct{}{}
		if n == 1 {
			<-release
		}
		grantToken(3599)(w, form, n)
	})
	s := newSource(t, f, secretConfig(f))

	senderCtx, cancel := context.WithCancel(context.Background())
	senderErr := make(chan error, 1)
	go func() {
		_, err := s.Token(senderCtx)
		senderErr <- err
	}()
	select {
	case <-arrived:
	case <-time.After(10 * time.Second):
		t.Fatal("the token request never arrived")
	}

	waiter := make(chan string, 1)
	go func() {
		token, err := s.Token(context.Background())
		assert.NoError(t, err)
		waiter <- token
	}()
	time.Sleep(50 * time.Millisecond)
	cancel()
	require.ErrorIs(t, <-senderErr, context.Canceled)
	close(release)

	// The waiter was not the one who gave up, so it sends its own request.
	assert.Equal(t, "token-2", <-waiter)
}

func TestTokenCallerContextCanceled(t *testing.T) {
	f := newFakeIdP(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := newSource(t, f, secretConfig(f)).Token(ctx)
	require.ErrorIs(t, err, context.Canceled)
	var refusal *Error
	assert.NotErrorAs(t, err, &refusal)
}
