package activityemulator

import (
	"fmt"
	"regexp"
	"time"
)

// The listing rules from the reference: startTime <= contentCreated <
// endTime; both given or neither (neither = the last 24 hours); at most
// 24 hours apart; start no more than 7 days back.
const (
	maxWindow    = 24 * time.Hour
	maxLookback  = 7 * 24 * time.Hour
	blobLifetime = 7 * 24 * time.Hour
)

// documentedTime matches the three formats the reference lists:
// YYYY-MM-DD, YYYY-MM-DDTHH:MM and YYYY-MM-DDTHH:MM:SS, all UTC.
var documentedTime = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2})?)?$`)

var documentedLayouts = []string{"2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02"}

// lenientLayouts are forms outside the reference that a .NET date parser
// accepts, so the live service most likely does too: fractional seconds
// and an explicit zone. They are served, and reported as violations.
var lenientLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999"}

// parseAPITime reads a listing time; documented says whether it was in a
// documented format.
func parseAPITime(v string) (t time.Time, documented, ok bool) {
	if documentedTime.MatchString(v) {
		for _, l := range documentedLayouts {
			if len(l) == len(v) {
				t, err := time.Parse(l, v)
				return t.UTC(), true, err == nil
			}
		}
	}
	for _, l := range lenientLayouts {
		if t, err := time.Parse(l, v); err == nil {
			return t.UTC(), false, true
		}
	}
	return time.Time{}, false, false
}

// window is a checked listing window and the strings a next page repeats.
type window struct {
	start, end         time.Time
	startText, endText string
}

// checkWindow applies the listing rules. It returns the error to answer,
// if any, and every contract breach found, including lenient formats that
// are served anyway.
func checkWindow(startText, endText string, now time.Time) (window, *apiError, []string) {
	var notes []string
	if startText == "" && endText == "" {
		// Paging must repeat a concrete window, and the reference says the
		// service then uses the 24 hours before the request. Whole seconds
		// keep the first page and the next ones on the same bounds.
		end := now.Truncate(time.Second)
		start := end.Add(-maxWindow)
		return window{start, end, start.Format(documentedLayouts[0]), end.Format(documentedLayouts[0])}, nil, nil
	}
	if startText == "" || endText == "" {
		return window{}, &errWindow, []string{"only one of startTime and endTime given"}
	}
	start, sDoc, sOK := parseAPITime(startText)
	if !sOK {
		e := errInvalidParameterType("startTime", "datetime")
		return window{}, &e, []string{fmt.Sprintf("startTime %q is not a time in a documented format", startText)}
	}
	end, eDoc, eOK := parseAPITime(endText)
	if !eOK {
		e := errInvalidParameterType("endTime", "datetime")
		return window{}, &e, []string{fmt.Sprintf("endTime %q is not a time in a documented format", endText)}
	}
	if !sDoc {
		notes = append(notes, fmt.Sprintf("startTime %q is not in a documented format (YYYY-MM-DD, YYYY-MM-DDTHH:MM, YYYY-MM-DDTHH:MM:SS)", startText))
	}
	if !eDoc {
		notes = append(notes, fmt.Sprintf("endTime %q is not in a documented format (YYYY-MM-DD, YYYY-MM-DDTHH:MM, YYYY-MM-DDTHH:MM:SS)", endText))
	}
	switch {
	case !end.After(start):
		notes = append(notes, fmt.Sprintf("endTime %s is not after startTime %s", endText, startText))
	case end.Sub(start) > maxWindow:
		notes = append(notes, fmt.Sprintf("startTime %s and endTime %s are %s apart, more than 24 hours", startText, endText, end.Sub(start)))
	case start.Before(now.Add(-maxLookback)):
		notes = append(notes, fmt.Sprintf("startTime %s is %s before now, more than 7 days", startText, now.Sub(start).Truncate(time.Second)))
	default:
		return window{start, end, startText, endText}, nil, notes
	}
	return window{}, &errWindow, notes
}
