package oauth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"

	"github.com/oauth2broker/oauth2broker/outbound"
	"github.com/oauth2broker/oauth2broker/providers"
)

// Classify maps a failed upstream call (no usable HTTP answer) to the
// providers sentinels. The result never carries an answer body: it can
// hold tokens. A call the outbound policy stopped (a redirect, a refused
// address, an oversized answer) is ErrUpstream, with the policy's reason.
func Classify(op string, err error) error {
	if cause := outbound.Cause(err); cause != nil {
		return fmt.Errorf("oauth: %s: %w: %w", op, providers.ErrUpstream, cause)
	}
	var netErr net.Error
	if errors.As(err, &netErr) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("oauth: %s: %w (network: timeout=%v)", op, providers.ErrUnavailable, errors.As(err, &netErr) && netErr.Timeout())
	}
	return fmt.Errorf("oauth: %s: %w", op, providers.ErrUnavailable)
}

// classifyAnswer maps an error answer's status and RFC 6749 §5.2 code.
func classifyAnswer(status int, code string) error {
	switch {
	case code == "invalid_grant":
		return providers.ErrInvalidGrant
	case code == "invalid_client" || code == "unauthorized_client":
		return providers.ErrInvalidClient
	case status >= 500 || status == http.StatusTooManyRequests || code == "temporarily_unavailable" || code == "server_error":
		return providers.ErrUnavailable
	}
	return providers.ErrUpstream
}

// classifyTokenAnswer is classifyAnswer for the token endpoint, where a
// 401 without an error code is a failed client authentication
// (RFC 6749 §5.2: invalid_client "MAY" come as a 401; reddit answers a
// bare 401 to bad client credentials).
func classifyTokenAnswer(status int, code string) error {
	if status == http.StatusUnauthorized && code == "" {
		return providers.ErrInvalidClient
	}
	return classifyAnswer(status, code)
}

// SafeCode returns an upstream error code fit for logs: RFC 6749 §5.2
// codes are short printable ASCII; anything else (which could carry a
// token) is replaced.
func SafeCode(code string) string {
	if len(code) > 64 {
		return "(malformed)"
	}
	for _, r := range code {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '.' || r == '-') {
			return "(malformed)"
		}
	}
	return code
}
