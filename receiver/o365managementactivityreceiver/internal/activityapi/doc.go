// Package activityapi is a client of the Office 365 Management Activity API:
// starting subscriptions, listing content blobs page by page, and opening a
// blob for streaming. It classifies the API's errors as Microsoft documents
// them, retries the retryable ones with backoff that honours Retry-After,
// renews the token once after a 401, and sends the token to the configured
// API host only.
package activityapi // import "github.com/o365detect/o365detect/receiver/o365managementactivityreceiver/internal/activityapi"
