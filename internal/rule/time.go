package rule // import "github.com/o365detect/o365detect/internal/rule"

import (
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/o365detect/o365detect/internal/record"
)

// TimeFormat is security_content_ctime's timeformat, %Y-%m-%dT%H:%M:%S.
const TimeFormat = "2006-01-02T15:04:05"

// ParseCreationTime parses a Management Activity CreationTime. The schema
// writes UTC without a zone ("2025-03-04T10:15:30"). A fraction is accepted,
// and an explicit offset is honoured: "Z", "+02:00", "+0200" or "+02", after
// the seconds or the fraction, with or without spaces around it. Anything
// else after the seconds is ignored, as Splunk's TIME_FORMAT, which stops
// at %S, ignores it: "10:15:30 UTC" is 10:15:30 UTC. A sign that starts no
// offset ("+2", "-05:00:00") makes the time unreadable rather than
// silently UTC.
//
// A time outside the years 1678 to 2261, the span of the Unix nanoseconds
// the journal keeps, is not taken. Splunk would not take one either: by
// default it accepts timestamps from 2000 days back to 2 days ahead
// (MAX_DAYS_AGO, MAX_DAYS_HENCE).
func ParseCreationTime(s string) (time.Time, bool) {
	t, ok := parseCreationTime(s)
	if !ok || t.Year() < 1678 || t.Year() > 2261 {
		return time.Time{}, false
	}
	return t, true
}

func parseCreationTime(s string) (time.Time, bool) {
	if t, ok := parseUTCSeconds(s); ok {
		return t, true
	}
	for _, layout := range zonedLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	if t, err := time.Parse(TimeFormat, s); err == nil {
		return t, true
	}
	if len(s) <= len(TimeFormat) {
		return time.Time{}, false
	}
	t, ok := parseUTCSeconds(s[:len(TimeFormat)])
	if !ok {
		return time.Time{}, false
	}
	return withTrailer(t, s[len(TimeFormat):])
}

// zonedLayouts are the CreationTime layouts whose zone is honoured.
var zonedLayouts = []string{time.RFC3339, "2006-01-02T15:04:05Z0700"}

// withTrailer applies what follows the seconds to t: an offset is honoured,
// anything else ignored. A fraction is dropped: the output has whole
// seconds.
func withTrailer(t time.Time, rest string) (time.Time, bool) {
	if len(rest) > 1 && (rest[0] == '.' || rest[0] == ',') && isDigit(rest[1]) {
		rest = strings.TrimLeft(rest[1:], "0123456789")
	}
	rest = strings.Trim(rest, " ")
	if rest == "" || (rest[0] != '+' && rest[0] != '-') {
		return t, true
	}
	for _, layout := range offsetLayouts {
		if z, err := time.Parse(layout, rest); err == nil {
			_, offset := z.Zone()
			return t.Add(-time.Duration(offset) * time.Second), true
		}
	}
	return time.Time{}, false
}

// offsetLayouts are the numeric offsets withTrailer honours.
var offsetLayouts = []string{"-07:00", "-0700", "-07"}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// FormatTime renders an event time as security_content_ctime does, in UTC:
// no zone and no fraction (truncated, as strftime's %S is).
func FormatTime(t time.Time) string {
	return t.UTC().Format(TimeFormat)
}

// parseUTCSeconds parses the schema's own layout, 2006-01-02T15:04:05 with
// no fraction or zone, without time.Parse's generality: it is what nearly
// every record carries, and this path runs once per match.
func parseUTCSeconds(s string) (time.Time, bool) {
	if len(s) != len(TimeFormat) || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' {
		return time.Time{}, false
	}
	year, ok1 := digits(s[0:4])
	month, ok2 := digits(s[5:7])
	day, ok3 := digits(s[8:10])
	hour, ok4 := digits(s[11:13])
	minute, ok5 := digits(s[14:16])
	sec, ok6 := digits(s[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || month < 1 || month > 12 || day < 1 ||
		day > daysIn(time.Month(month), year) || hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false
	}
	return time.Date(year, time.Month(month), day, hour, minute, sec, 0, time.UTC), true
}

func digits(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func daysIn(m time.Month, year int) int {
	return time.Date(year, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// EventTime is a Management Activity record's _time: its CreationTime, else
// the log record's Timestamp, else its ObservedTimestamp, else the arrival
// time.
func EventTime(creationTime string, lr plog.LogRecord, arrived time.Time) time.Time {
	if t, ok := ParseCreationTime(creationTime); ok {
		return t
	}
	if ts := lr.Timestamp(); ts != 0 {
		return ts.AsTime()
	}
	if ts := lr.ObservedTimestamp(); ts != 0 {
		return ts.AsTime()
	}
	return arrived
}

// EntraEventTime is an Entra record's _time: activityDateTime, else the
// diagnostic record's own time, else what EventTime falls back to. A
// translated record carries no time of its own: its Timestamp is the
// diagnostic record's time, so the order is the same in every shape.
func EntraEventTime(e *record.EntraRecord, lr plog.LogRecord, arrived time.Time) time.Time {
	if t, ok := ParseCreationTime(e.Time); ok {
		return t
	}
	return EventTime(e.RecordTime, lr, arrived)
}
