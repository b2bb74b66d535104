package catalog

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/oauth2broker/oauth2broker/providers"
)

// Entry describes one provider. The YAML file of an entry uses the field
// names in the tags; see entries/github.yaml for a commented example.
type Entry struct {
	// Name is the template name users give ({"template":"github"}); it is
	// also the file name.
	Name        string `yaml:"name"`
	DisplayName string `yaml:"display_name"`
	// Docs are the documentation pages the entry was written from.
	Docs []string `yaml:"docs"`
	// Type is "oauth2" (explicit endpoints) or "oidc" (discovery from
	// Issuer; endpoints given here win over discovered ones).
	Type        string `yaml:"type"`
	Issuer      string `yaml:"issuer"`
	AuthURL     string `yaml:"auth_url"`
	TokenURL    string `yaml:"token_url"`
	UserinfoURL string `yaml:"userinfo_url"`
	// APIBaseURLs are the provider's API base URLs (https, {var}s
	// allowed) that the broker's upstream proxy may reach, unless the
	// provider config sets its own.
	APIBaseURLs []string `yaml:"api_base_urls"`
	// AuthStyle is how the client authenticates at the token endpoint:
	// "header" (HTTP Basic) or "body" (client_id and client_secret in the
	// form).
	AuthStyle string `yaml:"auth_style"`
	// ScopeSeparator joins scopes in the authorization URL: "space"
	// (RFC 6749, the default), "comma" or "plus".
	ScopeSeparator string `yaml:"scope_separator"`
	// ScopeParam is the authorize parameter carrying the scopes: "scope"
	// (the default) or another name (Slack's user_scope).
	ScopeParam string `yaml:"scope_param"`
	// DefaultScopes are requested when the provider config lists none.
	DefaultScopes []string `yaml:"default_scopes"`
	// AuthParams are added to the authorization URL
	// (access_type=offline, prompt=consent, audience=…).
	AuthParams map[string]string `yaml:"auth_params"`
	// PKCE is "supported" (the default: S256 is sent), "required" (a
	// configuration may not turn it off) or "unsupported" (neither the
	// challenge nor the verifier is sent).
	PKCE string `yaml:"pkce"`
	// Vars are the per-provider settings the URLs need ({tenant},
	// {subdomain}, {shop}, {realm}, {domain}, {region}…). {client_id} is
	// always available and needs no declaration.
	Vars  []Var `yaml:"vars"`
	Token Token `yaml:"token"`
	// CallbackKeep lists callback query parameters kept with the
	// connection and handed back to the app (Intuit's realmId).
	CallbackKeep []string `yaml:"callback_keep"`
	// CallbackHMAC is how the provider signs its callback, checked before
	// the code is used: "shopify" (hex HMAC-SHA256 of the sorted query,
	// keyed with the client secret) or empty.
	CallbackHMAC string     `yaml:"callback_hmac"`
	Revocation   Revocation `yaml:"revocation"`
	// ClientSecret is "static" (the default) or "apple_jwt": the secret is
	// an ES256 JWT signed with the private key the user configures.
	ClientSecret string `yaml:"client_secret"`
	// Quirks are the entry's defaults of the quirk classes a provider
	// configuration can also set (providers.Quirks: token_params,
	// refresh_params, request_body, refresh_url, *_auth, *_headers,
	// paths, expiry, error_codes, authorize_rename, authorize_drop,
	// callback_params, metadata); the configuration's own quirks win
	// field by field.
	QuirkDefaults providers.Quirks `yaml:"quirks"`
	// Notes are shown by `oauth2broker providers show`.
	Notes string `yaml:"notes"`
}

