package console

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/oauth2broker/oauth2broker/providers"
	"github.com/oauth2broker/oauth2broker/providers/catalog"
)

// providerInfo is a provider as the admin API shows it (never its
// secret).
type providerInfo = providers.View

type providersData struct {
	Providers []providerInfo
	// Saved is the provider just saved, whose callback URL the page
	// shows first.
	Saved *providerInfo
	// Templates are the catalog entries matching Query.
	Templates []*catalog.Entry
	Query     string
	// Link is a connect link just made by Try it.
	Link string
}

func (c *Console) providers(q *request) { c.showProviders(q, providersData{}, "", nil) }

func (c *Console) showProviders(q *request, d providersData, notice string, failed error) {
	api := q.r.PathValue("api")
	var out struct {
		Providers []providerInfo `json:"providers"`
	}
	err := c.call(q, http.MethodGet, apiPath(api, "providers"), nil, &out)
	d.Providers = out.Providers
	d.Query = strings.TrimSpace(q.r.URL.Query().Get("q"))
	d.Templates = c.findTemplates(d.Query)
	c.show(q, "providers", view{Title: "Providers", API: api, Tab: "providers", Notice: notice, Data: d}, cmpErr(failed, err))
}

// findTemplates lists the catalog entries whose name or display name
// contains query (every entry for "").
func (c *Console) findTemplates(query string) []*catalog.Entry {
	query = strings.ToLower(query)
	var out []*catalog.Entry
	for _, n := range c.cfg.Catalog.Names() {
		e, ok := c.cfg.Catalog.Get(n)
		if ok && (strings.Contains(n, query) || strings.Contains(strings.ToLower(e.DisplayName), query)) {
			out = append(out, e)
		}
	}
	return out
}

type providerFormData struct {
	// Entry is the chosen template; nil for a custom provider of Type.
	Entry *catalog.Entry
	Type  string
	// CallbackBase is the callback URL without the provider's name.
	CallbackBase string
	// Name is the name the form proposes.
	Name string
}

// CallbackURL is the callback URL of a new provider called Name.
func (d providerFormData) CallbackURL() string { return d.CallbackBase + url.PathEscape(d.Name) }

// providerForm is the form of a new provider, from a template
// (?template=) or custom (?type=oauth2 or oidc).
func (c *Console) providerForm(q *request) {
	c.showProviderForm(q, nil)
}

func (c *Console) showProviderForm(q *request, failed error) {
	api := q.r.PathValue("api")
	f := q.r.URL.Query()
	if q.r.Method == http.MethodPost {
		f = q.r.PostForm
	}
	var info apiInfo
	err := c.call(q, http.MethodGet, apiPath(api), nil, &info)
	d := providerFormData{CallbackBase: info.Issuer + "/oauth2/provider/callback/", Type: f.Get("type"), Name: f.Get("name")}
	if t := f.Get("template"); t != "" {
		e, ok := c.cfg.Catalog.Get(t)
		if !ok {
			c.showProviders(q, providersData{}, "", &adminError{Status: http.StatusNotFound, Description: "no template called " + t})
			return
		}
		d.Entry, d.Type = e, e.Type
		if d.Name == "" {
			d.Name = e.Name
		}
	}
	if d.Type != "oauth2" && d.Type != "oidc" {
		d.Type = "oauth2"
	}
	c.show(q, "provider", view{Title: "New provider", API: api, Tab: "providers", Data: d}, cmpErr(failed, err))
}

// providerBody is the admin body of the provider form.
func providerBody(f url.Values) map[string]any {
	in := map[string]any{"client_id": strings.TrimSpace(f.Get("client_id")), "scopes": fields(f.Get("scopes"))}
	if s := f.Get("client_secret"); s != "" {
		in["client_secret"] = s
	}
	if t := f.Get("template"); t != "" {
		in["template"] = t
	} else {
		in["type"] = f.Get("type")
		for _, k := range []string{"issuer", "auth_url", "token_url", "revocation_url", "userinfo_url"} {
			if v := strings.TrimSpace(f.Get(k)); v != "" {
				in[k] = v
			}
		}
	}
	vars := map[string]string{}
	for k, v := range f {
		if name, ok := strings.CutPrefix(k, "var_"); ok && strings.TrimSpace(v[0]) != "" {
			vars[name] = strings.TrimSpace(v[0])
		}
	}
	if len(vars) > 0 {
		in["vars"] = vars
	}
	return in
}

func (c *Console) saveProvider(q *request) {
	name := strings.TrimSpace(q.r.PostForm.Get("name"))
	var saved providerInfo
	err := c.call(q, http.MethodPut, apiPath(q.r.PathValue("api"), "providers", name), providerBody(q.r.PostForm), &saved)
	if err != nil {
		c.showProviderForm(q, err)
		return
	}
	c.showProviders(q, providersData{Saved: &saved}, "Provider "+saved.Name+" saved. Register its callback URL at the provider.", nil)
}

func (c *Console) deleteProvider(q *request) {
	id := q.r.PathValue("id")
	c.act(q, http.MethodDelete, apiPath(q.r.PathValue("api"), "providers", id), nil, "Provider "+id+" deleted; its connections were revoked.",
		func(q *request, notice string, failed error) { c.showProviders(q, providersData{}, notice, failed) })
}

// tryProvider makes a connect link, as an app would (POST
// /{api}/oauth2/connect/link with a client's credentials), so that the
// admin can connect a test account.
func (c *Console) tryProvider(q *request) {
	api, f := q.r.PathValue("api"), q.r.PostForm
	body := url.Values{"client_user_identity": {f.Get("identity")}}.Encode()
	req, err := http.NewRequestWithContext(q.r.Context(), http.MethodPost, "/"+url.PathEscape(api)+"/oauth2/connect/link", strings.NewReader(body))
	if err != nil {
		c.showProviders(q, providersData{}, "", err)
		return
	}
	req.SetBasicAuth(url.QueryEscape(f.Get("client_id")), url.QueryEscape(f.Get("client_secret")))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	var out struct {
		URL string `json:"url"`
	}
	if err := c.exchange(q, req, &out); err != nil {
		c.showProviders(q, providersData{}, "", err)
		return
	}
	c.showProviders(q, providersData{Link: out.URL}, "Connect link made for "+f.Get("identity")+
		": open it in a private window to connect a test account to "+q.r.PathValue("id")+".", nil)
}
