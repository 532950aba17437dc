// Package apptoken obtains app-only access tokens from Microsoft Entra ID
// with the OAuth 2.0 client credentials grant, authenticating the app with a
// client secret or with a certificate (a signed client assertion).
//
// A Source caches the token, renews it shortly before it expires, lets
// concurrent callers share one token request, and drops the cached token when
// the resource server refuses it. Refused token requests become *Error, which
// names the likely cause in plain words and says whether retrying can help.
//
// The client secret, the client assertion and the access token never appear
// in an error.
package apptoken // import "github.com/o365detect/o365detect/receiver/o365managementactivityreceiver/internal/apptoken"
