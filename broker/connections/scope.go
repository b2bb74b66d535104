package connections

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/oauth2broker/oauth2broker/broker/connerr"
	"github.com/oauth2broker/oauth2broker/providers"
	"github.com/oauth2broker/oauth2broker/storage"
)

// CheckScope refuses upstream scopes an app asks for at authorize that
// the provider does not allow: each must be one of the provider's
// configured scopes or of its allowed_scopes. An empty scope asks for
// the configured ones. A template provider with no configured scopes
// allows only its allowed_scopes besides the catalog's defaults, which
// an empty scope requests.
func CheckScope(p storage.Provider, scope string) error {
	cfg := settings(p)
	for _, s := range strings.Fields(scope) {
		if !slices.Contains(cfg.Scopes, s) && !slices.Contains(cfg.AllowedScopes, s) {
			return connerr.New(connerr.ScopeRefused, "a requested scope is not allowed for this provider (see its scopes and allowed_scopes)")
		}
	}
	return nil
}

// advertised reports whether every scope requested is one the provider
// configures, or one its upstream advertises
// (providers.ScopeAdvertiser: an MCP server's scopes_supported) when the
// admin set no allowed_scopes: a provider's allowed_scopes bound what an
// app may ask for, an MCP server's included.
func (m *Manager) advertised(ctx context.Context, p storage.Provider, scope string) bool {
	if cfg := settings(p); cfg.Type != providers.TypeMCP || len(cfg.AllowedScopes) > 0 {
		return false
	}
	up, err := m.provider(ctx, p)
	if err != nil {
		return false
	}
	a, ok := up.(providers.ScopeAdvertiser)
	if !ok {
		return false
	}
	cfg, known := settings(p), a.AdvertisedScopes()
	for _, s := range strings.Fields(scope) {
		if !slices.Contains(cfg.Scopes, s) && !slices.Contains(known, s) {
			return false
		}
	}
	return true
}

// withGrantedScope is r's scope (the provider's configured scopes when
// empty) joined with the scope of the stored connection of (client,
// identity, provider), if any: the union a step-up asks for. The granted
// scopes are not checked again: the provider granted them.
func (m *Manager) withGrantedScope(ctx context.Context, api, clientID string, p storage.Provider, r AuthorizeRequest) (string, error) {
	scopes := strings.Fields(r.Scope)
	if len(scopes) == 0 {
		scopes = slices.Clone(settings(p).Scopes)
	}
	c, err := m.store.GetConnection(ctx, api, ConnectionID(clientID, r.Identity, p.Name))
	if errors.Is(err, storage.ErrNotFound) {
		return strings.Join(scopes, " "), nil
	}
	if err != nil {
		return "", err
	}
	for _, s := range strings.Fields(c.Scope) {
		if !slices.Contains(scopes, s) {
			scopes = append(scopes, s)
		}
	}
	return strings.Join(scopes, " "), nil
}
