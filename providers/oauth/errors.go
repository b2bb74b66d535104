package oauth

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"

	"golang.org/x/oauth2"

	"github.com/oauth2broker/oauth2broker/providers"
)

// Classify maps an upstream call's error to the providers sentinels. The
// result names the operation, the HTTP status and the RFC 6749 error code,
// never the answer body (it can hold tokens).
func Classify(op string, err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		status := 0
		if re.Response != nil {
			status = re.Response.StatusCode
		}
		return fmt.Errorf("oauth: %s: %w (status %d, error %q)", op, classifyAnswer(status, re.ErrorCode), status, re.ErrorCode)
	}
	var netErr net.Error
	if errors.As(err, &netErr) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return fmt.Errorf("oauth: %s: %w (network: timeout=%v)", op, providers.ErrUnavailable, errors.As(err, &netErr) && netErr.Timeout())
	}
	// x/oauth2 errors without a RetrieveError are about the answer's
	// shape (no access_token, bad JSON); their text holds no body.
	return fmt.Errorf("oauth: %s: %w: unusable answer", op, providers.ErrUpstream)
}

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
