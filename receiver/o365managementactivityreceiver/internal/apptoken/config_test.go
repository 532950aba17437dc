package apptoken

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNewCertificateFiles(t *testing.T) {
	leafDER := selfSigned(t, "leaf", testKey("rsa"), nil)
	rsaCert := pemBlock("CERTIFICATE", leafDER)
	ecCert := pemBlock("CERTIFICATE", selfSigned(t, "ec", testKey("ec"), nil))
	smallCert := pemBlock("CERTIFICATE", selfSigned(t, "small", testKey("rsa-small"), nil))
	ecKey := pkcs8(t, testKey("ec"))
	missing := filepath.Join(t.TempDir(), "missing.pem")

	tests := []struct {
		name string
		cert []byte // nil: a file that does not exist
		key  []byte
		// want is the start of the error; "" means New succeeds.
		want string
		// more is a further part the error must hold.
		more string
	}{
		{name: "PKCS#8 key", cert: rsaCert, key: pkcs8(t, testKey("rsa"))},
		{name: "PKCS#1 key", cert: rsaCert, key: pkcs1(t, testKey("rsa"))},
		{name: "key file with the certificate in it", cert: rsaCert, key: append(append([]byte{}, rsaCert...), pkcs1(t, testKey("rsa"))...)},
		{name: "missing certificate", cert: nil, key: pkcs8(t, testKey("rsa")), want: "certificate_file: ", more: "no such file"},
		{name: "certificate not PEM", cert: []byte("MIIC...not pem"), key: pkcs8(t, testKey("rsa")), want: "certificate_file: ", more: "no PEM CERTIFICATE"},
		{name: "certificate garbled", cert: pemBlock("CERTIFICATE", []byte("garbage")), key: pkcs8(t, testKey("rsa")), want: "certificate_file: parse certificate"},
		{name: "EC certificate", cert: ecCert, key: ecKey, want: "certificate_file: ", more: "RSA certificates only"},
		{name: "missing key", cert: rsaCert, key: nil, want: "certificate_key_file: ", more: "no such file"},
		{name: "key not PEM", cert: rsaCert, key: []byte("-----not a key-----"), want: "certificate_key_file: ", more: "no PEM private key"},
		{name: "EC key in PKCS#8", cert: rsaCert, key: ecKey, want: "certificate_key_file: ", more: "ECDSA key; Microsoft Entra ID accepts RSA keys only"},
		{name: "EC key in SEC 1", cert: rsaCert, key: pemBlock("EC PRIVATE KEY", []byte("x")), want: "certificate_key_file: ", more: "RSA keys only"},
		{name: "encrypted key", cert: rsaCert, key: pemBlock("ENCRYPTED PRIVATE KEY", []byte("x")), want: "certificate_key_file: ", more: "encrypted"},
		{name: "small key", cert: smallCert, key: pkcs1(t, testKey("rsa-small")), want: "certificate_key_file: ", more: "1024 bits"},
		{name: "key of another certificate", cert: rsaCert, key: pkcs8(t, testKey("rsa-other")), want: "certificate_key_file: key does not match certificate_file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := Config{
				LoginEndpoint: "https://login.microsoftonline.com", TenantID: testTenant,
				ClientID: testClient, Scope: testScope,
				CertificateFile: missing, CertificateKeyFile: missing,
			}
			if tt.cert != nil {
				cfg.CertificateFile = writeFile(t, "cert.pem", tt.cert)
			}
			if tt.key != nil {
				cfg.CertificateKeyFile = writeFile(t, "key.pem", tt.key)
			}
			s, err := New(cfg, nil)
			if tt.want == "" {
				require.NoError(t, err)
				require.NotNil(t, s.cert)
				return
			}
			require.Error(t, err)
			assert.True(t, strings.HasPrefix(err.Error(), tt.want), err.Error())
			assert.Contains(t, err.Error(), tt.more)
			assert.NotContains(t, err.Error(), "PRIVATE KEY-----")
		})
	}
}

func TestNewConfig(t *testing.T) {
	certFile := writeFile(t, "cert.pem", pemBlock("CERTIFICATE", selfSigned(t, "leaf", testKey("rsa"), nil)))
	keyFile := writeFile(t, "key.pem", pkcs8(t, testKey("rsa")))
	valid := Config{
		LoginEndpoint: "https://login.microsoftonline.com", TenantID: testTenant,
		ClientID: testClient, ClientSecret: testSecret, Scope: testScope,
	}
	tests := []struct {
		name   string
		change func(*Config)
		want   string
	}{
		{"valid", func(*Config) {}, ""},
		{"domain tenant", func(c *Config) { c.TenantID = "contoso.onmicrosoft.com" }, ""},
		{"loopback http", func(c *Config) { c.LoginEndpoint = "http://127.0.0.1:8080" }, ""},
		{"no endpoint", func(c *Config) { c.LoginEndpoint = "" }, "login_endpoint: must not be empty"},
		{"relative endpoint", func(c *Config) { c.LoginEndpoint = "login.microsoftonline.com" }, "login_endpoint: must be an absolute URL"},
		{"plain http", func(c *Config) { c.LoginEndpoint = "http://login.microsoftonline.com" }, "login_endpoint: must use https"},
		{"credentials in endpoint", func(c *Config) { c.LoginEndpoint = "https://u:p@login.microsoftonline.com" }, "login_endpoint: must not contain user information"},
		{"query in endpoint", func(c *Config) { c.LoginEndpoint = "https://login.microsoftonline.com/?x=1" }, "login_endpoint: must not have a query"},
		{"no tenant", func(c *Config) { c.TenantID = "" }, "tenant_id: must not be empty"},
		{"tenant with a path", func(c *Config) { c.TenantID = "a/b" }, "tenant_id: "},
		{"dot tenant", func(c *Config) { c.TenantID = ".." }, "tenant_id: "},
		{"no client", func(c *Config) { c.ClientID = " " }, "client_id: must not be empty"},
		{"no scope", func(c *Config) { c.Scope = "" }, "scope: must not be empty"},
		{"no credential", func(c *Config) { c.ClientSecret = "" }, "client_secret: set client_secret, or certificate_file"},
		{"both credentials", func(c *Config) { c.CertificateFile, c.CertificateKeyFile = certFile, keyFile }, "client_secret: set either"},
		{"certificate without key", func(c *Config) { c.ClientSecret, c.CertificateFile = "", certFile }, "certificate_key_file: must be set"},
		{"key without certificate", func(c *Config) { c.ClientSecret, c.CertificateKeyFile = "", keyFile }, "certificate_file: must be set"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := valid
			tt.change(&cfg)
			_, err := New(cfg, nil)
			if tt.want == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tt.want)
			assert.NotContains(t, err.Error(), testSecret)
		})
	}
}

func TestNewReadsFilesOnce(t *testing.T) {
	f := newFakeIdP(t)
	cfg := certConfig(t, f)
	s := newSource(t, f, cfg)
	require.NoError(t, os.Remove(cfg.CertificateFile))
	require.NoError(t, os.Remove(cfg.CertificateKeyFile))
	_, err := s.Token(t.Context())
	require.NoError(t, err)
}
