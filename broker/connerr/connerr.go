package connerr

import (
	"errors"
	"net/http"
	"time"

	"github.com/oauth2broker/oauth2broker/broker/protocol"
)

// Kind is the class of a connection failure.
type Kind int

// Kinds of connection failures.
const (
	// Invalid: the request is malformed or names what is not there
	// (an identity, a provider, a binding).
	Invalid Kind = iota + 1
	// NotFound: no connection or pending connection matches.
	NotFound
	// NeedsReauth: the user's grant is dead; the user must reconnect.
	NeedsReauth
	// GrantRefused: the provider refused the user's authorization code.
	GrantRefused
	// Denied: the caller is not the one the flow belongs to (another
	// browser, another binding).
	Denied
	// ScopeRefused: a requested scope is not allowed for the provider.
	ScopeRefused
	// TooManyStates: the user has too many flows in progress; RetryAfter
	// says when one expires.
	TooManyStates
	// Unavailable: the provider (or the store) cannot answer now;
	// RetryAfter, when set, says how long to wait.
	Unavailable
	// Upstream: the provider's answer could not be used, or it refused
	// the broker's own client credentials (Degraded when the connection
	// is kept).
	Upstream
	// ProviderAnswered: the provider ended the flow with an error code
	// of its own (Code).
	ProviderAnswered
)

// Error is a connection failure. Description is human readable and holds
// no token, secret or upstream body.
type Error struct {
	Kind        Kind
	Description string
	// ConnectionStatus, when set, tells the app the connection's status
	// (none, needs_reauth, revoked, degraded).
	ConnectionStatus string
	// RetryAfter, when positive, is how long the caller should wait.
	RetryAfter time.Duration
	// Code is the provider's error code (ProviderAnswered).
	Code string
	// Err is the cause, logged and never shown.
	Err error
}

// New returns an error of kind with a description.
func New(kind Kind, description string) *Error {
	return &Error{Kind: kind, Description: description}
}

// Error implements error.
func (e *Error) Error() string {
	if e.Err == nil {
		return "connections: " + e.Description
	}
	return "connections: " + e.Description + ": " + e.Err.Error()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// With returns a copy of e with cause.
func (e *Error) With(cause error) *Error {
	c := *e
	c.Err = cause
	return &c
}

// answers is the RFC 6749 answer of each kind.
var answers = map[Kind]*protocol.Error{
	Invalid:       protocol.ErrInvalidRequest,
	NotFound:      protocol.ErrInvalidGrant,
	NeedsReauth:   protocol.ErrInvalidGrant,
	GrantRefused:  protocol.ErrInvalidGrant,
	Denied:        protocol.ErrAccessDenied,
	ScopeRefused:  protocol.ErrInvalidScope,
	TooManyStates: protocol.ErrSlowDown,
	Unavailable:   protocol.ErrTemporarilyUnavailable,
	Upstream:      protocol.ErrUpstreamError,
}

// Answer returns the RFC 6749 answer of the connection failure in err's
// chain, wrapping err for the log, or err itself when it holds none.
func Answer(err error) error {
	var ce *Error
	if !errors.As(err, &ce) {
		return err
	}
	e, ok := answers[ce.Kind]
	if ce.Kind == ProviderAnswered || !ok {
		e = &protocol.Error{Code: ce.Code, Status: http.StatusBadRequest}
	}
	e = e.WithDescription(ce.Description)
	if ce.ConnectionStatus != "" {
		e = e.WithExtra("connection_status", ce.ConnectionStatus)
	}
	if ce.RetryAfter > 0 {
		e = e.WithRetryAfter(ce.RetryAfter)
	}
	if ce.Err != nil {
		e = e.WithCause(ce.Err)
	}
	return e
}

// Brief returns the error code and description of err's answer, and
// whether the failure is the server's (a 5xx status): what a failed flow
// sends back to the app's return URL or shows the browser.
func Brief(err error) (code, description string, server bool) {
	e := protocol.AsError(Answer(err))
	return e.Code, e.Description, e.Status >= http.StatusInternalServerError
}
