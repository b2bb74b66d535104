package grants

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

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
	return issueUserTokens(ctx, g.tokens, req, userGrant{User: user, Scope: scope})
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

// userGrant is what issueUserTokens issues tokens for.
type userGrant struct {
	User storage.User
	// Scope is the access token's scope.
	Scope []string
	// GrantScope is the refresh token's: the scope of the original grant,
	// which a refresh keeps even when it narrows the access token
	// (RFC 6749 §6). Scope when nil.
	GrantScope []string
	// Family and FamilyExpiresAt are the refreshed token's; zero for a
	// new login.
	Family          string
	FamilyExpiresAt time.Time
}

// issueUserTokens issues an access token for a user and, when the client
// may use refresh_token, a refresh token of the grant's family (a new
// family when empty), bound to the user's generation. The refresh record
// is stored before the answer is returned.
func issueUserTokens(ctx context.Context, iss *tokens.Issuer, req *Request, g userGrant) (*Response, error) {
	var refresh string
	family := g.Family
	if slices.Contains(req.Client.GrantTypes, protocol.GrantRefreshToken) {
		grantScope := g.GrantScope
		if grantScope == nil {
			grantScope = g.Scope
		}
		var err error
		refresh, family, err = iss.IssueRefresh(ctx, req.API.Name, tokens.RefreshGrant{
			ClientID: req.Client.ID, Subject: g.User.Username, Scope: joinScope(grantScope), Tenant: req.Tenant,
			Family: family, FamilyExpiresAt: g.FamilyExpiresAt, MaxLifetime: req.API.RefreshTokenMaxLifetime,
			UserGeneration: g.User.Generation,
		})
		if errors.Is(err, tokens.ErrInvalidToken) {
			return nil, protocol.ErrInvalidGrant.WithDescription("refresh token is invalid, expired or revoked")
		}
		if err != nil {
			return nil, err
		}
	}
	at, err := iss.Issue(ctx, req.API, tokens.AccessRequest{
		Subject: g.User.Username, ClientID: req.Client.ID, Scope: joinScope(g.Scope), Tenant: req.Tenant,
		Username: g.User.Username, Family: family, UserGeneration: g.User.Generation, TTL: accessTTL(req.API, req.Client),
	})
	if err != nil {
		return nil, err
	}
	return bearer(at, refresh, g.Scope), nil
}