// Var is a setting an entry's URLs are filled from.
type Var struct {
	Name        string `yaml:"name"`
	Description string `yaml:"description"`
	Example     string `yaml:"example"`
	// Default makes the variable optional.
	Default string `yaml:"default"`
	// Kind is what a value may be: "name" (the default: a bare name or
	// DNS label, such as a tenant or a subdomain), "host" (a host name
	// with an optional :port, for self-hosted servers), "url" (an
	// https URL with an optional path, such as an instance URL; no query
	// or fragment) or "text" (printable text such as a User-Agent naming
	// the app and a contact; only header values of the quirks may use
	// it).
	Kind string `yaml:"kind"`
}

// Token describes the token endpoint's answers.
type Token struct {
	// AccessTokenPath, RefreshTokenPath, ExpiresInPath, ScopePath and
	// TokenTypePath are dot paths of nested fields (Slack's
	// authed_user.access_token); empty means the RFC 6749 field.
	AccessTokenPath  string `yaml:"access_token_path"`
	RefreshTokenPath string `yaml:"refresh_token_path"`
	ExpiresInPath    string `yaml:"expires_in_path"`
	ScopePath        string `yaml:"scope_path"`
	TokenTypePath    string `yaml:"token_type_path"`
	// Keep lists dot paths copied from the answer into the token set's
	// extra fields handed to the app (instance_url, team.id).
	Keep []string `yaml:"keep"`
	// Lifetime applies when the answer has no expires_in: a Go duration
	// (the documented lifetime) or "never" (documented non-expiring
	// tokens). Empty means one hour.
	Lifetime string `yaml:"lifetime"`
	// Refresh is "reusable" (the default), "rotating" (each refresh
	// returns a new refresh token; the old one keeps working for a
	// while), "single_use" (the old one dies at once) or "none" (no
	// refresh tokens: a refresh makes no call and refresh quirks are
	// refused). The broker always persists a rotated refresh token
	// before it hands out the access token, and keeps the old one when
	// an answer carries none, so rotating and single_use are shown to
	// admins (README, providers show) and act like reusable.
	Refresh string `yaml:"refresh"`
	// RefreshLead is a Go duration: background refreshes renew this
	// provider's connections this long before their access token
	// expires, instead of the broker's global lead (for short-lived
	// access tokens). Empty means the global lead.
	RefreshLead string `yaml:"refresh_lead"`
	// RefreshIdleAfter is a Go duration: background refreshes also renew
	// a connection whose grant was last refreshed this long ago, for
	// providers that expire refresh tokens left unused. Set it well below
	// the documented limit. Empty means never.
	RefreshIdleAfter string `yaml:"refresh_idle_after"`
}

// Revocation describes how to revoke a grant at the provider.
type Revocation struct {
	// Kind is "rfc7009" (POST token=… with client authentication),
	// "github_grant" (DELETE {url} with HTTP Basic client credentials and
	// the access token in a JSON body), "bearer" (Method {url} with the
	// access token as a Bearer credential) or "none". Method, Token
	// (which token rfc7009 revokes: "refresh_token", the default when
	// there is one, or "access_token"), Rename and Drop are those of
	// providers.Revocation.
	providers.Revocation `yaml:",inline"`
	URL                  string `yaml:"url"`
}

var (
	nameRE   = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)
	varRE    = regexp.MustCompile(`\{([a-z_]+)\}`)
	pathRE   = regexp.MustCompile(`^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$`)
	lowerRE  = regexp.MustCompile(`^[a-z_]+$`)
	kinds    = []string{"rfc7009", "github_grant", "bearer", "none"}
	refreshs = []string{"", "reusable", "rotating", "single_use", "none"}
)

