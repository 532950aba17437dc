package rule // import "github.com/o365detect/o365detect/internal/rule"

import "time"

// TimeFormat is security_content_ctime's timeformat, %Y-%m-%dT%H:%M:%S.
const TimeFormat = "2006-01-02T15:04:05"

// ParseCreationTime parses a Management Activity CreationTime. The schema
// writes UTC without a zone ("2025-03-04T10:15:30"); a fraction, "Z" or an
// explicit offset are accepted too (time.Parse accepts a fraction after the
// seconds even when the layout has none).
func ParseCreationTime(s string) (time.Time, bool) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), true
	}
	if t, err := time.Parse(TimeFormat, s); err == nil {
		return t, true
	}
	return time.Time{}, false
}

// FormatTime renders an event time as security_content_ctime does, in UTC:
// no zone and no fraction (truncated, as strftime's %S is).
func FormatTime(t time.Time) string {
	return t.UTC().Format(TimeFormat)
}
