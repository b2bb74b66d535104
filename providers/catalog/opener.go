package catalog

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/oauth2broker/oauth2broker/providers"
	"github.com/oauth2broker/oauth2broker/providers/mcp"
	"github.com/oauth2broker/oauth2broker/providers/oauth"
	"github.com/oauth2broker/oauth2broker/providers/oidc"
)

// Opener returns the function that opens a configured provider: a
// template from c, an "oidc" provider by discovery, an "oauth2" provider
// by its explicit endpoints, and an "mcp" provider by discovery from its
// server URL (one metadata cache for all of them). It makes upstream
// calls with client (one with a timeout when nil) and reads the time from
// now (time.Now when nil).
func (c *Catalog) Opener(client *http.Client, now func() time.Time) func(context.Context, providers.Config) (providers.Provider, error) {
	discoverer := mcp.NewDiscoverer(client, now)
	return func(ctx context.Context, cfg providers.Config) (providers.Provider, error) {
		if cfg.Template != "" {
			return c.Open(ctx, cfg, client, now)
		}
		oc := oauth.Config{Config: cfg, HTTPClient: client, Now: now}
		switch cfg.Type {
		case providers.TypeOIDC:
			return oidc.New(ctx, oc)
		case providers.TypeOAuth2:
			return oauth.New(oc)
		case providers.TypeMCP:
			return mcp.New(ctx, mcp.Config{Config: cfg, Discoverer: discoverer, HTTPClient: client, Now: now})
		}
		return nil, fmt.Errorf("catalog: provider %s: %w %q", cfg.Name, providers.ErrUnknownType, cfg.Type)
	}
}
