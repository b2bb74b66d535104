package providers

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// Provider types.
const (
	// TypeOIDC is an OpenID Connect provider found by issuer discovery.
	TypeOIDC = "oidc"
	// TypeOAuth2 is a plain OAuth 2.0 server with explicit endpoints.
	TypeOAuth2 = "oauth2"
)

// Client authentication styles at the upstream token endpoint.
const (
	AuthStyleAuto   = ""
	AuthStyleHeader = "header"
	AuthStyleBody   = "body"
)

// Config is an upstream provider as an API configures it.
type Config struct {
	Name          string
	Template      string
	Type          string
	Issuer        string
	AuthURL       string
	TokenURL      string
	RevocationURL string
	UserinfoURL   string
	AuthStyle     string
	ClientID      string
	ClientSecret  string
	Scopes        []string
	AuthParams    map[string]string
	// Vars fill a template's URL variables ({tenant}, {shop}, …).
	Vars map[string]string
	// Refresh overrides the refresh policy of the provider's catalog
	// entry, field by field.
	Refresh RefreshPolicy
}

var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// ErrUnknownTemplate is returned for a template the catalog lacks.
var ErrUnknownTemplate = errors.New("providers: unknown template")

// Validate checks a configuration without contacting the provider. A
// template's own fields are checked by the catalog that resolves it
// (providers/catalog), not here.
func (c Config) Validate() error {
	if !nameRE.MatchString(c.Name) {
		return fmt.Errorf("providers: name %q must match %s", c.Name, nameRE)
	}
	if c.ClientID == "" {
		return errors.New("providers: client_id is required")
	}
	switch c.AuthStyle {
	case AuthStyleAuto, AuthStyleHeader, AuthStyleBody:
	default:
		return fmt.Errorf("providers: auth_style must be %q or %q", AuthStyleHeader, AuthStyleBody)
	}
	for k := range c.AuthParams {
		if reservedParam(k) {
			return fmt.Errorf("providers: auth_params may not set %q", k)
		}
	}
	if err := c.Refresh.Validate(); err != nil {
		return err
	}
	if c.Template != "" {
		return nil
	}
	switch c.Type {
	case TypeOIDC:
		return checkURL("issuer", c.Issuer, true)
	case TypeOAuth2:
		for _, u := range []struct {
			name, value string
			required    bool
		}{{"auth_url", c.AuthURL, true}, {"token_url", c.TokenURL, true}, {"revocation_url", c.RevocationURL, false}, {"userinfo_url", c.UserinfoURL, false}} {
			if err := checkURL(u.name, u.value, u.required); err != nil {
				return err
			}
		}
		return nil
	case "":
		return errors.New(`providers: one of "template" or "type" is required`)
	}
	return fmt.Errorf("providers: type must be %q or %q", TypeOIDC, TypeOAuth2)
}

// reservedParam reports whether an authorize parameter is set by the
// broker itself and may not be overridden.
func reservedParam(k string) bool {
	switch strings.ToLower(k) {
	case "client_id", "redirect_uri", "state", "code_challenge", "code_challenge_method", "nonce", "response_type":
		return true
	}
	return false
}

func checkURL(name, value string, required bool) error {
	if value == "" {
		if required {
			return fmt.Errorf("providers: %s is required", name)
		}
		return nil
	}
	u, err := url.Parse(value)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Fragment != "" {
		return fmt.Errorf("providers: %s must be an absolute http(s) URL", name)
	}
	return nil
}
