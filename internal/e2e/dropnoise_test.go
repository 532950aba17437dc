package e2e

import (
	"encoding/json"
	"slices"
)

// noise is what config/drop-noise.yaml says it drops: per workload, the
// operations that are most of the audit volume and rarely security-relevant.
// It is written here from the config's comment, not read from its filter,
// so that a filter that drops more or less than it says fails the store
// test.
var noise = map[string][]string{
	"SharePoint":     {"FileAccessed", "FilePreviewed", "PageViewed", "PageViewedExtended"},
	"OneDrive":       {"FileAccessed", "FilePreviewed", "PageViewed", "PageViewedExtended"},
	"MicrosoftTeams": {"MessageSent", "TeamsSessionStarted"},
}

// isNoise reports whether an audit line is one config/drop-noise.yaml drops.
// A line that is not JSON is kept, as the filter fails open.
func isNoise(line string) bool {
	var rec struct {
		Workload  string
		Operation string
	}
	if err := json.Unmarshal([]byte(line), &rec); err != nil {
		return false
	}
	return slices.Contains(noise[rec.Workload], rec.Operation)
}
