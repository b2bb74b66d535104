package main

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/oauth2broker/oauth2broker/providers"
	"github.com/oauth2broker/oauth2broker/providers/catalog"
)

// providersCmd is `oauth2broker providers [show NAME]`: the built-in
// catalog, read offline.
func providersCmd(a *app, args []string) error {
	fs := a.flags("providers")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cat, err := catalog.Load()
	if err != nil {
		return err
	}
	rest := fs.Args()
	if len(rest) == 0 {
		return listCatalog(a, cat)
	}
	if len(rest) != 2 || rest[0] != "show" {
		return usagef("want: providers, or providers show NAME")
	}
	e, ok := cat.Get(rest[1])
	if !ok {
		return fmt.Errorf("no template %q (oauth2broker providers lists them)", rest[1])
	}
	if a.json {
		return json.NewEncoder(a.stdout).Encode(e)
	}
	showEntry(a, e)
	return nil
}

func listCatalog(a *app, cat *catalog.Catalog) error {
	names := cat.Names()
	if a.json {
		return json.NewEncoder(a.stdout).Encode(names)
	}
	for _, n := range names {
		e, _ := cat.Get(n)
		fmt.Fprintf(a.stdout, "%-16s %s\n", n, e.DisplayName)
	}
	return nil
}

func showEntry(a *app, e *catalog.Entry) {
	w := a.stdout
	fmt.Fprintf(w, "%s (template %q, type %s)\n\nYou fill in:\n  client_id, client_secret (from the provider's developer console)\n", e.DisplayName, e.Name, e.Type)
	for _, v := range e.Vars {
		opt := "required"
		if v.Default != "" {
			opt = "default " + v.Default
		}
		fmt.Fprintf(w, "  vars.%s: %s (e.g. %s; %s)\n", v.Name, v.Description, v.Example, opt)
	}
	fmt.Fprintf(w, "\nRegister this redirect URI at the provider (provider put prints it):\n  {public_url}/{api}/oauth2/provider/callback/{name}\n"+
		"  (or, for a provider put with callback=shared, the API's one callback: {public_url}/{api}/oauth2/provider/callback)\n")
	fmt.Fprintf(w, "\nSettings:\n")
	for _, kv := range entrySettings(e) {
		fmt.Fprintf(w, "  %s: %s\n", kv[0], kv[1])
	}
	showQuirks(a, e.Defaults())
	scopes := strings.Join(e.DefaultScopes, " ")
	if scopes == "" {
		scopes = "none (the provider decides, or scopes are chosen when the app is registered)"
	}
	fmt.Fprintf(w, "\nQuirks handled: %s\nDefault scopes: %s\n", strings.Join(e.Quirks(), ", "), scopes)
	if e.Notes != "" {
		fmt.Fprintf(w, "\nNotes: %s\n", e.Notes)
	}
	fmt.Fprintf(w, "\nDocumentation:\n  %s\n\nExample:\n  oauth2broker provider put --api API %s --template %s --client-id ID --client-secret-stdin", strings.Join(e.Docs, "\n  "), e.Name, e.Name)
	for _, v := range e.Vars {
		if v.Default == "" {
			fmt.Fprintf(w, " --var %s=%s", v.Name, v.Example)
		}
	}
	fmt.Fprintln(w)
}

// entrySettings are the entry's settings outside its quirks block, as
// name and value, the unset ones left out.
func entrySettings(e *catalog.Entry) [][2]string {
	t := e.Token
	revocation := e.Revocation.Kind
	if revocation == "" && e.Type == "oidc" {
		revocation = "discovered"
	}
	all := [][2]string{
		{"issuer", e.Issuer}, {"auth_url", e.AuthURL}, {"token_url", e.TokenURL}, {"userinfo_url", e.UserinfoURL},
		{"revocation", strings.Join(strings.Fields(revocation+" "+e.Revocation.Method+" "+e.Revocation.URL), " ")},
		{"revocation.token", e.Revocation.Token},
		{"revocation.rename", sortedPairs(e.Revocation.Rename)}, {"revocation.drop", strings.Join(e.Revocation.Drop, ", ")},
		{"auth_style", cmp.Or(e.AuthStyle, "auto")}, {"pkce", cmp.Or(e.PKCE, "supported")},
		{"scope_separator", e.ScopeSeparator}, {"scope_param", e.ScopeParam}, {"auth_params", sortedPairs(e.AuthParams)},
		{"client_secret", e.ClientSecret}, {"callback_keep", strings.Join(e.CallbackKeep, ", ")}, {"callback_hmac", e.CallbackHMAC},
		{"token.access_token_path", t.AccessTokenPath}, {"token.refresh_token_path", t.RefreshTokenPath},
		{"token.expires_in_path", t.ExpiresInPath}, {"token.scope_path", t.ScopePath}, {"token.token_type_path", t.TokenTypePath},
		{"token.keep", strings.Join(t.Keep, ", ")}, {"token.lifetime", t.Lifetime}, {"token.refresh", cmp.Or(t.Refresh, "reusable")},
		{"token.refresh_lead", t.RefreshLead}, {"token.refresh_idle_after", t.RefreshIdleAfter},
	}
	out := all[:0]
	for _, kv := range all {
		if kv[1] != "" {
			out = append(out, kv)
		}
	}
	return out
}

// showQuirks prints an entry's quirks block as a provider's "quirks"
// would spell it (YAML), or says there is none.
func showQuirks(a *app, q providers.Quirks) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	err := enc.Encode(q)
	if b := buf.Bytes(); err != nil || strings.TrimSpace(string(b)) == "{}" {
		fmt.Fprintf(a.stdout, "\nQuirks: none (plain RFC 6749)\n")
		return
	}
	fmt.Fprintf(a.stdout, "\nQuirks (defaults; a provider's own quirks block wins field by field):\n")
	for _, line := range strings.Split(strings.TrimRight(buf.String(), "\n"), "\n") {
		fmt.Fprintf(a.stdout, "  %s\n", line)
	}
}

// sortedPairs writes a map as k=v pairs in key order.
func sortedPairs(m map[string]string) string {
	pairs := make([]string, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		pairs = append(pairs, k+"="+m[k])
	}
	return strings.Join(pairs, " ")
}
