package protocol

import (
	"errors"
	"maps"
	"net/http"
	"time"
)

// Error is an OAuth 2.0 error answer (RFC 6749 §5.2). Values are shared:
// use the With* helpers, which return copies, to add detail.
type Error struct {
	// Code is the "error" member.
	Code string
	// Description is the "error_description" member: human readable, and
	// never holding a token, secret or password.
	Description string
	// Status is the HTTP status of the answer.
	Status int
	// Extra members added to the answer (for example connection_status).
	Extra map[string]any
	// WWWAuthenticate, when set, is sent as the WWW-Authenticate header
	// (RFC 6749 §5.2: 401 for failed HTTP Basic authentication).
	WWWAuthenticate string
	// RetryAfter, when positive, is sent as the Retry-After header in
	// whole seconds, rounded up (RFC 9110 §10.2.3), with 503 and 429
	// answers.
	RetryAfter time.Duration
	// cause is logged by the error writer's caller, never shown.
	cause error
}

// Predeclared errors, one per code (RFC 6749 §5.2, RFC 7009 §2.2.1).
var (
	ErrInvalidRequest          = &Error{Code: "invalid_request", Status: http.StatusBadRequest}
	ErrInvalidClient           = &Error{Code: "invalid_client", Status: http.StatusUnauthorized}
	ErrInvalidGrant            = &Error{Code: "invalid_grant", Status: http.StatusBadRequest}
	ErrUnauthorizedClient      = &Error{Code: "unauthorized_client", Status: http.StatusBadRequest}
	ErrUnsupportedGrantType    = &Error{Code: "unsupported_grant_type", Status: http.StatusBadRequest}
	ErrInvalidScope            = &Error{Code: "invalid_scope", Status: http.StatusBadRequest}
	ErrInvalidTarget           = &Error{Code: "invalid_target", Status: http.StatusBadRequest}
	ErrUnsupportedTokenType    = &Error{Code: "unsupported_token_type", Status: http.StatusBadRequest}
	ErrAccessDenied            = &Error{Code: "access_denied", Status: http.StatusForbidden}
	ErrNotFound                = &Error{Code: "not_found", Status: http.StatusNotFound}
	ErrConflict                = &Error{Code: "conflict", Status: http.StatusConflict}
	ErrMethodNotAllowed        = &Error{Code: "invalid_request", Status: http.StatusMethodNotAllowed, Description: "method not allowed"}
	ErrRequestTooLarge         = &Error{Code: "invalid_request", Status: http.StatusRequestEntityTooLarge, Description: "request body is larger than 1 MiB"}
	ErrServerError             = &Error{Code: "server_error", Status: http.StatusInternalServerError}
	ErrTemporarilyUnavailable  = &Error{Code: "temporarily_unavailable", Status: http.StatusServiceUnavailable}
	ErrUpstreamError           = &Error{Code: "upstream_error", Status: http.StatusBadGateway}
	ErrSlowDown                = &Error{Code: "slow_down", Status: http.StatusTooManyRequests}
	ErrUnsupportedResponseType = &Error{Code: "unsupported_response_type", Status: http.StatusBadRequest}
	// ErrInsufficientScope is RFC 6750 §3.1's code: the upstream wants
	// scopes the connection was not granted (the proxy's step-up answer).
	ErrInsufficientScope = &Error{Code: "insufficient_scope", Status: http.StatusForbidden}
)

// Error implements error. It never includes the cause.
func (e *Error) Error() string {
	if e.Description == "" {
		return e.Code
	}
	return e.Code + ": " + e.Description
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.cause }

// Is matches errors with the same code and status, so that
// errors.Is(err, ErrInvalidGrant) holds for any copy of it.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code && t.Status == e.Status
}

func (e *Error) clone() *Error {
	c := *e
	c.Extra = maps.Clone(e.Extra)
	return &c
}

// WithDescription returns a copy with the given description.
func (e *Error) WithDescription(d string) *Error {
	c := e.clone()
	c.Description = d
	return c
}

// WithCause returns a copy that wraps cause, for logging.
func (e *Error) WithCause(cause error) *Error {
	c := e.clone()
	c.cause = cause
	return c
}

// WithStatus returns a copy with another HTTP status.
func (e *Error) WithStatus(status int) *Error {
	c := e.clone()
	c.Status = status
	return c
}

// WithExtra returns a copy with one more answer member.
func (e *Error) WithExtra(key string, value any) *Error {
	c := e.clone()
	if c.Extra == nil {
		c.Extra = map[string]any{}
	}
	c.Extra[key] = value
	return c
}

// WithWWWAuthenticate returns a copy that sends the header.
func (e *Error) WithWWWAuthenticate(v string) *Error {
	c := e.clone()
	c.WWWAuthenticate = v
	return c
}

// WithRetryAfter returns a copy that tells the client how long to wait.
func (e *Error) WithRetryAfter(d time.Duration) *Error {
	c := e.clone()
	c.RetryAfter = d
	return c
}

// AsError converts any error to an *Error: an *Error in the chain is
// returned as is; anything else becomes a server_error wrapping it.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return ErrServerError.WithCause(err)
}

// Body returns the JSON members of the answer.
func (e *Error) Body() map[string]any {
	body := make(map[string]any, 2+len(e.Extra))
	maps.Copy(body, e.Extra)
	body["error"] = e.Code
	if e.Description != "" {
		body["error_description"] = e.Description
	}
	return body
}
