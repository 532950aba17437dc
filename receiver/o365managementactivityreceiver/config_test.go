package o365managementactivityreceiver

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configauth"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"

	"github.com/o365detect/o365detect/receiver/o365managementactivityreceiver/internal/metadata"
)

func TestLoadConfig(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)

	full := createDefaultConfig().(*Config)
	full.TenantID = "5f2b8c1d-3e4a-4b6c-9d7e-0a1b2c3d4e5f"
	full.ClientID = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
	full.CertificateFile = "/etc/otelcol/o365.crt"
	full.CertificateKeyFile = "/etc/otelcol/o365.key"
	full.Cloud = "gcc_high"
	full.Endpoint = "https://proxy.example.com/o365"
	full.LoginEndpoint = "https://login.example.com"
	full.ContentTypes = []string{ContentTypeAzureActiveDirectory, ContentTypeExchange}
	full.PublisherIdentifier = "11111111-2222-4333-8444-555555555555"
	full.PollInterval = time.Minute
	full.InitialLookback = 24 * time.Hour
	full.MaxConcurrentDownloads = 8
	full.MaxRequestsPerMinute = 600
	full.BatchSize = 500
	storageID := component.MustNewID("file_storage")
	full.Storage = &storageID
	full.Dedup.MaxIDs = 50000
	full.Timeout = 30 * time.Second
	full.TLS.CAFile = "/etc/otelcol/ca.pem"

	tests := []struct {
		id      string
		want    func() *Config
		wantErr string
	}{
		{id: "", want: func() *Config {
			c := createDefaultConfig().(*Config)
			c.TenantID = "5f2b8c1d-3e4a-4b6c-9d7e-0a1b2c3d4e5f"
			c.ClientID = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
			c.ClientSecret = "s3cr3t"
			return c
		}},
		{id: "full", want: func() *Config { return full }},
		{id: "authenticator", want: func() *Config {
			c := createDefaultConfig().(*Config)
			c.TenantID = "5f2b8c1d-3e4a-4b6c-9d7e-0a1b2c3d4e5f"
			c.ClientID = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
			c.Auth = configoptional.Some(configauth.Config{AuthenticatorID: component.MustNewID("oauth2client")})
			return c
		}},
		{id: "no_tenant", wantErr: "tenant_id: is required"},
		{id: "tenant_domain", wantErr: `tenant_id: must be the tenant's GUID`},
		{id: "no_client", wantErr: "client_id: is required"},
		{id: "no_credential", wantErr: "client_secret: one credential is required"},
		{id: "two_credentials", wantErr: "client_secret: set exactly one credential"},
		{id: "secret_and_authenticator", wantErr: "client_secret: set exactly one credential"},
		{id: "key_without_certificate", wantErr: "certificate_file: is required with certificate_key_file"},
		{id: "bad_cloud", wantErr: `cloud: must be one of commercial, gcc, gcc_high, dod, got "china"`},
		{id: "http_endpoint", wantErr: "endpoint: must be an https URL"},
		{id: "http_login", wantErr: "login_endpoint: must be an https URL"},
		{id: "bad_content_type", wantErr: `content_types: unknown content type "Audit.Teams"`},
		{id: "duplicate_content_type", wantErr: `content_types: "Audit.Exchange" is listed twice`},
		{id: "no_content_types", wantErr: "content_types: must name at least one content type"},
		{id: "bad_publisher", wantErr: `publisher_identifier: must be a GUID, got "my-app"`},
		{id: "zero_poll", wantErr: "poll_interval: must be greater than 0, got 0s"},
		{id: "long_lookback", wantErr: "initial_lookback: must be greater than 0 and at most 167h55m0s"},
		{id: "no_downloads", wantErr: "max_concurrent_downloads: must be at least 1, got 0"},
		{id: "over_quota", wantErr: "max_requests_per_minute: must be between 1 and 2000"},
		{id: "zero_batch", wantErr: "batch_size: must be at least 1, got 0"},
		{id: "zero_dedup", wantErr: "dedup.max_ids: must be at least 1, got 0"},
	}
	for _, tt := range tests {
		name := tt.id
		if name == "" {
			name = "default"
		}
		t.Run(name, func(t *testing.T) {
			id := component.NewIDWithName(metadata.Type, tt.id)
			sub, err := cm.Sub(id.String())
			require.NoError(t, err)
			cfg := createDefaultConfig().(*Config)
			require.NoError(t, sub.Unmarshal(cfg))
			err = confmap.Validate(cfg)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want(), cfg)
		})
	}
}

func TestCloudHosts(t *testing.T) {
	tests := []struct {
		cloud, api, login, scope string
	}{
		{"commercial", "https://manage.office.com", "https://login.microsoftonline.com", "https://manage.office.com/.default"},
		{"gcc", "https://manage-gcc.office.com", "https://login.microsoftonline.com", "https://manage-gcc.office.com/.default"},
		{"gcc_high", "https://manage.office365.us", "https://login.microsoftonline.us", "https://manage.office365.us/.default"},
		{"dod", "https://manage.protection.apps.mil", "https://login.microsoftonline.us", "https://manage.protection.apps.mil/.default"},
	}
	for _, tt := range tests {
		t.Run(tt.cloud, func(t *testing.T) {
			c := createDefaultConfig().(*Config)
			c.Cloud = tt.cloud
			assert.Equal(t, tt.api, c.apiBase())
			assert.Equal(t, tt.login, c.loginBase())
			assert.Equal(t, tt.scope, c.scope())
			// An override moves the requests, not the token's resource.
			c.Endpoint = "https://proxy.example.com/o365/"
			c.LoginEndpoint = "https://login.example.com/"
			assert.Equal(t, "https://proxy.example.com/o365", c.apiBase())
			assert.Equal(t, "https://login.example.com", c.loginBase())
			assert.Equal(t, tt.scope, c.scope())
		})
	}
}

func TestPublisherIdentifierDefaultsToTenant(t *testing.T) {
	c := createDefaultConfig().(*Config)
	c.TenantID = "5f2b8c1d-3e4a-4b6c-9d7e-0a1b2c3d4e5f"
	assert.Equal(t, c.TenantID, c.publisherIdentifier())
	c.PublisherIdentifier = "11111111-2222-4333-8444-555555555555"
	assert.Equal(t, c.PublisherIdentifier, c.publisherIdentifier())
}
