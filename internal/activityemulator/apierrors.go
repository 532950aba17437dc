package activityemulator

import (
	"bytes"
	"encoding/json"
	"math"
	"net/http"
	"strconv"
	"time"
)

// apiError is one answer in the API's documented error shape,
// {"error":{"code":"AF...","message":"..."}}. The codes and message texts
// are those of the reference's error table; the reference gives no status
// per code, so the statuses are the ones clients in the wild record:
// 400 for AF2xxxx (seen for AF20022, AF20024, AF20030), 401 for AF10001.
type apiError struct {
	status  int
	code    string
	message string
}

func errMissingParameter(name string) apiError {
	return apiError{http.StatusBadRequest, "AF20001", "Missing parameter: " + name + "."}
}

func errInvalidParameterType(name, expected string) apiError {
	return apiError{http.StatusBadRequest, "AF20002", "Invalid parameter type: " + name + ". Expected type: " + expected}
}

// errTenantMismatch is answered 401: it is the token that does not fit.
func errTenantMismatch(urlTenant, tokenTenant string) apiError {
	return apiError{http.StatusUnauthorized, "AF20010",
		"The tenant ID passed in the URL (" + urlTenant + ") does not match the tenant ID passed in the access token (" + tokenTenant + ")."}
}

func errTenantNotGUID(urlTenant string) apiError {
	return apiError{http.StatusBadRequest, "AF20013", "The tenant ID passed in the URL (" + urlTenant + ") is not a valid GUID."}
}

var (
	errInvalidContentType = apiError{http.StatusBadRequest, "AF20020", "The specified content type is not valid."}
	errNoSubscription     = apiError{http.StatusBadRequest, "AF20022", "No subscription found for the specified content type."}
	// AF20024 is missing from the reference's table; code, status and
	// text are what the live service answers to a second start, as
	// recorded by many clients.
	errAlreadyEnabled = apiError{http.StatusBadRequest, "AF20024", "The subscription is already enabled. No property change."}
	// errWindow covers every listing-window rule. Clients also report
	// AF20055 from the live service for the same rules; the reference
	// documents only AF20030, so that is what is answered.
	errWindow = apiError{http.StatusBadRequest, "AF20030",
		"Start time and end time must both be specified (or both omitted) and must be less than or equal to 24 hours apart, with the start time no more than 7 days in the past."}
	errInternal = apiError{http.StatusInternalServerError, "AF50000", "An internal error occurred. Retry the request."}
)

func errSubscriptionDisabled(by string) apiError {
	return apiError{http.StatusBadRequest, "AF20023", "The subscription was disabled by " + by + "."}
}

func errInvalidNextPage(v string) apiError {
	return apiError{http.StatusBadRequest, "AF20031", "Invalid nextPage Input: " + v + "."}
}

// errNoContent: the status is not documented; 400 like the other AF2xxxx.
func errNoContent(id string) apiError {
	return apiError{http.StatusBadRequest, "AF20050", "The specified content (" + id + ") does not exist."}
}

func errExpired(id string) apiError {
	return apiError{http.StatusBadRequest, "AF20051",
		"Content requested with the key " + id + " has already expired. Content older than 7 days cannot be retrieved."}
}

// errThrottled follows the reference's text. The troubleshooting page
// shows the live service naming the operation ("Method=GetBlob") rather
// than the HTTP method, and the all-zero GUID when PublisherIdentifier is
// missing; both are reproduced. It also shows status 403 there; 429 is
// what the current service sends, and FailNext can produce the 403 form.
func errThrottled(method, publisher string) apiError {
	if publisher == "" {
		publisher = "00000000-0000-0000-0000-000000000000"
	}
	return apiError{http.StatusTooManyRequests, "AF429", "Too many requests. Method=" + method + ", PublisherId=" + publisher}
}

// documentedMessage is the reference's text for code when the text needs
// no detail of the request, so that a Fault may leave Message empty.
func documentedMessage(code, method, publisher string) string {
	switch code {
	case "AF429":
		return errThrottled(method, publisher).message
	case "AF50000":
		return errInternal.message
	case "AF20020":
		return errInvalidContentType.message
	case "AF20022":
		return errNoSubscription.message
	case "AF20023":
		return errSubscriptionDisabled("a service admin").message
	case "AF20024":
		return errAlreadyEnabled.message
	case "AF20030":
		return errWindow.message
	}
	return ""
}

func writeAPIError(w http.ResponseWriter, e apiError, retryAfter time.Duration) {
	setRetryAfter(w, retryAfter)
	body := struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}{}
	body.Error.Code = e.code
	body.Error.Message = e.message
	writeJSON(w, e.status, body)
}

// writeDenied is the answer to a missing, unknown, expired or revoked
// token. The pages do not show it; the live API is an ASP.NET service and
// clients record this exact body with 401 for a bad token.
func writeDenied(w http.ResponseWriter) {
	w.Header().Set("WWW-Authenticate", "Bearer")
	writeJSON(w, http.StatusUnauthorized, map[string]string{"Message": "Authorization has been denied for this request."})
}

func setRetryAfter(w http.ResponseWriter, d time.Duration) {
	if d <= 0 {
		return
	}
	w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(d.Seconds()))))
}

// writeJSON answers v as JSON the way the service labels it.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// marshal leaves <, > and & alone, as .NET serialisers do.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
