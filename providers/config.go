package providers

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Provider types.
const (
	// TypeOIDC is an OpenID Connect provider found by issuer discovery.
	TypeOIDC = "oidc"
	// TypeOAuth2 is a plain OAuth 2.0 server with explicit endpoints.
	TypeOAuth2 = "oauth2"
	// TypeMCP is an MCP server found from its URL alone (ServerURL): its
	// authorization server by RFC 9728 and RFC 8414 discovery, the
	// broker's client by a client ID metadata document or RFC 7591
	// registration unless ClientID names a pre-registered one.
	TypeMCP = "mcp"
)

// Client authentication styles at the upstream token endpoint.
const (
	AuthStyleAuto   = ""
	AuthStyleHeader = "header"
	AuthStyleBody   = "body"
)

// Callback values: the broker callback registered at the provider.
const (
	// CallbackOwn is the provider's own path, .../callback/{name}: the
	// default for new providers.
	CallbackOwn = "provider"
	// CallbackShared is the API's one callback; an empty Callback means
	// it too.
	CallbackShared = "shared"
)

// Config is the one description of an upstream provider: the settings an
// API stores for it, the body of an admin PUT, a provider of a YAML
// declaration, and (inside View) what the admin API and the CLI show.
// Storage keeps it as opaque JSON (see Encode and Decode), so a new
// setting is a field here, its check in Validate, and nothing elsewhere.
type Config struct {
	// Name is the provider's name in its API; it travels in URLs and map
	// keys, never in the settings.
	Name          string `json:"-" yaml:"-"`
	Template      string `json:"template,omitempty" yaml:"template,omitempty"`
	Type          string `json:"type,omitempty" yaml:"type,omitempty"`
	Issuer        string `json:"issuer,omitempty" yaml:"issuer,omitempty"`
	AuthURL       string `json:"auth_url,omitempty" yaml:"auth_url,omitempty"`
	TokenURL      string `json:"token_url,omitempty" yaml:"token_url,omitempty"`
	RevocationURL string `json:"revocation_url,omitempty" yaml:"revocation_url,omitempty"`
	UserinfoURL   string `json:"userinfo_url,omitempty" yaml:"userinfo_url,omitempty"`
	// ServerURL is an MCP server's URL (TypeMCP): the Streamable HTTP
	// endpoint, its canonical resource URI (RFC 8707) and the default API
	// base URL of the proxy.
	ServerURL string `json:"server_url,omitempty" yaml:"server_url,omitempty"`
	AuthStyle string `json:"auth_style,omitempty" yaml:"auth_style,omitempty"`
	ClientID  string `json:"client_id" yaml:"client_id"`
	// ClientSecret is accepted in a PUT or a declaration; it is stored
	// sealed beside the settings and never shown.
	ClientSecret string            `json:"client_secret,omitempty" yaml:"client_secret,omitempty"`
	Scopes       []string          `json:"scopes" yaml:"scopes"`
	AuthParams   map[string]string `json:"auth_params,omitempty" yaml:"auth_params,omitempty"`
	// Vars fill a template's URL variables ({tenant}, {shop}, …).
	Vars map[string]string `json:"vars,omitempty" yaml:"vars,omitempty"`
	// RefreshLead and RefreshIdleAfter override the catalog entry's
	// refresh-ahead policy, field by field (see RefreshPolicy); zero
	// keeps the entry's.
	RefreshLead      Duration `json:"refresh_lead,omitempty" yaml:"refresh_lead,omitempty"`
	RefreshIdleAfter Duration `json:"refresh_idle_after,omitempty" yaml:"refresh_idle_after,omitempty"`
	// AllowedScopes are upstream scopes apps may ask for at authorize
	// besides Scopes (which are always allowed).
	AllowedScopes []string `json:"allowed_scopes" yaml:"allowed_scopes"`
	// Callback is CallbackOwn or CallbackShared; empty means
	// CallbackShared.
	Callback string `json:"callback" yaml:"callback"`
	// Quirks are the provider's departures from RFC 6749 (extra token
	// parameters, JSON bodies, answer paths, …); a template's entry
	// supplies defaults, each field set here wins.
	Quirks Quirks `json:"quirks,omitzero" yaml:"quirks,omitempty"`
	// APIBaseURLs are the provider's API base URLs that the broker's
	// upstream proxy may reach (https, no query or fragment); empty
	// keeps the template's, and a provider with none has no proxy.
	APIBaseURLs []string `json:"api_base_urls,omitempty" yaml:"api_base_urls,omitempty"`
	// Registration is the client the broker registered itself at an MCP
	// server's authorization server, or the discovery it rests on: kept
	// sealed beside the settings by the broker, set only when it opens the
	// provider, never stored in or read from the settings.
	Registration *Registration `json:"-" yaml:"-"`
	// ClientMetadataURL is the HTTPS URL where the broker serves this
	// provider's client ID metadata document (the client_id it may use at
	// an MCP server's authorization server): set by the broker when it
	// opens the provider, never stored.
	ClientMetadataURL string `json:"-" yaml:"-"`
}

// Refresh returns the configured refresh policy.
func (c Config) Refresh() RefreshPolicy {
	return RefreshPolicy{Lead: time.Duration(c.RefreshLead), IdleAfter: time.Duration(c.RefreshIdleAfter)}
}

// Encode returns the settings as storage keeps them: JSON, without the
// name and the client secret (both stored beside them).
func (c Config) Encode() ([]byte, error) {
	c.Name, c.ClientSecret, c.Registration, c.ClientMetadataURL = "", "", nil, ""
	b, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("providers: %w", err)
	}
	return b, nil
}

