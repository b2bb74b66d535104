package providers

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Quirks are the ways a provider departs from RFC 6749, as one block of
// Config ("quirks" in a PUT body or YAML; --set quirks={...} in the CLI).
// A catalog entry declares the same block; the provider's own settings
// win field by field (see Merge). The zero value is plain RFC behaviour.
// Each class is handled once, in providers/oauth.
type Quirks struct {
	// TokenParams are added to the code-exchange request, RefreshParams
	// to the refresh request (Shopify's expiring=1). Values may use
	// {var}s and the call's own values (RequestVars): {redirect_uri}, the
	// broker's callback of the flow (a refresh repeats the exchange's:
	// Mollie), and in TokenParams {state}, the flow's state (Dropbox
	// Sign); a refresh has no state.
	TokenParams   map[string]string `json:"token_params,omitempty" yaml:"token_params,omitempty"`
	RefreshParams map[string]string `json:"refresh_params,omitempty" yaml:"refresh_params,omitempty"`
	// CallbackParams lists callback query parameters copied, under the
	// same name, into the code-exchange request (BigCommerce's context
	// and scope).
	CallbackParams []string `json:"callback_params,omitempty" yaml:"callback_params,omitempty"`
	// RequestBody is how token requests are encoded: "form" (RFC 6749,
	// the default), "json", or "query": the parameters in the URL's
	// query and no body (Gong, DigitalOcean).
	RequestBody string `json:"request_body,omitempty" yaml:"request_body,omitempty"`
	// RevocationBody is how an RFC 7009 revocation request is encoded:
	// "form" (the default), "json" (Notion, Intuit, monday) or "query"
	// (the parameters in the URL's query, no body: Oura).
	RevocationBody string `json:"revocation_body,omitempty" yaml:"revocation_body,omitempty"`
	// RefreshURL is a refresh endpoint apart from token_url.
	RefreshURL string `json:"refresh_url,omitempty" yaml:"refresh_url,omitempty"`
	// TokenAuth, RefreshAuth and RevocationAuth choose the client
	// authentication of each call: "header" (HTTP Basic), "body" or
	// "none"; empty means auth_style.
	TokenAuth      string `json:"token_auth,omitempty" yaml:"token_auth,omitempty"`
	RefreshAuth    string `json:"refresh_auth,omitempty" yaml:"refresh_auth,omitempty"`
	RevocationAuth string `json:"revocation_auth,omitempty" yaml:"revocation_auth,omitempty"`
	// TokenHeaders, RefreshHeaders and RevocationHeaders are extra
	// request headers of each call (Notion-Version).
	TokenHeaders      map[string]string `json:"token_headers,omitempty" yaml:"token_headers,omitempty"`
	RefreshHeaders    map[string]string `json:"refresh_headers,omitempty" yaml:"refresh_headers,omitempty"`
	RevocationHeaders map[string]string `json:"revocation_headers,omitempty" yaml:"revocation_headers,omitempty"`
	// Paths lists, per token field (access_token, refresh_token,
	// expires_in, scope, token_type, id_token), the dot paths tried in
	// order; the first present wins. Unlisted fields use the RFC 6749
	// name. Slack: access_token: [authed_user.access_token, access_token]
	// parses both its exchange and its refresh answers.
	Paths map[string][]string `json:"paths,omitempty" yaml:"paths,omitempty"`
	// Expiry is how expires_in is given: "seconds" (the default; a
	// number or a numeric string), "milliseconds", "unix" (an absolute
	// time in Unix seconds) or "rfc3339" (an absolute time).
	Expiry string `json:"expiry,omitempty" yaml:"expiry,omitempty"`
	// ErrorCodes map a provider's error codes to RFC 6749 §5.2 codes, for
	// classification (Slack's invalid_refresh_token → invalid_grant).
	// Errors sent with status 200 ({"error":…} or {"ok":false,…}) are
	// always recognised.
	ErrorCodes map[string]string `json:"error_codes,omitempty" yaml:"error_codes,omitempty"`
	// ErrorPath lists the dot paths of an error answer's code, tried in
	// order before the RFC 6749 "error" field, for providers that name
	// their errors elsewhere (HubSpot's status, Square's errors.0.code).
	// A number or a string counts; ".." reaches a key starting with a dot
	// (Dropbox's error..tag is error → ".tag"). The code found is then
	// mapped by ErrorCodes.
	ErrorPath []string `json:"error_path,omitempty" yaml:"error_path,omitempty"`
	// TokenRename renames parameters of the token requests (exchange and
	// refresh), after the client authentication is added (TikTok:
	// client_id → client_key).
	TokenRename map[string]string `json:"token_rename,omitempty" yaml:"token_rename,omitempty"`
	// AuthorizeRename renames authorize parameters the broker sets
	// (TikTok: client_id → client_key); AuthorizeDrop leaves some out
	// (a provider refusing response_type).
	AuthorizeRename map[string]string `json:"authorize_rename,omitempty" yaml:"authorize_rename,omitempty"`
	AuthorizeDrop   []string          `json:"authorize_drop,omitempty" yaml:"authorize_drop,omitempty"`
	// PKCE is "" (S256, the default), "plain" (the challenge is the
	// verifier, RFC 7636 §4.2: only for providers that support nothing
	// else, MyAnimeList; RFC 9700 §2.1.1 asks for S256 when supported) or
	// "unsupported": no challenge and no verifier (Slack, LinkedIn's
	// confidential flow).
	PKCE string `json:"pkce,omitempty" yaml:"pkce,omitempty"`
	// RefreshTokens is "reusable" (the default) or "none" (no refresh
	// tokens: a refresh makes no call and needs the user, and refresh
	// quirks are refused). A refresh answer without a refresh token keeps
	// the old one: rotating providers (Shopify) keep the previous token
	// valid until its replacement is used, and the broker persists a
	// rotated token before it hands out the new access token.
	RefreshTokens string `json:"refresh_tokens,omitempty" yaml:"refresh_tokens,omitempty"`
	// ScopeSeparator joins scopes in the authorization URL: "space"
	// (RFC 6749, the default), "comma" or "plus". ScopeParam is the
	// authorize parameter carrying them ("scope"; Slack's user_scope).
	ScopeSeparator string `json:"scope_separator,omitempty" yaml:"scope_separator,omitempty"`
	ScopeParam     string `json:"scope_param,omitempty" yaml:"scope_param,omitempty"`
	// Keep lists dot paths of token-answer fields handed to the app
	// (Salesforce's instance_url); CallbackKeep lists callback query
	// parameters kept the same way (Intuit's realmId).
	Keep         []string `json:"keep,omitempty" yaml:"keep,omitempty"`
	CallbackKeep []string `json:"callback_keep,omitempty" yaml:"callback_keep,omitempty"`
	// Lifetime applies when an answer has no expiry: a Go duration (the
	// documented lifetime) or "never" (documented non-expiring tokens);
	// one hour when empty.
	Lifetime string `json:"lifetime,omitempty" yaml:"lifetime,omitempty"`
	// Revocation is the provider's revocation call when it is not
	// RFC 7009 at revocation_url.
	Revocation *Revocation `json:"revocation,omitempty" yaml:"revocation,omitempty"`
	// Metadata is a call made after a code exchange (and refreshes when
	// OnRefresh) whose chosen fields are kept with the connection.
	Metadata *Metadata `json:"metadata,omitempty" yaml:"metadata,omitempty"`
	// LongLived trades the code exchange's short-lived access token for
	// a long-lived one with a second call, and may refresh the long-lived
	// token with itself (Meta: Instagram's ig_exchange_token and
	// ig_refresh_token).
	LongLived *LongLived `json:"long_lived,omitempty" yaml:"long_lived,omitempty"`
}