// Validate checks an entry: names, URLs, templates and their variables,
// and every choice among the quirk classes.
func (e *Entry) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if !nameRE.MatchString(e.Name) || e.DisplayName == "" {
		add("name %q must match %s and display_name is required", e.Name, nameRE)
	}
	if len(e.Docs) == 0 {
		add("docs: cite at least one documentation page")
	}
	for _, d := range e.Docs {
		if u, err := url.Parse(d); err != nil || u.Scheme != "https" || u.Host == "" {
			add("docs: %q is not an https URL", d)
		}
	}
	declared := map[string]bool{}
	for _, v := range e.Vars {
		if !lowerRE.MatchString(v.Name) || v.Description == "" || declared[v.Name] || slices.Contains(providers.RequestVars, v.Name) {
			add("vars: %q needs a lowercase unique name (not one the broker fills per call) and a description", v.Name)
		}
		if !slices.Contains([]string{"", "name", "host", "url", "text"}, v.Kind) {
			add("vars: %q: kind %q: want name, host, url or text", v.Name, v.Kind)
		}
		if v.Default != "" {
			if err := v.check(v.Default); err != nil {
				add("vars: %q: default: %v", v.Name, err)
			}
		}
		declared[v.Name] = true
	}
	used := map[string]bool{}
	switch e.Type {
	case "oauth2":
		e.checkURL(add, declared, used, "auth_url", e.AuthURL, true)
		e.checkURL(add, declared, used, "token_url", e.TokenURL, true)
	case "oidc":
		e.checkURL(add, declared, used, "issuer", e.Issuer, true)
		e.checkURL(add, declared, used, "auth_url", e.AuthURL, false)
		e.checkURL(add, declared, used, "token_url", e.TokenURL, false)
	default:
		add("type must be oauth2 or oidc")
	}
	e.checkURL(add, declared, used, "userinfo_url", e.UserinfoURL, false)
	for _, u := range e.APIBaseURLs {
		e.checkURL(add, declared, used, "api_base_urls", u, true)
	}
	e.checkURL(add, declared, used, "revocation.url", e.Revocation.URL, e.Revocation.Kind != "none" && e.Revocation.Kind != "" && e.Type == "oauth2")
	e.checkQuirkVars(add, declared, used)
	for name := range declared {
		if !used[name] && !usedElsewhere(e, name) {
			add("vars: %q is declared but no URL uses it", name)
		}
	}
	e.checkChoices(add)
	return errors.Join(errs...)
}

// varKind is the kind of a declared variable.
func (e *Entry) varKind(name string) string {
	for _, v := range e.Vars {
		if v.Name == name {
			return v.Kind
		}
	}
	return ""
}

var (
	labelRE   = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9_.-]*[A-Za-z0-9])?$`)
	hostRE    = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:[0-9]{1,5})?$`)
	urlPathRE = regexp.MustCompile(`^[A-Za-z0-9._~!$&'()*+,;=:@%/-]*$`)
)

