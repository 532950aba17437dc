package output // import "github.com/o365detect/o365detect/internal/output"

import (
	"fmt"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/o365detect/o365detect/internal/aggregate"
	"github.com/o365detect/o365detect/internal/rule"
)

// Match is one matching record, as a profile tags it.
type Match struct {
	// Rule is the rule the record matched; it is required.
	Rule *rule.Rule
	Row  rule.Row
	// Partner is the partner tenant added or deleted; "" when unknown.
	Partner string
	// EventTime is the record's _time.
	EventTime time.Time
}

// Profile writes the detection's results in one backend's vocabulary.
type Profile interface {
	// Tag writes the detection's attributes onto a matching input record's
	// attributes. An attribute of the same name as one it writes is
	// replaced, its type included, so that the record's user, src, ... are
	// the ones its risk object and finding were made of. Attributes it does
	// not write are left as they were, among them those a profile leaves
	// out for a value the row does not have (ecs's user.name for fillnull's
	// "0", splunk's threat_object without a partner tenant).
	Tag(attrs pcommon.Map, m Match)
	// Detection fills lr, an empty record, with the detection record of g,
	// for g.Rule. The caller sets its timestamps, resource and scope.
	Detection(lr plog.LogRecord, g *aggregate.Group)
}

// Profile names, as configured.
const (
	ProfileESCU   = "escu"
	ProfileECS    = "ecs"
	ProfileSplunk = "splunk"
	ProfileOCSF   = "ocsf"
)

// Profiles lists the valid profile names.
var Profiles = []string{ProfileESCU, ProfileECS, ProfileSplunk, ProfileOCSF}

// Options configures the profiles.
type Options struct {
	// RiskScore is the RBA risk score, 1 to 100.
	RiskScore int
	// Splunk is where the splunk profile's detection records land.
	Splunk SplunkOptions
}

// SplunkOptions are the HEC index, source and sourcetype of the splunk
// profile's detection records, set through the com.splunk.* attributes the
// splunk_hec exporter reads.
type SplunkOptions struct {
	Index      string
	Source     string
	Sourcetype string
}

// New returns the named profile.
func New(name string, opts Options) (Profile, error) {
	switch name {
	case ProfileESCU:
		return &escu{riskScore: int64(opts.RiskScore)}, nil
	case ProfileECS:
		return newECS(opts), nil
	case ProfileSplunk:
		return newSplunk(opts), nil
	case ProfileOCSF:
		return newOCSF(opts), nil
	default:
		return nil, fmt.Errorf("unknown profile %q", name)
	}
}

// markDetection sets what every profile's detection record carries besides
// its fields: the event name and a WARN severity.
func markDetection(lr plog.LogRecord) {
	lr.SetEventName(EventName)
	lr.SetSeverityNumber(plog.SeverityNumberWarn)
	lr.SetSeverityText("WARN")
}
