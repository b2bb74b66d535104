package catalog

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/oauth2broker/oauth2broker/providers"
	"github.com/oauth2broker/oauth2broker/providers/oauth"
	"github.com/oauth2broker/oauth2broker/providers/oidc"
)

// ErrMissingVar is returned when a template variable has no value.
var ErrMissingVar = errors.New("catalog: missing template variable")

// Check validates a provider configuration that names a template: the
// template exists and every variable without a default has a value.
func (c *Catalog) Check(cfg providers.Config) error {
	e, ok := c.Get(cfg.Template)
	if !ok {
		return fmt.Errorf("%w %q (see `oauth2broker providers`)", providers.ErrUnknownTemplate, cfg.Template)
	}
	vars, err := e.vars(cfg)
	if err != nil {
		return err
	}
	for name, field := range cfg.UsedVars() {
		if _, ok := vars[name]; !ok {
			return fmt.Errorf("catalog: %s uses {%s}, which template %s does not declare", field, name, e.Name)
		}
		if e.varKind(name) == "text" && !strings.HasSuffix(field, "headers") {
			return fmt.Errorf("catalog: %s uses {%s}, a text var: only header values may use it", field, name)
		}
	}
	q := cfg.Quirks.Merge(e.Defaults())
	if e.PKCE == "required" && q.PKCE == "unsupported" {
		return fmt.Errorf("catalog: quirks.pkce: template %s requires PKCE", e.Name)
	}
	if err := e.checkAuth(cfg); err != nil {
		return err
	}
	merged := cfg
	merged.AuthStyle, merged.Quirks = firstNonEmpty(cfg.AuthStyle, e.AuthStyle), q
	return q.Validate(merged)
}

// checkAuth refuses body client authentication, for the whole provider
// or for its code exchange or refresh, where the entry needs HTTP Basic
// for that call; the error names the field.
func (e *Entry) checkAuth(cfg providers.Config) error {
	d := e.QuirkDefaults
	for _, f := range []struct{ field, set, need string }{
		{"auth_style", cfg.AuthStyle, e.AuthStyle},
		{"quirks.token_auth", cfg.Quirks.TokenAuth, firstNonEmpty(d.TokenAuth, e.AuthStyle)},
		{"quirks.refresh_auth", cfg.Quirks.RefreshAuth, firstNonEmpty(d.RefreshAuth, e.AuthStyle)},
	} {
		if f.set == providers.AuthStyleBody && f.need == providers.AuthStyleHeader {
			return fmt.Errorf("catalog: %s: template %s needs %q (HTTP Basic)", f.field, e.Name, f.need)
		}
	}
	return nil
}

// Defaults are the quirks a provider of this template starts from: the
// entry's quirks block, with the classes its older fields declare (pkce,
// token.refresh) folded in. A provider's own quirks win field by field
// (providers.Quirks.Merge).
func (e *Entry) Defaults() providers.Quirks {
	q := e.QuirkDefaults
	if e.PKCE == "unsupported" && q.PKCE == "" {
		q.PKCE = "unsupported"
	}
	if q.RefreshTokens == "" && e.Token.Refresh == "none" {
		q.RefreshTokens = "none"
	}
	return q
}

// vars returns the variable values of cfg, with defaults and client_id.
func (e *Entry) vars(cfg providers.Config) (map[string]string, error) {
	out := map[string]string{"client_id": cfg.ClientID}
	for _, v := range e.Vars {
		val := cfg.Vars[v.Name]
		if val == "" {
			val = v.Default
		}
		if val == "" {
			return nil, fmt.Errorf("%w: template %s needs vars.%s (%s, e.g. %q)", ErrMissingVar, e.Name, v.Name, v.Description, v.Example)
		}
		if err := v.check(val); err != nil {
			return nil, fmt.Errorf("catalog: vars.%s: %w", v.Name, err)
		}
		if v.Kind == "url" {
			val = strings.TrimSuffix(val, "/")
		}
		out[v.Name] = val
	}
	for k := range cfg.Vars {
		if _, ok := out[k]; !ok {
			return nil, fmt.Errorf("catalog: template %s has no variable %q", e.Name, k)
		}
	}
	return out, nil
}

// fill replaces {var} in a URL template. Values were checked against
// their kind (Var.check), so they go in as they are: a host keeps its
// port, a URL its path. A {name} that is no var stays: a kept field the
// revocation URL's path takes per connection (Validate allows no other).
func fill(tmpl string, vars map[string]string) string {
	return providers.FillVars(tmpl, vars)
}

