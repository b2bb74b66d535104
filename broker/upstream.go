package broker

import (
	"context"
	"fmt"
	"net/http"

	"github.com/oauth2broker/oauth2broker/broker/connections"
	"github.com/oauth2broker/oauth2broker/providers"
	"github.com/oauth2broker/oauth2broker/providers/oauth"
	"github.com/oauth2broker/oauth2broker/providers/oidc"
)

// DefaultOpener opens "oidc" providers by discovery and "oauth2" providers
// by their explicit endpoints, making upstream calls with client (one with
// a timeout when nil).
func DefaultOpener(client *http.Client) connections.Opener {
	return func(ctx context.Context, cfg providers.Config) (providers.Provider, error) {
		oc := oauth.Config{Config: cfg, HTTPClient: client}
		switch cfg.Type {
		case providers.TypeOIDC:
			return oidc.New(ctx, oc)
		case providers.TypeOAuth2:
			return oauth.New(oc)
		}
		return nil, fmt.Errorf("broker: provider %s: %w %q", cfg.Name, providers.ErrUnknownTemplate, cfg.Template)
	}
}
