// Package activityemulator emulates the Office 365 Management Activity API
// and the Microsoft Entra ID token endpoint that guards it, over loopback
// TLS, so that a receiver can be tested against the service's contract
// without a tenant.
//
// The contract is Microsoft's own documentation in the
// MicrosoftDocs/office-365-management-api repository:
// office-365-management-activity-api-reference.md (operations, listing
// window rules, paging through NextPageUri, the AF error table),
// troubleshooting-the-office-365-management-activity-api.md
// (PublisherIdentifier on every call including content URIs, AF429) and
// get-started-with-office-365-management-apis.md (client credentials
// against Entra). Entra's error shape and AADSTS codes follow Entra's
// "reference-error-codes" page and the Azure SDK troubleshooting pages.
// Where those pages are silent the emulator does what the real service is
// seen doing by clients in the wild, and the code says so where it decides.
//
// Three servers run, all on 127.0.0.1 and all presenting one self-signed
// certificate: the API host, the login host, and a "foreign" host that
// serves nothing and only records what reaches it, so a test can check a
// bearer token never leaves the hosts it belongs to. Requests that break
// the documented contract are still answered as the service would answer
// them, and are also described in Stats.Violations.
package activityemulator // import "github.com/o365detect/o365detect/internal/activityemulator"
