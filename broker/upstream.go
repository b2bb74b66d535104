package broker

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/oauth2broker/oauth2broker/broker/connections"
	"github.com/oauth2broker/oauth2broker/broker/protocol"
	"github.com/oauth2broker/oauth2broker/outbound"
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

// DefaultOutbound is the outbound policy of production: https only (no
// plain http, not even to loopback), and the link-local and metadata
// ranges of outbound.DefaultDeny refused at dial time.
func DefaultOutbound() outbound.Policy {
	return outbound.Policy{Deny: outbound.DefaultDeny()}
}

// checkOutboundURLs checks, for each named URL that is set, that the
// outbound policy allows calls to it; the error names the field.
func (s *Server) checkOutboundURLs(urls [][2]string) error {
	for _, u := range urls {
		if u[1] == "" {
			continue
		}
		if err := s.outbound.CheckURL(u[1]); err != nil {
			return protocol.ErrInvalidRequest.WithDescription(fmt.Sprintf("%s: https required (plain http only to loopback, and only when --outbound-allow-http-loopback is set)", u[0]))
		}
	}
	return nil
}

// DevOutbound is the outbound policy of `dev` and tests: DefaultOutbound
// plus plain http to loopback, where their demo and fake upstreams
// listen.
func DevOutbound() *outbound.Policy {
	p := DefaultOutbound()
	p.AllowHTTPLoopback = true
	return &p
}