// Decode reads settings that Encode wrote, for the provider name.
func Decode(name string, b []byte) (Config, error) {
	c := Config{Name: name}
	if len(b) == 0 {
		return c, nil
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return c, fmt.Errorf("providers: provider %s: settings: %w", name, err)
	}
	c.Name = name
	return c, nil
}

// View is a provider as the admin API answers and the CLI reads it: every
// setting of Config, never the secret.
type View struct {
	Name string `json:"name"`
	Config
	ClientSecretSet bool `json:"client_secret_set"`
	// CallbackURL is the redirect URI to register at the provider.
	CallbackURL string `json:"callback_url"`
	// Discovered is what the broker found and registered at an MCP
	// server (TypeMCP), once it has opened it; never a secret.
	Discovered *Discovered `json:"discovered,omitempty"`
	CreatedAt  time.Time   `json:"created_at"`
	UpdatedAt  time.Time   `json:"updated_at"`
}

// NewView returns the view of c: no secret, lists as [] rather than null,
// and the callback spelled out.
func NewView(c Config, secretSet bool, callbackURL string) View {
	c.ClientSecret = ""
	if c.Scopes == nil {
		c.Scopes = []string{}
	}
	if c.AllowedScopes == nil {
		c.AllowedScopes = []string{}
	}
	if c.Callback == "" {
		c.Callback = CallbackShared
	}
	return View{Name: c.Name, Config: c, ClientSecretSet: secretSet, CallbackURL: callbackURL}
}

// Duration is a time.Duration written as a Go duration string ("15m") in
// JSON and YAML.
type Duration time.Duration

// String is the Go duration string.
func (d Duration) String() string { return time.Duration(d).String() }

// MarshalJSON writes the Go duration string.
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

// UnmarshalJSON reads a Go duration string.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration must be a string like \"15m\"")
	}
	return d.UnmarshalText([]byte(s))
}

// UnmarshalText reads a Go duration string; YAML declarations decode
// through it.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("duration %q: want a Go duration like \"15m\"", b)
	}
	*d = Duration(v)
	return nil
}

var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// Errors of a configuration that names what cannot be opened.
var (
	// ErrUnknownTemplate is returned for a template the catalog lacks.
	ErrUnknownTemplate = errors.New("providers: unknown template")
	// ErrUnknownType is returned for a provider type that is not
	// TypeOIDC, TypeOAuth2 or TypeMCP.
	ErrUnknownType = errors.New("providers: unknown provider type")
)

// Validate checks a configuration without contacting the provider. A
// template's own fields are checked by the catalog that resolves it
// (providers/catalog), not here.
func (c Config) Validate() error {
	if !nameRE.MatchString(c.Name) {
		return fmt.Errorf("providers: name %q must match %s", c.Name, nameRE)
	}
	if c.ServerURL != "" && (c.Type != TypeMCP || c.Template != "") {
		return fmt.Errorf("providers: server_url is only for type %q", TypeMCP)
	}
	if c.ClientID == "" && c.Type != TypeMCP {
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
	if err := c.Refresh().Validate(); err != nil {
		return err
	}
	if c.Callback != "" && c.Callback != CallbackOwn && c.Callback != CallbackShared {
		return fmt.Errorf("providers: callback must be %q or %q", CallbackOwn, CallbackShared)
	}
	if err := c.Quirks.Validate(c); err != nil {
		return err
	}
	for _, u := range c.APIBaseURLs {
		if err := CheckAPIBaseURL(u); err != nil {
			return err
		}
	}
	for _, name := range append(slices.Clone(RequestVars), CallVars...) {
		if _, ok := c.Vars[name]; ok {
			return fmt.Errorf("providers: vars.%s: the broker fills {%s} per call; choose another name", name, name)
		}
	}
	if c.Template != "" {
		return nil // the catalog checks the vars against the entry's
	}
	for name, field := range c.UsedVars() {
		if _, ok := c.Vars[name]; !ok && name != "client_id" {
			return fmt.Errorf("providers: %s uses {%s}, which vars does not declare", field, name)
		}
	}
	switch c.Type {
	case TypeOIDC:
		return checkURL("issuer", VarRE.ReplaceAllString(c.Issuer, "x"), true)
	case TypeOAuth2:
		for _, u := range []struct {
			name, value string
			required    bool
		}{{"auth_url", c.AuthURL, true}, {"token_url", c.TokenURL, true}, {"revocation_url", c.RevocationURL, false}, {"userinfo_url", c.UserinfoURL, false}} {
			if err := checkURL(u.name, VarRE.ReplaceAllString(u.value, "x"), u.required); err != nil {
				return err
			}
		}
		return nil
	case TypeMCP:
		return c.validateMCP()
	case "":
		return errors.New(`providers: one of "template" or "type" is required`)
	}
	return fmt.Errorf("providers: type must be %q, %q or %q", TypeOIDC, TypeOAuth2, TypeMCP)
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

// CheckAPIBaseURL checks one API base URL of the proxy: an absolute https
// URL with a host, no user info, query or fragment ({var}s allowed).
func CheckAPIBaseURL(raw string) error {
	u, err := url.Parse(VarRE.ReplaceAllString(raw, "x"))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return fmt.Errorf("providers: api_base_urls: %q must be an absolute https URL without query or fragment (plain http only to loopback, as the outbound policy allows)", raw)
	}
	return nil
}
