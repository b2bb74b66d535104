package oauth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"

	"github.com/oauth2broker/oauth2broker/providers"
)

// Classify maps a failed upstream call (no usable HTTP answer) to the
// providers sentinels. The result never carries an answer body: it can
// hold tokens.
func Classify(op string, err error) error {
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