// Revocation describes a revocation call.
type Revocation struct {
	// Kind is "rfc7009" (POST token=… with client authentication),
	// "github_grant" (DELETE with Basic client credentials and the access
	// token in a JSON body), "bearer" (Method with the access token as a
	// Bearer credential) or "none".
	Kind string `json:"kind" yaml:"kind"`
	// Method of a bearer call: POST (the default), DELETE or GET.
	Method string `json:"method,omitempty" yaml:"method,omitempty"`
	// Token is the token rfc7009 sends: "refresh_token" (the default
	// when there is one) or "access_token".
	Token string `json:"token,omitempty" yaml:"token,omitempty"`
	// Rename renames parameters of an rfc7009 request, client
	// authentication included (Acuity's token → access_token, TikTok's
	// client_id → client_key); Drop leaves some out (token_type_hint).
	// An rfc7009 call's Method is POST (the default), DELETE (Mollie) or
	// GET (with quirks.revocation_body query).
	Rename map[string]string `json:"rename,omitempty" yaml:"rename,omitempty"`
	Drop   []string          `json:"drop,omitempty" yaml:"drop,omitempty"`
}

// RequestVars are the {var}s filled per call rather than from vars:
// the flow's state (code exchange only) and the broker's redirect URI.
// Only quirks.token_params and quirks.refresh_params may use them.
var RequestVars = []string{"state", "redirect_uri"}

