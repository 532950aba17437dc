// Package o365managementactivityreceiver polls the Office 365 Management
// Activity API and emits every audit record of the subscribed content types
// as a log record whose body is the record's JSON text exactly as Microsoft
// delivered it.
//
// It keeps a per-content-type cursor and the Ids of the records it has
// delivered in a storage extension, so that a restart, even after kill -9,
// neither skips nor repeats a record.
//
//go:generate go tool -modfile=../../internal/tools/go.mod mdatagen metadata.yaml
package o365managementactivityreceiver // import "github.com/o365detect/o365detect/receiver/o365managementactivityreceiver"
