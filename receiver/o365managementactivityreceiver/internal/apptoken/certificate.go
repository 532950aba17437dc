package apptoken // import "github.com/o365detect/o365detect/receiver/o365managementactivityreceiver/internal/apptoken"

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha1" // x5t is defined as a SHA-1 thumbprint: it names the certificate, it protects nothing
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"
)

// minRSABits is the smallest key Entra ID accepts for a certificate
// credential.
const minRSABits = 2048

// certificate is what signing an assertion needs: the private key and the
// thumbprints that tell Entra ID which registered certificate to verify with.
type certificate struct {
	key *rsa.PrivateKey
	// x5t and x5tS256 are the base64url SHA-1 and SHA-256 thumbprints of
	// the leaf's DER encoding.
	x5t     string
	x5tS256 string
}

// loadCertificate reads the two PEM files once. Errors start with the config
// field of the file they are about.
func loadCertificate(certFile, keyFile string) (*certificate, error) {
	leaf, err := readLeaf(certFile)
	if err != nil {
		return nil, fmt.Errorf("certificate_file: %w", err)
	}
	key, err := readKey(keyFile)
	if err != nil {
		return nil, fmt.Errorf("certificate_key_file: %w", err)
	}
	if !key.PublicKey.Equal(leaf.PublicKey) {
		return nil, errors.New("certificate_key_file: key does not match certificate_file")
	}
	s1 := sha1.Sum(leaf.Raw)
	s256 := sha256.Sum256(leaf.Raw)
	return &certificate{
		key:     key,
		x5t:     base64.RawURLEncoding.EncodeToString(s1[:]),
		x5tS256: base64.RawURLEncoding.EncodeToString(s256[:]),
	}, nil
}

// readLeaf returns the first certificate of the file; the rest of a chain is
// not needed, since Entra ID matches the registered certificate by
// thumbprint.
func readLeaf(path string) (*x509.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	for rest := data; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return nil, errors.New("no PEM CERTIFICATE block found")
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parse certificate: %w", err)
		}
		if _, ok := cert.PublicKey.(*rsa.PublicKey); !ok {
			return nil, fmt.Errorf("certificate has %s public key; Microsoft Entra ID accepts RSA certificates only", keyKind(cert.PublicKey))
		}
		return cert, nil
	}
}

// readKey returns the first private key of the file, refusing the kinds
// Entra ID cannot verify rather than failing later at every token request.
func readKey(path string) (*rsa.PrivateKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	for rest := data; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return nil, errors.New("no PEM private key found (want RSA PRIVATE KEY or PRIVATE KEY)")
		}
		var key any
		switch block.Type {
		case "RSA PRIVATE KEY":
			if strings.Contains(block.Headers["Proc-Type"], "ENCRYPTED") {
				return nil, errors.New("the key is encrypted; an unencrypted key is needed")
			}
			key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
		case "PRIVATE KEY":
			key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
		case "ENCRYPTED PRIVATE KEY":
			return nil, errors.New("the key is encrypted; an unencrypted key is needed")
		case "EC PRIVATE KEY":
			return nil, errors.New("the key is an EC key; Microsoft Entra ID accepts RSA keys only")
		default:
			// A combined file may hold certificates or parameters too.
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", block.Type, err)
		}
		rsaKey, ok := key.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("the key is %s key; Microsoft Entra ID accepts RSA keys only", keyKind(key))
		}
		if bits := rsaKey.N.BitLen(); bits < minRSABits {
			return nil, fmt.Errorf("the RSA key has %d bits; Microsoft Entra ID requires at least %d", bits, minRSABits)
		}
		return rsaKey, nil
	}
}

// keyKind names a key type for an error message, with its article.
func keyKind(key any) string {
	switch key.(type) {
	case *ecdsa.PublicKey, *ecdsa.PrivateKey:
		return "an ECDSA"
	case ed25519.PublicKey, ed25519.PrivateKey:
		return "an Ed25519"
	case *rsa.PublicKey, *rsa.PrivateKey:
		return "an RSA"
	default:
		return fmt.Sprintf("a %T", key)
	}
}