// Metadata is a post-connection call: GET URL with the new access token
// as a Bearer credential; Keep maps the names handed to the app to dot
// paths of the answer (a number selects an array element: Atlassian's
// accessible-resources 0.id).
type Metadata struct {
	URL       string            `json:"url" yaml:"url"`
	Headers   map[string]string `json:"headers,omitempty" yaml:"headers,omitempty"`
	Keep      map[string]string `json:"keep" yaml:"keep"`
	OnRefresh bool              `json:"on_refresh,omitempty" yaml:"on_refresh,omitempty"`
}

// Token fields that Quirks.Paths may name.
var pathFields = []string{"access_token", "refresh_token", "expires_in", "scope", "token_type", "id_token"}

var (
	dotPathRE = regexp.MustCompile(`^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$`)
	// errorPathRE also lets ".." reach a key starting with a dot.
	errorPathRE = regexp.MustCompile(`^\.?[A-Za-z0-9_-]+(\.\.?[A-Za-z0-9_-]+)*$`)
	headerRE    = regexp.MustCompile("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
	paramRE     = regexp.MustCompile(`^[A-Za-z0-9_.\[\]-]+$`)
	// VarRE matches a {var} reference in a URL, a parameter or a header.
	VarRE = regexp.MustCompile(`\{([a-z_]+)\}`)
)

// Merge returns q completed by def (an entry's quirks): each field set in
// q wins; maps are merged key by key.
func (q Quirks) Merge(def Quirks) Quirks {
	out := def
	mergeMap := func(dst *map[string]string, src map[string]string) {
		if len(src) == 0 {
			return
		}
		m := maps.Clone(*dst)
		if m == nil {
			m = map[string]string{}
		}
		maps.Copy(m, src)
		*dst = m
	}
	mergeMap(&out.TokenParams, q.TokenParams)
	mergeMap(&out.RefreshParams, q.RefreshParams)
	mergeMap(&out.TokenHeaders, q.TokenHeaders)
	mergeMap(&out.RefreshHeaders, q.RefreshHeaders)
	mergeMap(&out.RevocationHeaders, q.RevocationHeaders)
	mergeMap(&out.ErrorCodes, q.ErrorCodes)
	mergeMap(&out.AuthorizeRename, q.AuthorizeRename)
	mergeMap(&out.TokenRename, q.TokenRename)
	for _, s := range []struct {
		dst *string
		src string
	}{
		{&out.RequestBody, q.RequestBody}, {&out.RevocationBody, q.RevocationBody}, {&out.RefreshURL, q.RefreshURL}, {&out.TokenAuth, q.TokenAuth},
		{&out.RefreshAuth, q.RefreshAuth}, {&out.RevocationAuth, q.RevocationAuth}, {&out.Expiry, q.Expiry},
		{&out.PKCE, q.PKCE}, {&out.RefreshTokens, q.RefreshTokens},
	} {
		if s.src != "" {
			*s.dst = s.src
		}
	}
	if len(q.Paths) > 0 {
		p := maps.Clone(out.Paths)
		if p == nil {
			p = map[string][]string{}
		}
		maps.Copy(p, q.Paths)
		out.Paths = p
	}
	if q.ErrorPath != nil {
		out.ErrorPath = q.ErrorPath
	}
	if q.AuthorizeDrop != nil {
		out.AuthorizeDrop = q.AuthorizeDrop
	}
	if q.Metadata != nil {
		out.Metadata = q.Metadata
	}
	if q.LongLived != nil {
		out.LongLived = q.LongLived
	}
	if q.Revocation != nil {
		out.Revocation = q.Revocation
	}
	if q.Keep != nil {
		out.Keep = q.Keep
	}
	if q.CallbackKeep != nil {
		out.CallbackKeep = q.CallbackKeep
	}
	if q.CallbackParams != nil {
		out.CallbackParams = q.CallbackParams
	}
	for _, s := range []struct {
		dst *string
		src string
	}{{&out.ScopeSeparator, q.ScopeSeparator}, {&out.ScopeParam, q.ScopeParam}, {&out.Lifetime, q.Lifetime}} {
		if s.src != "" {
			*s.dst = s.src
		}
	}
	return out
}

// Validate checks the quirks alone and against the rest of c: each error
// names the field (quirks.…) so that an admin PUT answers a 400 that says
// what to fix.
func (q Quirks) Validate(c Config) error {
	choice := func(field, v string, allowed ...string) error {
		if !slices.Contains(allowed, v) {
			return fmt.Errorf("providers: quirks.%s %q: want one of %q", field, v, allowed)
		}
		return nil
	}
	checks := []error{
		choice("request_body", q.RequestBody, "", "form", "json", "query"),
		choice("revocation_body", q.RevocationBody, "", "form", "json", "query"),
		choice("token_auth", q.TokenAuth, "", "header", "body", "none"),
		choice("refresh_auth", q.RefreshAuth, "", "header", "body", "none"),
		choice("revocation_auth", q.RevocationAuth, "", "header", "body", "none"),
		choice("expiry", q.Expiry, "", "seconds", "milliseconds", "unix", "rfc3339"),
		choice("pkce", q.PKCE, "", "S256", "plain", "unsupported"),
		choice("refresh_tokens", q.RefreshTokens, "", "reusable", "none"),
		choice("scope_separator", q.ScopeSeparator, "", "space", "comma", "plus"),
	}
	if r := q.Revocation; r != nil {
		checks = append(checks, choice("revocation.kind", r.Kind, "rfc7009", "github_grant", "bearer", "none"),
			choice("revocation.method", r.Method, "", "POST", "DELETE", "GET"),
			choice("revocation.token", r.Token, "", "refresh_token", "access_token"))
	}
	if l := q.Lifetime; l != "" && l != "never" {
		if d, err := time.ParseDuration(l); err != nil || d <= 0 {
			checks = append(checks, fmt.Errorf("providers: quirks.lifetime %q: want a positive Go duration or never", l))
		}
	}
	if q.ScopeParam != "" && !dotPathRE.MatchString(q.ScopeParam) {
		checks = append(checks, fmt.Errorf("providers: quirks.scope_param %q is not a parameter name", q.ScopeParam))
	}
	for _, k := range append(slices.Clone(q.Keep), q.CallbackKeep...) {
		if !dotPathRE.MatchString(k) {
			checks = append(checks, fmt.Errorf("providers: quirks.keep/callback_keep: %q is not a dot path", k))
		}
	}
	for _, err := range checks {
		if err != nil {
			return err
		}
	}
	if err := checkURL("quirks.refresh_url", VarRE.ReplaceAllString(q.RefreshURL, "x"), false); err != nil {
		return err
	}
	if q.RefreshTokens == "none" && (q.RefreshURL != "" || len(q.RefreshParams) > 0 || q.RefreshAuth != "" || len(q.RefreshHeaders) > 0) {
		return fmt.Errorf("providers: quirks.refresh_tokens is none: quirks.refresh_url, refresh_params, refresh_auth and refresh_headers would never be used")
	}
	for field, paths := range q.Paths {
		if !slices.Contains(pathFields, field) {
			return fmt.Errorf("providers: quirks.paths.%s: want one of %q", field, pathFields)
		}
		if len(paths) == 0 {
			return fmt.Errorf("providers: quirks.paths.%s: list at least one dot path", field)
		}
		for _, p := range paths {
			if !dotPathRE.MatchString(p) {
				return fmt.Errorf("providers: quirks.paths.%s: %q is not a dot path", field, p)
			}
		}
	}
	for _, p := range q.ErrorPath {
		if !errorPathRE.MatchString(p) {
			return fmt.Errorf("providers: quirks.error_path: %q is not a dot path", p)
		}
	}
	for k, v := range q.ErrorCodes {
		if err := choice("error_codes."+k, v, "invalid_request", "invalid_client", "invalid_grant", "unauthorized_client", "unsupported_grant_type", "invalid_scope", "server_error", "temporarily_unavailable"); err != nil {
			return err
		}
	}
	for _, r := range []struct {
		name string
		m    map[string]string
	}{{"authorize_rename", q.AuthorizeRename}, {"token_rename", q.TokenRename}} {
		for k, v := range r.m {
			if k == "" || v == "" || strings.ContainsAny(k+v, "&=?# ") {
				return fmt.Errorf("providers: quirks.%s: %q → %q is not a parameter name", r.name, k, v)
			}
		}
	}
	var metadataHeaders map[string]string
	if q.Metadata != nil {
		metadataHeaders = q.Metadata.Headers
	}
	for _, h := range []struct {
		name string
		m    map[string]string
	}{{"token_headers", q.TokenHeaders}, {"refresh_headers", q.RefreshHeaders}, {"revocation_headers", q.RevocationHeaders}, {"metadata.headers", metadataHeaders}} {
		for k := range h.m {
			// A metadata GET has no body: its Content-Type says nothing
			// (Xero's docs list one all the same).
			ctype := strings.EqualFold(k, "Content-Type") && h.name != "metadata.headers"
			if !headerRE.MatchString(k) || strings.EqualFold(k, "Authorization") || ctype || strings.EqualFold(k, "Host") {
				return fmt.Errorf("providers: quirks.%s: %q is not a header the broker lets you set", h.name, k)
			}
		}
	}
	if err := q.validateCalls(); err != nil {
		return err
	}
	if err := q.LongLived.validate(q.RefreshTokens); err != nil {
		return err
	}
	if m := q.Metadata; m != nil {
		if err := checkURL("quirks.metadata.url", VarRE.ReplaceAllString(m.URL, "x"), true); err != nil {
			return err
		}
		if len(m.Keep) == 0 {
			return fmt.Errorf("providers: quirks.metadata.keep: name at least one field to keep")
		}
		for k, p := range m.Keep {
			if k == "" || !dotPathRE.MatchString(p) {
				return fmt.Errorf("providers: quirks.metadata.keep.%s: %q is not a dot path", k, p)
			}
		}
		if m.OnRefresh && q.RefreshTokens == "none" {
			return fmt.Errorf("providers: quirks.metadata.on_refresh: refresh_tokens is none")
		}
	}
	return nil
}

// brokerParams are the token-request parameters the broker sets itself:
// a callback parameter may not replace them.
var brokerParams = []string{"grant_type", "code", "redirect_uri", "code_verifier", "client_id", "client_secret", "refresh_token"}

// validateCalls checks the per-call values of the token requests and the
// shape of an rfc7009 revocation.
func (q Quirks) validateCalls() error {
	for k, v := range q.RefreshParams {
		if strings.Contains(v, "{state}") {
			return fmt.Errorf("providers: quirks.refresh_params.%s: {state}: a refresh has no state (only token_params may use it)", k)
		}
	}
	for _, name := range q.CallbackParams {
		if !paramRE.MatchString(name) || slices.Contains(brokerParams, name) {
			return fmt.Errorf("providers: quirks.callback_params: %q is not a parameter the broker lets you copy", name)
		}
	}
	r := q.Revocation
	if r == nil {
		return nil
	}
	if len(r.Rename)+len(r.Drop) > 0 && r.Kind != "rfc7009" {
		return fmt.Errorf("providers: quirks.revocation.rename/drop: only an rfc7009 revocation has parameters (kind is %q)", r.Kind)
	}
	for k, v := range r.Rename {
		if !paramRE.MatchString(k) || !paramRE.MatchString(v) {
			return fmt.Errorf("providers: quirks.revocation.rename: %q → %q is not a parameter name", k, v)
		}
	}
	for _, d := range r.Drop {
		if d != "token_type_hint" {
			return fmt.Errorf("providers: quirks.revocation.drop: %q: only token_type_hint may be left out", d)
		}
	}
	if r.Kind == "rfc7009" && r.Method == "GET" && q.RevocationBody != "query" {
		return fmt.Errorf("providers: quirks.revocation.method GET: a GET has no body; set quirks.revocation_body to query")
	}
	return nil
}

// UsedVars returns the {var}s the quirks and c's URLs refer to; the
// RequestVars of token_params and refresh_params are filled per call
// and not listed.
func (c Config) UsedVars() map[string]string {
	used := map[string]string{}
	kept := c.Quirks.KeptNames()
	add := func(field, s string) {
		for _, m := range VarRE.FindAllStringSubmatch(s, -1) {
			if field == "revocation_url" && slices.Contains(kept, m[1]) && InURLPath(s, m[1]) {
				continue // filled from the connection's kept fields
			}
			if slices.Contains(RequestVars, m[1]) && (field == "quirks.token_params" || field == "quirks.refresh_params") ||
				slices.Contains(CallVars, m[1]) && strings.HasPrefix(field, "quirks.long_lived.") && strings.HasSuffix(field, ".params") {
				continue
			}
			if _, ok := used[m[1]]; !ok {
				used[m[1]] = field
			}
		}
	}
	q := c.Quirks
	for _, f := range []struct{ name, v string }{{"issuer", c.Issuer}, {"auth_url", c.AuthURL}, {"token_url", c.TokenURL},
		{"revocation_url", c.RevocationURL}, {"userinfo_url", c.UserinfoURL}, {"quirks.refresh_url", q.RefreshURL}} {
		add(f.name, f.v)
	}
	for _, m := range []struct {
		name string
		m    map[string]string
	}{{"auth_params", c.AuthParams}, {"quirks.token_params", q.TokenParams}, {"quirks.refresh_params", q.RefreshParams},
		{"quirks.token_headers", q.TokenHeaders}, {"quirks.refresh_headers", q.RefreshHeaders}, {"quirks.revocation_headers", q.RevocationHeaders}} {
		for _, v := range m.m {
			add(m.name, v)
		}
	}
	if q.Metadata != nil {
		add("quirks.metadata.url", q.Metadata.URL)
		for _, v := range q.Metadata.Headers {
			add("quirks.metadata.headers", v)
		}
	}
	for field, c := range q.LongLived.calls() {
		add(field+".url", c.URL)
		for _, v := range c.Params {
			add(field+".params", v)
		}
	}
	return used
}

var plainNameRE = regexp.MustCompile(`^[a-z_]+$`)

// KeptNames are the fields kept with a connection (quirks.keep paths,
// callback_keep parameters and metadata.keep names) whose name can be a
// {name} of the revocation URL's path, filled per connection (Polar's
// DELETE /v3/users/{x_user_id}).
func (q Quirks) KeptNames() []string {
	names := append(slices.Clone(q.Keep), q.CallbackKeep...)
	if q.Metadata != nil {
		for k := range q.Metadata.Keep {
			names = append(names, k)
		}
	}
	return slices.DeleteFunc(names, func(n string) bool { return !plainNameRE.MatchString(n) })
}

// InURLPath reports whether {name} appears in raw only after its host:
// a field kept from a provider's answer may pick a path, never a host.
func InURLPath(raw, name string) bool {
	_, rest, ok := strings.Cut(raw, "://")
	host, path, hasPath := strings.Cut(rest, "/")
	ph := "{" + name + "}"
	return ok && hasPath && !strings.Contains(host, ph) && strings.Contains(path, ph)
}
