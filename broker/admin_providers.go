package broker

import (
	"cmp"
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/oauth2broker/oauth2broker/broker/connections"
	"github.com/oauth2broker/oauth2broker/broker/protocol"
	"github.com/oauth2broker/oauth2broker/providers"
	"github.com/oauth2broker/oauth2broker/storage"
)

// ProviderSpec is the body of PUT .../providers/{name} and a provider of
// the declarative configuration.
type ProviderSpec struct {
	Template      string            `json:"template" yaml:"template"`
	Type          string            `json:"type" yaml:"type"`
	Issuer        string            `json:"issuer" yaml:"issuer"`
	AuthURL       string            `json:"auth_url" yaml:"auth_url"`
	TokenURL      string            `json:"token_url" yaml:"token_url"`
	RevocationURL string            `json:"revocation_url" yaml:"revocation_url"`
	UserinfoURL   string            `json:"userinfo_url" yaml:"userinfo_url"`
	AuthStyle     string            `json:"auth_style" yaml:"auth_style"`
	ClientID      string            `json:"client_id" yaml:"client_id"`
	ClientSecret  string            `json:"client_secret" yaml:"client_secret"`
	Scopes        []string          `json:"scopes" yaml:"scopes"`
	AuthParams    map[string]string `json:"auth_params" yaml:"auth_params"`
	Vars          map[string]string `json:"vars" yaml:"vars"`
	// RefreshLead and RefreshIdleAfter (Go durations) override the
	// catalog entry's refresh-ahead policy: how long before expiry a
	// connection is renewed in the background, and after how long
	// without a refresh an idle one is renewed anyway.
	RefreshLead      duration `json:"refresh_lead" yaml:"refresh_lead"`
	RefreshIdleAfter duration `json:"refresh_idle_after" yaml:"refresh_idle_after"`
	// AllowedScopes are upstream scopes apps may ask for at authorize
	// besides Scopes (which are always allowed).
	AllowedScopes []string `json:"allowed_scopes" yaml:"allowed_scopes"`
	// Callback is the redirect URI to register at the provider:
	// "provider" (its own path, the default for new providers) or
	// "shared" (the API's one callback, as providers created before kept).
	Callback string `json:"callback" yaml:"callback"`
}

