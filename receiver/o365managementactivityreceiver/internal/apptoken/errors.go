package apptoken // import "github.com/o365detect/o365detect/receiver/o365managementactivityreceiver/internal/apptoken"

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"golang.org/x/oauth2"
)

// Error is a token request that Entra ID (or whatever answers at the login
// endpoint) refused.
type Error struct {
	// StatusCode is the HTTP status of the answer.
	StatusCode int
	// Code is the first AADSTS code of the answer, such as "AADSTS7000215";
	// "" when the body had none.
	Code string
	// Description is the first line of error_description without its AADSTS
	// prefix; the Trace ID, Correlation ID and Timestamp lines that follow
	// it are dropped.
	Description string
	// OAuthError is the OAuth 2.0 error field, such as "invalid_client".
	OAuthError string

	// codes are all the AADSTS codes of the answer, in its order.
	codes []string
}

// Error names the likely cause first, then what Entra ID said.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("token request refused: ")
	b.WriteString(e.cause())
	switch {
	case e.Code != "" && e.Description != "":
		fmt.Fprintf(&b, " (%s: %s)", e.Code, e.Description)
	case e.Code != "":
		fmt.Fprintf(&b, " (%s)", e.Code)
	case e.Description != "":
		fmt.Fprintf(&b, " (%s)", e.Description)
	}
	return b.String()
}

// Permanent reports whether sending the same request again soon cannot help:
// the configuration or the app registration has to change first. Throttling,
// timeouts and server errors are not permanent.
func (e *Error) Permanent() bool {
	if k, ok := e.known(); ok {
		return k.permanent
	}
	switch {
	case e.StatusCode == http.StatusTooManyRequests,
		e.StatusCode == http.StatusRequestTimeout,
		e.StatusCode >= 500,
		e.OAuthError == "temporarily_unavailable":
		return false
	case e.StatusCode >= 400:
		return true
	default:
		// A 2xx answer carrying an OAuth error.
		return e.OAuthError != ""
	}
}

// known returns the table entry of the first code of the answer that the
// table has.
func (e *Error) known() (knownCode, bool) {
	for _, c := range e.codes {
		if k, ok := knownCodes[c]; ok {
			return k, true
		}
	}
	return knownCode{}, false
}

func (e *Error) cause() string {
	if k, ok := e.known(); ok {
		return k.cause
	}
	if c, ok := oauthCauses[e.OAuthError]; ok {
		return c
	}
	if e.OAuthError != "" {
		return fmt.Sprintf("HTTP %d %s", e.StatusCode, e.OAuthError)
	}
	return fmt.Sprintf("HTTP %d %s", e.StatusCode, http.StatusText(e.StatusCode))
}

// maxDescription bounds the description kept, so that an odd server cannot
// flood the logs through it.
const maxDescription = 512

// aadstsPrefix matches the code Entra ID puts before its description.
var aadstsPrefix = regexp.MustCompile(`^(AADSTS\d+):\s*`)

// errorBody is the part of Entra ID's error answer that is kept.
type errorBody struct {
	Error       string  `json:"error"`
	Description string  `json:"error_description"`
	Codes       []int64 `json:"error_codes"`
}

// newError turns a refused request into an *Error. Only the parsed fields are
// kept, never the raw body, and any of the secrets found in them is replaced,
// should a server echo what it was sent.
func newError(re *oauth2.RetrieveError, secrets ...string) *Error {
	e := &Error{OAuthError: re.ErrorCode}
	if re.Response != nil {
		e.StatusCode = re.Response.StatusCode
	}
	description := re.ErrorDescription
	var body errorBody
	if json.Unmarshal(re.Body, &body) == nil {
		if body.Error != "" {
			e.OAuthError = body.Error
		}
		if body.Description != "" {
			description = body.Description
		}
		for _, c := range body.Codes {
			e.codes = append(e.codes, "AADSTS"+strconv.FormatInt(c, 10))
		}
	}

	description, _, _ = strings.Cut(description, "\n")
	description = strings.TrimSpace(description)
	if m := aadstsPrefix.FindStringSubmatch(description); m != nil {
		if len(e.codes) == 0 {
			e.codes = []string{m[1]}
		}
		description = description[len(m[0]):]
	}
	if len(e.codes) > 0 {
		e.Code = e.codes[0]
	}
	// Redact before cutting, or a cut could leave part of a secret behind.
	e.OAuthError = truncate(redact(e.OAuthError, secrets), 64)
	e.Description = truncate(redact(description, secrets), maxDescription)
	return e
}

// requestError wraps an error that is not a refusal (the network, a bad
// answer). Such errors name the URL, never the body; should one still hold a
// secret, it is rebuilt from its redacted text.
func requestError(err error, secrets ...string) error {
	msg := err.Error()
	if red := redact(msg, secrets); red != msg {
		return errors.New("token request failed: " + red)
	}
	return fmt.Errorf("token request failed: %w", err)
}

// redact replaces each secret, as sent and as form-encoded, since a server
// echoing the request body would quote it encoded.
func redact(s string, secrets []string) string {
	for _, secret := range secrets {
		if secret == "" {
			continue
		}
		s = strings.ReplaceAll(s, secret, "[redacted]")
		s = strings.ReplaceAll(s, url.QueryEscape(secret), "[redacted]")
	}
	return s
}

// truncate cuts s to at most n bytes without splitting a character.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !isRuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}

func isRuneStart(b byte) bool { return b&0xc0 != 0x80 }
