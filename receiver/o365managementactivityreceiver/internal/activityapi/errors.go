package activityapi // import "github.com/o365detect/o365detect/receiver/o365managementactivityreceiver/internal/activityapi"

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Error is a request the API answered with an error.
type Error struct {
	Op     Op
	Status int
	// Code is the API's error code, such as AF20022; "" when the body had
	// none.
	Code    string
	Message string
}

func (e *Error) Error() string {
	if e.Code == "" {
		return fmt.Sprintf("%s: HTTP %d", e.Op, e.Status)
	}
	return fmt.Sprintf("%s: HTTP %d %s: %s", e.Op, e.Status, e.Code, e.Message)
}

// errorBody is the API's error document: {"error":{"code":..,"message":..}}.
type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// retryable reports whether the request may succeed if sent again: the
// throttling, timeout and internal errors of the API reference.
func (e *Error) retryable() bool {
	switch {
	case e.Status == http.StatusTooManyRequests, e.Code == "AF429":
		return true
	case e.Status == http.StatusRequestTimeout, e.Status >= 500:
		return true
	case strings.HasPrefix(e.Code, "AF5000"):
		return true
	}
	return false
}

func (e *Error) throttled() bool {
	return e.Status == http.StatusTooManyRequests || e.Code == "AF429"
}

// IsSubscriptionMissing reports whether err says the content type has no
// subscription (AF20022) or a disabled one (AF20023): start it again.
func IsSubscriptionMissing(err error) bool {
	var e *Error
	return errors.As(err, &e) && (e.Code == "AF20022" || e.Code == "AF20023")
}

// IsAlreadyEnabled reports whether err is AF20024, a subscription that is
// already enabled: the start succeeded in effect.
func IsAlreadyEnabled(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == "AF20024"
}

// IsExpired reports whether err is AF20051: the blob's content expired
// (it is kept 7 days) and cannot be had.
func IsExpired(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == "AF20051"
}

// IsUnavailable reports whether err says a listed blob cannot be had:
// expired (AF20051) or not found (AF20050).
func IsUnavailable(err error) bool {
	var e *Error
	return errors.As(err, &e) && (e.Code == "AF20051" || e.Code == "AF20050")
}

// IsTokenError reports whether err is a failure to obtain a token: no
// request reached the API.
func IsTokenError(err error) bool { return errors.As(err, new(*tokenError)) }

// IsAuthError reports whether err is a refused or unobtainable token, or an
// API answer of 401 or 403 after a renewal: every other request would fail
// the same way.
func IsAuthError(err error) bool {
	if errors.As(err, new(*tokenError)) {
		return true
	}
	var e *Error
	return errors.As(err, &e) && (e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden)
}

// IsFatal reports whether err is one of the configuration errors the API
// reference lists (AF20001 to AF20003, AF20010 to AF20013, AF20020 and
// AF20021: an invalid parameter, tenant or content type), which polling
// again cannot mend. A 401 or 403 is not: an admin may grant the missing
// permission while the collector runs.
func IsFatal(err error) bool {
	var e *Error
	if !errors.As(err, &e) {
		return false
	}
	switch e.Code {
	case "AF20001", "AF20002", "AF20003",
		"AF20010", "AF20011", "AF20012", "AF20013",
		"AF20020", "AF20021":
		return true
	}
	return false
}