// Open builds the provider for cfg from its template.
func (c *Catalog) Open(ctx context.Context, cfg providers.Config, client *http.Client, now func() time.Time) (providers.Provider, error) {
	e, ok := c.Get(cfg.Template)
	if !ok {
		return nil, fmt.Errorf("%w %q", providers.ErrUnknownTemplate, cfg.Template)
	}
	oc, err := e.config(cfg)
	if err != nil {
		return nil, err
	}
	oc.HTTPClient, oc.Now = client, now
	if e.ClientSecret == "apple_jwt" {
		if oc.ClientSecretFunc, err = appleSecret(cfg, now); err != nil {
			return nil, err
		}
	}
	if e.Type == "oidc" {
		return oidc.New(ctx, oc)
	}
	return oauth.New(oc)
}

// config resolves the template into a generic provider configuration:
// the entry's values, overridden by what the user configured.
func (e *Entry) config(cfg providers.Config) (oauth.Config, error) {
	vars, err := e.vars(cfg)
	if err != nil {
		return oauth.Config{}, err
	}
	out := cfg
	out.Type = e.Type
	out.Issuer = firstNonEmpty(cfg.Issuer, fill(e.Issuer, vars))
	out.AuthURL = firstNonEmpty(cfg.AuthURL, fill(e.AuthURL, vars))
	out.TokenURL = firstNonEmpty(cfg.TokenURL, fill(e.TokenURL, vars))
	out.UserinfoURL = firstNonEmpty(cfg.UserinfoURL, fill(e.UserinfoURL, vars))
	out.RevocationURL = firstNonEmpty(cfg.RevocationURL, fill(e.Revocation.URL, vars))
	out.AuthStyle = firstNonEmpty(cfg.AuthStyle, e.AuthStyle)
	if len(out.Scopes) == 0 {
		out.Scopes = e.DefaultScopes
	}
	out.AuthParams = map[string]string{}
	for k, v := range e.AuthParams {
		out.AuthParams[k] = fill(v, vars)
	}
	for k, v := range cfg.AuthParams {
		out.AuthParams[k] = v
	}
	out.Vars = vars
	out.Quirks = cfg.Quirks.Merge(e.Defaults())
	rp := e.refresh(cfg.Refresh())
	out.RefreshLead, out.RefreshIdleAfter = providers.Duration(rp.Lead), providers.Duration(rp.IdleAfter)
	return oauth.Config{Config: out, Quirks: e.quirks(), DefaultLifetime: e.lifetime()}, nil
}

// refresh completes a configured refresh policy with the entry's: each
// field set in the configuration wins.
func (e *Entry) refresh(configured providers.RefreshPolicy) providers.RefreshPolicy {
	out, _ := e.refreshPolicy() // checked by Validate at load
	if configured.Lead != 0 {
		out.Lead = configured.Lead
	}
	if configured.IdleAfter != 0 {
		out.IdleAfter = configured.IdleAfter
	}
	return out
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

var separators = map[string]string{"": " ", "space": " ", "comma": ",", "plus": "+"}

func (e *Entry) quirks() oauth.Quirks {
	t := e.Token
	return oauth.Quirks{
		ScopeSeparator: separators[e.ScopeSeparator], ScopeParam: e.ScopeParam, NoPKCE: e.PKCE == "unsupported",
		AccessTokenPath: t.AccessTokenPath, RefreshTokenPath: t.RefreshTokenPath, ExpiresInPath: t.ExpiresInPath,
		ScopePath: t.ScopePath, TokenTypePath: t.TokenTypePath, Keep: t.Keep, CallbackKeep: e.CallbackKeep,
		Revocation:   oauth.Revocation{Revocation: e.Revocation.Revocation},
		CallbackHMAC: e.CallbackHMAC,
	}
}

// lifetime maps token.lifetime to oauth.Config.DefaultLifetime.
func (e *Entry) lifetime() time.Duration {
	switch e.Token.Lifetime {
	case "":
		return 0
	case "never":
		return -1
	}
	d, _ := time.ParseDuration(e.Token.Lifetime)
	return d
}

// APIBaseURLs returns the API base URLs the upstream proxy may reach for
// cfg, with their {var}s filled: cfg's own when set, else its template's.
func (c *Catalog) APIBaseURLs(cfg providers.Config) ([]string, error) {
	bases := cfg.APIBaseURLs
	vars := map[string]string{"client_id": cfg.ClientID}
	for k, v := range cfg.Vars {
		vars[k] = v
	}
	if cfg.Template != "" {
		e, ok := c.Get(cfg.Template)
		if !ok {
			return nil, fmt.Errorf("%w %q", providers.ErrUnknownTemplate, cfg.Template)
		}
		filled, err := e.vars(cfg)
		if err != nil {
			return nil, err
		}
		vars = filled
		if len(bases) == 0 {
			bases = e.APIBaseURLs
		}
	}
	if len(bases) == 0 && cfg.Type == providers.TypeMCP && cfg.Template == "" {
		bases = []string{cfg.ServerURL} // the proxy reaches the MCP server itself
	}
	out := make([]string, 0, len(bases))
	for _, b := range bases {
		out = append(out, providers.FillVars(b, vars))
	}
	return out, nil
}
