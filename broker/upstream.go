package broker

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/oauth2broker/oauth2broker/broker/connections"
	"github.com/oauth2broker/oauth2broker/providers"
	"github.com/oauth2broker/oauth2broker/providers/catalog"
	"github.com/oauth2broker/oauth2broker/providers/oauth"
	"github.com/oauth2broker/oauth2broker/providers/oidc"
)

// DefaultOpener opens templates from cat, "oidc" providers by discovery and
// "oauth2" providers by their explicit endpoints, making upstream calls
// with client (one with a timeout when nil) and reading the time from now
// (time.Now when nil).
func DefaultOpener(cat *catalog.Catalog, client *http.Client, now func() time.Time) connections.Opener {
	return func(ctx context.Context, cfg providers.Config) (providers.Provider, error) {
		if cfg.Template != "" {
			return cat.Open(ctx, cfg, client, now)
		}
		oc := oauth.Config{Config: cfg, HTTPClient: client, Now: now}
		switch cfg.Type {
		case providers.TypeOIDC:
			return oidc.New(ctx, oc)
		case providers.TypeOAuth2:
			return oauth.New(oc)
		}
		return nil, fmt.Errorf("broker: provider %s: %w %q", cfg.Name, providers.ErrUnknownTemplate, cfg.Template)
	}
}
