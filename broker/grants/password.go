package grants

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/oauth2broker/oauth2broker/broker/protocol"
	"github.com/oauth2broker/oauth2broker/broker/secret"
	"github.com/oauth2broker/oauth2broker/broker/tokens"
	"github.com/oauth2broker/oauth2broker/storage"
)

// password is the resource owner password credentials grant (RFC 6749
// §4.3): a user of the API logs in with username and password.
type password struct {
	store  storage.Storage
	tokens *tokens.Issuer
	// byAddress locks (username, client address) pairs; byUser slows a
	// username down whatever the address, except from the addresses in
	// known (see throttle.go).
	byAddress, byUser *throttle
	known             *knownAddresses
	// gate bounds the password checks running at once and waiting, and
	// sources the failed logins per client address (password_login.go).
	gate    *hashGate
	sources *sourceLimiter
	// check is secret.CheckPassword; tests count or block hashes here.
	check func(hash, password string) (bool, error)
}

var _ Grant = (*password)(nil)

// dummyHash is checked when the user does not exist, so that a missing
// user costs the same time as a wrong password.
var dummyHash = sync.OnceValue(func() string {
	h, _ := secret.HashPassword("oauth2broker dummy password")
	return h
})

var errBadLogin = protocol.ErrInvalidGrant.WithDescription("invalid username or password")

// maxUsernameBytes bounds usernames (the admin API allows 256).
const maxUsernameBytes = 256

func (g *password) Handle(ctx context.Context, req *Request) (*Response, error) {
	username, pw := req.Params.Get("username"), req.Params.Get("password")
	if username == "" || pw == "" {
		return nil, protocol.ErrInvalidRequest.WithDescription("username and password are required")
	}
	if len(username) > maxUsernameBytes || len(pw) > 1024 {
		return nil, errBadLogin
	}
	user, err := g.login(ctx, req, username, pw)
	if err != nil {
		return nil, err
	}
	scope, err := userScope(req, user)
	if err != nil {
		return nil, err
	}
	return issueUserTokens(ctx, g.tokens, req, user.Username, scope, "")
}

func (g *password) checkLogin(ctx context.Context, api, username, pw string) (storage.User, error) {
	user, err := g.store.GetUser(ctx, api, username)
	if errors.Is(err, storage.ErrNotFound) {
		_, _ = g.check(dummyHash(), pw)
		return user, errBadLogin
	}
	if err != nil {
		return user, err
	}
	ok, err := g.check(user.PasswordHash, pw)
	if err != nil {
		return user, fmt.Errorf("grants: user %q: %w", username, err)
	}
	if !ok {
		return user, errBadLogin
	}
	return user, nil
}

// userScope is the scope granted to a user through a client: the request's
// (which must be within both), else every scope the two share.
func userScope(req *Request, user storage.User) ([]string, error) {
	if req.Scope == nil {
		return intersect(req.Client.Scopes, user.Scopes), nil
	}
	if !subset(req.Scope, user.Scopes) {
		return nil, protocol.ErrInvalidScope.WithDescription("requested scope exceeds the user's scopes")
	}
	return req.Scope, nil
}

// issueUserTokens issues an access token for a user and, when the client
// may use refresh_token, a refresh token of family (a new family when
// empty). The refresh record is stored before the answer is returned.
func issueUserTokens(ctx context.Context, iss *tokens.Issuer, req *Request, username string, scope []string, family string) (*Response, error) {
	var refresh string
	if slices.Contains(req.Client.GrantTypes, protocol.GrantRefreshToken) {
		var err error
		refresh, family, err = iss.IssueRefresh(ctx, req.API.Name, tokens.RefreshGrant{
			ClientID: req.Client.ID, Subject: username, Scope: joinScope(scope), Tenant: req.Tenant, Family: family,
		})
		if err != nil {
			return nil, err
		}
	}
	at, err := iss.Issue(ctx, req.API, tokens.AccessRequest{
		Subject: username, ClientID: req.Client.ID, Scope: joinScope(scope), Tenant: req.Tenant,
		Username: username, Family: family, TTL: accessTTL(req.API, req.Client),
	})
	if err != nil {
		return nil, err
	}
	return bearer(at, refresh, scope), nil
}