// check tells whether value is fit for the variable's kind: it is put
// into URLs as it is, so it must not change their shape.
func (v Var) check(value string) error {
	switch v.Kind {
	case "host":
		if !hostRE.MatchString(value) {
			return fmt.Errorf("%q is not a host name with an optional :port", value)
		}
	case "text":
		if value == "" || len(value) > 256 || strings.IndexFunc(value, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0 {
			return fmt.Errorf("%q is not printable text of at most 256 bytes", value)
		}
	case "url":
		u, err := url.Parse(value)
		if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || !hostRE.MatchString(u.Host) || !urlPathRE.MatchString(u.EscapedPath()) {
			return fmt.Errorf("%q is not an https URL (an optional path, no query)", value)
		}
	default:
		if !labelRE.MatchString(value) {
			return fmt.Errorf("%q is not a bare name", value)
		}
	}
	return nil
}

// usedElsewhere reports whether a variable is used outside URLs, auth
// params and quirks: Apple's team_id and key_id sign the client secret.
func usedElsewhere(e *Entry, name string) bool {
	return e.ClientSecret == "apple_jwt" && (name == "team_id" || name == "key_id")
}

func (e *Entry) checkURL(add func(string, ...any), declared, used map[string]bool, field, raw string, required bool) {
	if raw == "" {
		if required {
			add("%s is required", field)
		}
		return
	}
	for _, m := range varRE.FindAllStringSubmatch(raw, -1) {
		used[m[1]] = true
		if field == "revocation.url" && slices.Contains(e.keptNames(), m[1]) && providers.InURLPath(raw, m[1]) {
			continue // filled from the connection's kept fields
		}
		if !declared[m[1]] && m[1] != "client_id" {
			add("%s uses {%s}, which vars does not declare", field, m[1])
		}
		if e.varKind(m[1]) == "text" {
			add("%s uses {%s}, a text var: only header values may use it", field, m[1])
		}
	}
	u, err := url.Parse(varRE.ReplaceAllStringFunc(raw, func(m string) string {
		if e.varKind(m[1:len(m)-1]) == "url" {
			return "https://x.example"
		}
		return "x"
	}))
	if err != nil || u.Scheme != "https" || u.Host == "" {
		add("%s %q is not an absolute https URL", field, raw)
	}
}

func (e *Entry) checkChoices(add func(string, ...any)) {
	choice := func(field, value string, allowed ...string) {
		if !slices.Contains(allowed, value) {
			add("%s %q: want one of %q", field, value, allowed)
		}
	}
	choice("auth_style", e.AuthStyle, "", "header", "body")
	choice("scope_separator", e.ScopeSeparator, "", "space", "comma", "plus")
	choice("pkce", e.PKCE, "", "required", "supported", "unsupported")
	choice("client_secret", e.ClientSecret, "", "static", "apple_jwt")
	choice("callback_hmac", e.CallbackHMAC, "", "shopify")
	choice("token.refresh", e.Token.Refresh, refreshs...)
	choice("revocation.kind", e.Revocation.Kind, append([]string{""}, kinds...)...)
	choice("revocation.token", e.Revocation.Token, "", "refresh_token", "access_token")
	if e.Revocation.Kind == "bearer" {
		choice("revocation.method", e.Revocation.Method, "POST", "DELETE", "GET")
	}
	for _, p := range []string{e.Token.AccessTokenPath, e.Token.RefreshTokenPath, e.Token.ExpiresInPath, e.Token.ScopePath, e.Token.TokenTypePath} {
		if p != "" && !pathRE.MatchString(p) {
			add("token path %q is not a dot path", p)
		}
	}
	for _, p := range e.Token.Keep {
		if !pathRE.MatchString(p) {
			add("token.keep %q is not a dot path", p)
		}
	}
	d := e.Defaults()
	if d.Revocation == nil && e.Revocation.Kind != "" {
		d.Revocation = &e.Revocation.Revocation
	}
	if err := d.Validate(providers.Config{AuthStyle: e.AuthStyle}); err != nil {
		add("%v", err)
	}
	if _, err := e.refreshPolicy(); err != nil {
		add("token: %v", err)
	}
	if l := e.Token.Lifetime; l != "" && l != "never" {
		if d, err := time.ParseDuration(l); err != nil || d <= 0 {
			add("token.lifetime %q: want a positive Go duration or never", l)
		}
	}
}

// refreshPolicy parses token.refresh_lead and token.refresh_idle_after.
func (e *Entry) refreshPolicy() (providers.RefreshPolicy, error) {
	var p providers.RefreshPolicy
	for _, f := range []struct {
		name, value string
		into        *time.Duration
	}{{"refresh_lead", e.Token.RefreshLead, &p.Lead}, {"refresh_idle_after", e.Token.RefreshIdleAfter, &p.IdleAfter}} {
		if f.value == "" {
			continue
		}
		d, err := time.ParseDuration(f.value)
		if err != nil {
			return p, fmt.Errorf("%s %q: want a Go duration", f.name, f.value)
		}
		*f.into = d
	}
	return p, p.Validate()
}

// keptNames are the entry's kept fields that can fill a {name} of its
// revocation URL's path (providers.Quirks.KeptNames).
func (e *Entry) keptNames() []string {
	q := e.QuirkDefaults
	q.Keep = append(slices.Clone(e.Token.Keep), q.Keep...)
	q.CallbackKeep = append(slices.Clone(e.CallbackKeep), q.CallbackKeep...)
	return q.KeptNames()
}
