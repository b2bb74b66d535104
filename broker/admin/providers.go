package admin

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/oauth2broker/oauth2broker/broker/connections"
	"github.com/oauth2broker/oauth2broker/broker/protocol"
	"github.com/oauth2broker/oauth2broker/providers"
	"github.com/oauth2broker/oauth2broker/storage"
)

// viewProvider returns the admin view of p: every setting, never the
// secret; its callback URL needs the server.
func (s *API) viewProvider(p storage.Provider) providers.View {
	cfg, _ := providers.Decode(p.Name, p.Config) // written by putProvider
	v := providers.NewView(cfg, len(p.SealedClientSecret) > 0, s.conns.RedirectURI(p))
	v.CreatedAt, v.UpdatedAt = p.CreatedAt, p.UpdatedAt
	if reg, err := connections.OpenRegistration(s.keyring, p); err == nil && reg != nil {
		v.Discovered = reg.Discovered()
	}
	return v
}

// putProvider validates, seals and stores a provider, creating or
// replacing it. It reports whether it created it.
func (s *API) putProvider(ctx context.Context, api, name string, cfg providers.Config) (storage.Provider, bool, error) {
	cfg.Name = name
	if err := s.checkProvider(&cfg); err != nil {
		return storage.Provider{}, false, err
	}
	callback := cfg.Callback
	cfg.Callback = cmp.Or(callback, providers.CallbackOwn)
	now := s.now().UTC()
	p := storage.Provider{API: api, Name: name, CreatedAt: now, UpdatedAt: now}
	if cfg.ClientSecret != "" {
		sealed, err := s.keyring.Seal([]byte(cfg.ClientSecret), connections.ProviderSecretAD(api, name))
		if err != nil {
			return p, false, err
		}
		p.SealedClientSecret = sealed
	}
	var err error
	if p.Config, err = cfg.Encode(); err != nil {
		return p, false, err
	}
	err = s.store.CreateProvider(ctx, p)
	if !errors.Is(err, storage.ErrAlreadyExists) {
		return p, err == nil, storeError(err, "provider")
	}
	_, err = s.store.UpdateProvider(ctx, api, name, func(old storage.Provider) (storage.Provider, error) {
		p.CreatedAt = old.CreatedAt
		// The broker's own registration stays; it is made again when it no
		// longer fits the settings.
		p.SealedRegistration = old.SealedRegistration
		if callback == "" { // a provider keeps the callback registered for it
			oldCfg, err := providers.Decode(name, old.Config)
			if err != nil {
				return old, err
			}
			cfg.Callback = oldCfg.Callback
			if p.Config, err = cfg.Encode(); err != nil {
				return old, err
			}
		}
		return p, nil
	})
	return p, false, storeError(err, "provider")
}

// checkProvider validates a provider's settings: their shape, the
// outbound policy of its URLs, its template's variables and its scopes.
// A template provider takes its entry's type.
func (s *API) checkProvider(cfg *providers.Config) error {
	if err := cfg.Validate(); err != nil {
		return protocol.ErrInvalidRequest.WithDescription(err.Error())
	}
	// The URLs as the provider will call them: {var}s filled, and the
	// quirks' refresh and metadata URLs too.
	f := cfg.WithVars()
	urls := [][2]string{{"issuer", f.Issuer}, {"server_url", f.ServerURL}, {"auth_url", f.AuthURL}, {"token_url", f.TokenURL},
		{"revocation_url", f.RevocationURL}, {"userinfo_url", f.UserinfoURL}, {"quirks.refresh_url", f.Quirks.RefreshURL}}
	if f.Quirks.Metadata != nil {
		urls = append(urls, [2]string{"quirks.metadata.url", f.Quirks.Metadata.URL})
	}
	for _, b := range f.APIBaseURLs {
		urls = append(urls, [2]string{"api_base_urls", providers.FillVars(b, f.Vars)})
	}
	if err := s.checkOutboundURLs(urls); err != nil {
		return err
	}
	if cfg.Template != "" {
		if err := s.catalog.Check(*cfg); err != nil {
			return protocol.ErrInvalidRequest.WithDescription(err.Error())
		}
		e, _ := s.catalog.Get(cfg.Template)
		cfg.Type = e.Type
	}
	if err := validScopes(cfg.Scopes); err != nil {
		return err
	}
	return validScopes(cfg.AllowedScopes)
}

func (s *API) putProviderRoute(c *gin.Context) {
	var in providers.Config
	if err := decodeJSON(c, &in); err != nil {
		fail(c, err)
		return
	}
	p, created, err := s.putProvider(c, currentAPI(c).Name, c.Param("id"), in)
	if err != nil {
		fail(c, err)
		return
	}
	s.logger(c).Info("provider saved", "api", p.API, "provider", p.Name, "created", created)
	s.adminAudit(c, "provider.saved", p.Name)
	protocol.WriteJSON(c.Writer, http.StatusOK, s.viewProvider(p))
}

func (s *API) listProviders(c *gin.Context) {
	ps, err := s.store.ListProviders(c, currentAPI(c).Name)
	if err != nil {
		fail(c, err)
		return
	}
	protocol.WriteList(c.Writer, "providers", ps, s.viewProvider)
}

func (s *API) getProvider(c *gin.Context) {
	p, err := s.store.GetProvider(c, currentAPI(c).Name, c.Param("id"))
	if err != nil {
		fail(c, storeError(err, "provider"))
		return
	}
	protocol.WriteJSON(c.Writer, http.StatusOK, s.viewProvider(p))
}

func (s *API) deleteProvider(c *gin.Context) {
	a := currentAPI(c)
	if _, err := s.store.GetProvider(c, a.Name, c.Param("id")); err != nil {
		fail(c, storeError(err, "provider"))
		return
	}
	// Revoke its connections while the provider can still be called.
	if _, err := s.conns.RevokeAll(c.Request.Context(), a, storage.ConnectionFilter{Provider: c.Param("id")}); err != nil {
		fail(c, err)
		return
	}
	if err := s.store.DeleteProvider(c, a.Name, c.Param("id")); err != nil {
		fail(c, storeError(err, "provider"))
		return
	}
	s.adminAudit(c, "provider.deleted", c.Param("id"))
	c.Status(http.StatusNoContent)
}

// checkOutboundURLs checks, for each named URL that is set, that the
// outbound policy allows calls to it; the error names the field.
func (s *API) checkOutboundURLs(urls [][2]string) error {
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
