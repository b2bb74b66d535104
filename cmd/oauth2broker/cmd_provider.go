package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strconv"
)

// providerFlags are the settings of "provider put".
type providerFlags struct {
	template, typ, issuer, authURL, tokenURL string
	serverURL                                string
	revocationURL, userinfoURL, authStyle    string
	clientID, callback                       string
	secretFromStdin                          bool
	scopes, allowedScopes, apiBaseURLs       stringList
	authParams                               keyValues
	vars                                     keyValues
	// set carries any setting by its JSON name: every setting of
	// providers.Config is reachable without a flag of its own.
	set keyValues
}

func (f *providerFlags) register(fs *flag.FlagSet) {
	f.authParams, f.vars, f.set = keyValues{}, keyValues{}, keyValues{}
	fs.StringVar(&f.template, "template", "", "a provider of the built-in catalog, such as github")
	fs.StringVar(&f.typ, "type", "", "oidc (found by --issuer), oauth2 (explicit endpoints) or mcp (an MCP server found by --server-url)")
	fs.StringVar(&f.serverURL, "server-url", "", "the MCP server's URL (type mcp): its authorization server is discovered and the broker registers itself")
	fs.StringVar(&f.issuer, "issuer", "", "the OIDC issuer URL")
	fs.StringVar(&f.authURL, "auth-url", "", "the authorization endpoint (type oauth2)")
	fs.StringVar(&f.tokenURL, "token-url", "", "the token endpoint (type oauth2)")
	fs.StringVar(&f.revocationURL, "revocation-url", "", "the RFC 7009 revocation endpoint")
	fs.StringVar(&f.userinfoURL, "userinfo-url", "", "the userinfo endpoint")
	fs.StringVar(&f.authStyle, "auth-style", "", "how the broker authenticates upstream: header or body (default: detected)")
	fs.StringVar(&f.clientID, "client-id", "", "the broker's client_id at the provider (required, except for type mcp: a pre-registered client)")
	fs.BoolVar(&f.secretFromStdin, "client-secret-stdin", false, "read the broker's client_secret at the provider from the first line of standard input")
	fs.Var(&f.scopes, "scope", "a scope to request upstream (repeatable)")
	fs.Var(&f.allowedScopes, "allowed-scope", "a further upstream scope apps may ask for at authorize (repeatable)")
	fs.Var(&f.apiBaseURLs, "api-base-url", "an API base URL the proxy may reach, https (the first is the default; repeatable; replaces a template's defaults)")
	fs.StringVar(&f.callback, "callback", "", `the redirect URI registered at the provider: "provider" (its own path, the default for a new provider) or "shared" (the API's one callback); an existing provider keeps its own when omitted`)
	fs.Var(f.authParams, "auth-param", "an extra authorization request parameter K=V (repeatable)")
	fs.Var(f.vars, "var", "a template variable K=V, such as tenant=contoso (repeatable; see oauth2broker providers show NAME)")
	fs.Var(f.set, "set", "any provider setting NAME=VALUE by its API name, such as refresh_lead=3m; VALUE is sent as JSON when it is JSON, else as a string (repeatable)")
}

func (f *providerFlags) body() map[string]any {
	body := map[string]any{
		"template": f.template, "type": f.typ, "issuer": f.issuer, "server_url": f.serverURL, "auth_url": f.authURL,
		"token_url": f.tokenURL, "revocation_url": f.revocationURL, "userinfo_url": f.userinfoURL,
		"auth_style": f.authStyle, "client_id": f.clientID, "scopes": f.scopes, "auth_params": f.authParams,
		"vars": f.vars, "allowed_scopes": f.allowedScopes, "callback": f.callback,
		"api_base_urls": f.apiBaseURLs,
	}
	for k, v := range f.set {
		if json.Valid([]byte(v)) {
			body[k] = json.RawMessage(v)
		} else {
			body[k] = v
		}
	}
	return body
}

// providerPut creates or replaces a provider. PUT replaces the whole
// record: a secret not given again is gone.
func providerPut(a *app, args []string) error {
	fs := a.flags("provider put")
	api := apiFlag(fs)
	var f providerFlags
	f.register(fs)
	pos, err := a.parseInAPI(fs, api, args, "NAME")
	if err != nil {
		return err
	}
	if f.template != "" && f.typ != "" {
		return usagef("give --template or --type, not both")
	}
	body := f.body()
	if f.secretFromStdin {
		if body["client_secret"], err = readSecretLine(a.stdin); err != nil {
			return err
		}
	}
	raw, err := a.call(http.MethodPut, apiPath(*api, "providers", pos[0]), body)
	if err != nil {
		return err
	}
	return render(a, raw, func(w io.Writer, v providerOut) {
		fmt.Fprintf(w, "saved provider %s in api %s (client secret set: %t)\nregister this redirect URI at the provider: %s\n", v.Name, *api, v.ClientSecretSet, v.CallbackURL)
	})
}

func providerList(a *app, args []string) error {
	return listIn(a, "provider list", "providers", args, func(w io.Writer, v providersOut) {
		rows := make([][]string, len(v.Providers))
		for i, p := range v.Providers {
			rows[i] = []string{p.Name, providerKind(p), p.ClientID, strconv.FormatBool(p.ClientSecretSet), list(p.Scopes)}
		}
		table(w, "NAME KIND CLIENT_ID SECRET_SET SCOPES", rows)
	})
}

func providerGet(a *app, args []string) error {
	return getIn(a, "provider get", "providers", "NAME", args, printProvider)
}

// printProvider shows every member of the provider's view.
func printProvider(w io.Writer, p providerOut) {
	fields(w, jsonFields(p)...)
}

// providerKind is "template:github", "oidc", "oauth2" or "mcp", with an
// MCP provider's registration once discovered ("mcp:dynamic").
func providerKind(p providerOut) string {
	if p.Template != "" {
		return "template:" + p.Template
	}
	if p.Discovered != nil {
		return p.Type + ":" + p.Discovered.Registration
	}
	return p.Type
}

func providerDelete(a *app, args []string) error {
	return deleteIn(a, "provider delete", "providers", "provider", "NAME", args)
}