// providerView is a provider in admin answers: never the secret.
type providerView struct {
	Name             string            `json:"name"`
	Template         string            `json:"template,omitempty"`
	Type             string            `json:"type,omitempty"`
	Issuer           string            `json:"issuer,omitempty"`
	AuthURL          string            `json:"auth_url,omitempty"`
	TokenURL         string            `json:"token_url,omitempty"`
	RevocationURL    string            `json:"revocation_url,omitempty"`
	UserinfoURL      string            `json:"userinfo_url,omitempty"`
	AuthStyle        string            `json:"auth_style,omitempty"`
	ClientID         string            `json:"client_id"`
	ClientSecretSet  bool              `json:"client_secret_set"`
	Scopes           []string          `json:"scopes"`
	AuthParams       map[string]string `json:"auth_params,omitempty"`
	Vars             map[string]string `json:"vars,omitempty"`
	RefreshLead      duration          `json:"refresh_lead,omitempty"`
	RefreshIdleAfter duration          `json:"refresh_idle_after,omitempty"`
	AllowedScopes    []string          `json:"allowed_scopes"`
	Callback         string            `json:"callback"`
	// CallbackURL is the redirect URI to register at the provider.
	CallbackURL string    `json:"callback_url"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// viewProvider returns the admin view of p; its callback URL needs the
// server.
func (s *Server) viewProvider(p storage.Provider) providerView {
	v := viewProviderFields(p)
	v.CallbackURL = s.conns.RedirectURI(p)
	return v
}

func viewProviderFields(p storage.Provider) providerView {
	callback := p.Callback
	if callback == "" {
		callback = storage.CallbackShared
	}
	return providerView{
		AllowedScopes: nonNil(p.AllowedScopes), Callback: callback,
		Name: p.Name, Template: p.Template, Type: p.Type, Issuer: p.Issuer, AuthURL: p.AuthURL, TokenURL: p.TokenURL,
		RevocationURL: p.RevocationURL, UserinfoURL: p.UserinfoURL, AuthStyle: p.AuthStyle, ClientID: p.ClientID,
		ClientSecretSet: len(p.SealedClientSecret) > 0, Scopes: nonNil(p.Scopes), AuthParams: p.AuthParams, Vars: p.Vars,
		RefreshLead: duration(p.RefreshLead), RefreshIdleAfter: duration(p.RefreshIdleAfter), CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt,
	}
}

// putProvider validates, seals and stores a provider, creating or
// replacing it. It reports whether it created it.
func (s *Server) putProvider(ctx context.Context, api, name string, sp ProviderSpec) (storage.Provider, bool, error) {
	cfg := providers.Config{
		Name: name, Template: sp.Template, Type: sp.Type, Issuer: sp.Issuer, AuthURL: sp.AuthURL, TokenURL: sp.TokenURL,
		RevocationURL: sp.RevocationURL, UserinfoURL: sp.UserinfoURL, AuthStyle: sp.AuthStyle, ClientID: sp.ClientID,
		ClientSecret: sp.ClientSecret, Scopes: sp.Scopes, AuthParams: sp.AuthParams, Vars: sp.Vars,
		Refresh: providers.RefreshPolicy{Lead: time.Duration(sp.RefreshLead), IdleAfter: time.Duration(sp.RefreshIdleAfter)},
	}
	if err := cfg.Validate(); err != nil {
		return storage.Provider{}, false, protocol.ErrInvalidRequest.WithDescription(err.Error())
	}
	if err := s.checkOutboundURLs([][2]string{{"issuer", sp.Issuer}, {"auth_url", sp.AuthURL}, {"token_url", sp.TokenURL},
		{"revocation_url", sp.RevocationURL}, {"userinfo_url", sp.UserinfoURL}}); err != nil {
		return storage.Provider{}, false, err
	}
	if sp.Template != "" {
		if err := s.catalog.Check(cfg); err != nil {
			return storage.Provider{}, false, protocol.ErrInvalidRequest.WithDescription(err.Error())
		}
		e, _ := s.catalog.Get(sp.Template)
		sp.Type = e.Type
	}
	if err := checkProviderLists(sp); err != nil {
		return storage.Provider{}, false, err
	}
	now := s.now().UTC()
	p := storage.Provider{
		API: api, Name: name, Template: sp.Template, Type: sp.Type, Issuer: sp.Issuer, AuthURL: sp.AuthURL,
		TokenURL: sp.TokenURL, RevocationURL: sp.RevocationURL, UserinfoURL: sp.UserinfoURL, AuthStyle: sp.AuthStyle,
		ClientID: sp.ClientID, Scopes: sp.Scopes, AuthParams: sp.AuthParams, Vars: sp.Vars, CreatedAt: now, UpdatedAt: now,
		RefreshLead: cfg.Refresh.Lead, RefreshIdleAfter: cfg.Refresh.IdleAfter, AllowedScopes: sp.AllowedScopes,
		Callback: cmp.Or(sp.Callback, storage.CallbackOwn),
	}
	if sp.ClientSecret != "" {
		sealed, err := s.keyring.Seal([]byte(sp.ClientSecret), connections.ProviderSecretAD(api, name))
		if err != nil {
			return p, false, err
		}
		p.SealedClientSecret = sealed
	}
	err := s.store.CreateProvider(ctx, p)
	if !errors.Is(err, storage.ErrAlreadyExists) {
		return p, err == nil, storeError(err, "provider")
	}
	_, err = s.store.UpdateProvider(ctx, api, name, func(old storage.Provider) (storage.Provider, error) {
		p.CreatedAt = old.CreatedAt
		if sp.Callback == "" {
			p.Callback = old.Callback // a provider keeps the callback registered for it
		}
		return p, nil
	})
	return p, false, storeError(err, "provider")
}

// checkProviderLists validates a spec's scopes, allowed scopes and
// callback.
func checkProviderLists(sp ProviderSpec) error {
	if err := validScopes(sp.Scopes); err != nil {
		return err
	}
	if err := validScopes(sp.AllowedScopes); err != nil {
		return err
	}
	if sp.Callback != "" && sp.Callback != storage.CallbackOwn && sp.Callback != storage.CallbackShared {
		return protocol.ErrInvalidRequest.WithDescription(`callback must be "provider" or "shared"`)
	}
	return nil
}

func (s *Server) putProviderRoute(c *gin.Context) {
	var in ProviderSpec
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
	writeJSON(c, http.StatusOK, s.viewProvider(p))
}

func (s *Server) listProviders(c *gin.Context) {
	ps, err := s.store.ListProviders(c, currentAPI(c).Name)
	if err != nil {
		fail(c, err)
		return
	}
	listOf(c, "providers", ps, s.viewProvider)
}

func (s *Server) getProvider(c *gin.Context) {
	p, err := s.store.GetProvider(c, currentAPI(c).Name, c.Param("id"))
	if err != nil {
		fail(c, storeError(err, "provider"))
		return
	}
	writeJSON(c, http.StatusOK, s.viewProvider(p))
}

func (s *Server) deleteProvider(c *gin.Context) {
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
