// Package o365detectprocessor runs Splunk ESCU's "O365 Cross-Tenant Access
// Change" detection (7c0fa490-12b0-4d0b-b9f5-e101d1e0e06f, v7) on Office 365
// Management Activity records in an OpenTelemetry Collector logs pipeline.
//
// Matching records are tagged in place, and one detection record per ESCU
// result row is emitted at the end of each processing-time window.
//
//go:generate go tool -modfile=../../internal/tools/go.mod mdatagen metadata.yaml
package o365detectprocessor // import "github.com/o365detect/o365detect/processor/o365detectprocessor"
