package admin

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/oauth2broker/oauth2broker/broker/secret"
	"github.com/oauth2broker/oauth2broker/providers"
	"github.com/oauth2broker/oauth2broker/storage"
)

// Declaration is a declarative set-up (the YAML configuration file): APIs
// with their clients, users and providers. Declare makes the store match it.
type Declaration struct {
	APIs []APISpec
}

// APISpec declares an API and what it owns.
type APISpec struct {
	Name               string
	Tenants            []string
	AccessTokenTTL     time.Duration
	TokenPaths         []string
	SigningAlg         string
	TokenFormat        string
	Audience           string
	DefaultClient      string
	ExposeRefreshToken bool
	Clients            []DeclaredClient
	Users              []UserSpec
	Providers          map[string]providers.Config
	// RefreshTokenMaxLifetime is the refresh-token family lifetime; zero
	// means the default.
	RefreshTokenMaxLifetime time.Duration
}

// DeclaredClient is a client with a secret chosen by the operator (a
// declarative set-up cannot show a generated secret to anyone).
type DeclaredClient struct {
	ClientSpec
	Secret string
}

// Declare creates or updates every declared object. Objects that exist but
// are not declared are left alone. Declare is idempotent.
func (s *API) Declare(ctx context.Context, d Declaration) error {
	for _, a := range d.APIs {
		if err := s.applyAPI(ctx, a); err != nil {
			return fmt.Errorf("admin: api %q: %w", a.Name, err)
		}
	}
	return nil
}

// checkLifetimes checks the lifetimes a spec declares.
func checkLifetimes(sp APISpec) error {
	for _, ttl := range append([]time.Duration{sp.AccessTokenTTL}, clientTTLs(sp.Clients)...) {
		d := providers.Duration(ttl)
		if err := checkTTL(&d); err != nil {
			return err
		}
	}
	rl := providers.Duration(sp.RefreshTokenMaxLifetime)
	return checkRefreshLifetime(&rl)
}

func (s *API) applyAPI(ctx context.Context, sp APISpec) error {
	if err := checkLifetimes(sp); err != nil {
		return err
	}
	a := storage.API{
		Name: sp.Name, Tenants: sp.Tenants, AccessTokenTTL: sp.AccessTokenTTL, TokenPaths: sp.TokenPaths,
		SigningAlg: sp.SigningAlg, TokenFormat: sp.TokenFormat, Audience: sp.Audience, ExposeRefreshToken: sp.ExposeRefreshToken,
		RefreshTokenMaxLifetime: sp.RefreshTokenMaxLifetime,
	}
	old, err := s.store.GetAPI(ctx, sp.Name)
	exists := err == nil
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return err
	}
	a.CreatedAt = s.now().UTC()
	if exists {
		a.CreatedAt, a.DefaultClient = old.CreatedAt, old.DefaultClient
	}
	if a, err = s.saveAPI(ctx, a, !exists); err != nil {
		return err
	}
	for _, c := range sp.Clients {
		if err := s.applyClient(ctx, a.Name, c); err != nil {
			return fmt.Errorf("client %q: %w", c.ID, err)
		}
	}
	for _, u := range sp.Users {
		if err := s.applyUser(ctx, a.Name, u); err != nil {
			return fmt.Errorf("user %q: %w", u.Username, err)
		}
	}
	for name, p := range sp.Providers {
		if _, _, err := s.putProvider(ctx, a.Name, name, p); err != nil {
			return fmt.Errorf("provider %q: %w", name, err)
		}
	}
	if sp.DefaultClient != a.DefaultClient {
		a.DefaultClient = sp.DefaultClient
		if _, err := s.saveAPI(ctx, a, false); err != nil {
			return err
		}
	}
	if exists && tokensAlg(old) != tokensAlg(a) {
		_, err = s.tokens.Rotate(ctx, a, s.longestTTL(ctx, a))
	}
	return err
}

func (s *API) applyClient(ctx context.Context, api string, dc DeclaredClient) error {
	if dc.ID == "" || len(dc.Secret) < 32 {
		// The stored hash is fast (see broker/secret): only a long random
		// secret makes a stolen database useless.
		return errors.New("a declared client needs an id and a random secret of at least 32 characters")
	}
	_, err := s.store.GetClient(ctx, api, dc.ID)
	if errors.Is(err, storage.ErrNotFound) {
		// Only a new client is checked against the usernames (see
		// names.go), as applyUser checks only a new user.
		if _, _, _, err = s.newClient(ctx, api, dc.ClientSpec, dc.Secret); !errors.Is(err, storage.ErrAlreadyExists) {
			return err
		}
	} else if err != nil {
		return err
	}
	want, err := buildClient(api, dc.ClientSpec, s.now().UTC())
	if err != nil {
		return err
	}
	_, err = s.store.UpdateClient(ctx, api, dc.ID, func(old storage.Client) (storage.Client, error) {
		want.CreatedAt = old.CreatedAt
		want.SecretHash = secret.HashClientSecret(s.keyring, dc.Secret)
		// The webhook secrets are not declared: keep them (a rotation
		// makes one for a client that has none).
		want.SealedWebhookSecret, want.SealedOldWebhookSecret, want.OldWebhookSecretUntil =
			old.SealedWebhookSecret, old.SealedOldWebhookSecret, old.OldWebhookSecretUntil
		return want, nil
	})
	return err
}

// applyUser creates a user, or updates its scopes and, when the declared
// password no longer matches, its password (with a new generation, which
// ends the user's refresh tokens, as the admin API's password change).
func (s *API) applyUser(ctx context.Context, api string, sp UserSpec) error {
	old, err := s.store.GetUser(ctx, api, sp.Username)
	if errors.Is(err, storage.ErrNotFound) {
		_, err = s.newUser(ctx, api, sp)
		return err
	}
	if err != nil {
		return err
	}
	if err := validScopes(sp.Scopes); err != nil {
		return err
	}
	samePassword, _ := secret.CheckPassword(old.PasswordHash, sp.Password)
	if !samePassword {
		if _, err := s.changePassword(ctx, api, sp.Username, sp.Password); err != nil {
			return err
		}
	}
	if slices.Equal(old.Scopes, sp.Scopes) {
		return nil
	}
	_, err = s.store.UpdateUser(ctx, api, sp.Username, func(u storage.User) (storage.User, error) {
		u.Scopes, u.UpdatedAt = sp.Scopes, s.now().UTC()
		return u, nil
	})
	return err
}

func clientTTLs(cs []DeclaredClient) []time.Duration {
	out := make([]time.Duration, len(cs))
	for i, c := range cs {
		out[i] = c.AccessTokenTTL
	}
	return out
}
