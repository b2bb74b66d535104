package providertest

import (
	"context"
	"time"

	"github.com/zitadel/oidc/v3/example/server/storage"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// cappedStorage is the example storage with a shorter access-token expiry
// reported to the OP, which turns it into the expires_in of token answers.
// Every other method, including the optional interfaces the OP looks for
// by type assertion, is the example storage's own, by embedding.
type cappedStorage struct {
	*storage.Storage
	lifetime time.Duration
	now      func() time.Time
}

// CreateAccessToken implements op.Storage.
func (s *cappedStorage) CreateAccessToken(ctx context.Context, req op.TokenRequest) (string, time.Time, error) {
	id, exp, err := s.Storage.CreateAccessToken(ctx, req)
	return id, s.capped(exp), err
}

// CreateAccessAndRefreshTokens implements op.Storage.
func (s *cappedStorage) CreateAccessAndRefreshTokens(ctx context.Context, req op.TokenRequest, currentRefreshToken string) (string, string, time.Time, error) {
	id, refresh, exp, err := s.Storage.CreateAccessAndRefreshTokens(ctx, req, currentRefreshToken)
	return id, refresh, s.capped(exp), err
}

// capped returns exp, or now+lifetime when that is earlier. Half a second
// is added because the OP truncates the time left to whole seconds for
// expires_in, after its own processing time has passed.
func (s *cappedStorage) capped(exp time.Time) time.Time {
	if limit := s.now().Add(s.lifetime + 500*time.Millisecond); limit.Before(exp) {
		return limit
	}
	return exp
}
