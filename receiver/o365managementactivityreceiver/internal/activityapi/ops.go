package activityapi // import "github.com/o365detect/o365detect/receiver/o365managementactivityreceiver/internal/activityapi"

// Op names an API call, for errors and telemetry.
type Op string

// The API calls.
const (
	OpToken Op = "token"
	OpStart Op = "start"
	OpList  Op = "list"
	OpFetch Op = "fetch"
)

// Outcome is how a request ended, for telemetry.
type Outcome string

// The outcomes.
const (
	OutcomeSuccess   Outcome = "success"
	OutcomeThrottled Outcome = "throttled"
	OutcomeRetryable Outcome = "retryable"
	OutcomeFailure   Outcome = "failure"
)
