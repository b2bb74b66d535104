package console

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/oauth2broker/oauth2broker/broker/admin"
	"github.com/oauth2broker/oauth2broker/broker/tokens"
	"github.com/oauth2broker/oauth2broker/providers"
)

// apiInfo is an API as the admin API shows it.
type apiInfo = admin.APIView

// keyInfo is a signing key as the admin API shows it.
type keyInfo = admin.KeyView

// listAPIs reads every API the credential may see.
func (c *Console) listAPIs(q *request) ([]apiInfo, error) {
	var out struct {
		APIs []apiInfo `json:"apis"`
	}
	err := c.call(q, http.MethodGet, "/apis", nil, &out)
	return out.APIs, err
}

type apisData struct {
	APIs []apiInfo
	Algs []string
}

func (c *Console) apis(q *request) {
	list, err := c.listAPIs(q)
	c.show(q, "apis", view{Title: "APIs", Data: apisData{APIs: list, Algs: tokens.SupportedAlgs}}, err)
}

// apiForm is the admin body the API forms make.
func apiForm(f url.Values, create bool) (map[string]any, error) {
	in := map[string]any{
		"tenants": fields(f.Get("tenants")), "token_paths": fields(f.Get("token_paths")),
		"audience": strings.TrimSpace(f.Get("audience")),
	}
	if create {
		in["name"] = strings.TrimSpace(f.Get("name"))
	} else {
		in["default_client"] = strings.TrimSpace(f.Get("default_client"))
		in["expose_refresh_token"] = f.Get("expose_refresh_token") == "on"
	}
	if alg := f.Get("signing_alg"); alg != "" {
		in["signing_alg"] = alg
	}
	ttl, err := minutes(f.Get("ttl_minutes"))
	if err != nil {
		return nil, err
	}
	if ttl != "" {
		in["access_token_ttl"] = ttl
	}
	return in, nil
}

func (c *Console) createAPI(q *request) {
	in, err := apiForm(q.r.PostForm, true)
	if err == nil {
		err = c.call(q, http.MethodPost, "/apis", in, nil)
	}
	if err != nil {
		list, _ := c.listAPIs(q)
		c.show(q, "apis", view{Title: "APIs", Data: apisData{APIs: list, Algs: tokens.SupportedAlgs}}, err)
		return
	}
	http.Redirect(q.w, q.r, Prefix+"apis/"+url.PathEscape(in["name"].(string)), http.StatusSeeOther)
}

type apiData struct {
	API  apiInfo
	Keys []keyInfo
	Algs []string
	// URLs to hand to resource servers and clients.
	Metadata, JWKS, Token string
	ExtraTokens           []string
	Clients               []clientInfo
	Now                   time.Time
}

// apiPage shows an API's settings, its signing keys and its URLs.
func (c *Console) apiPage(q *request) {
	c.showAPI(q, "", nil)
}

func (c *Console) showAPI(q *request, notice string, failed error) {
	name := q.r.PathValue("api")
	d := apiData{Algs: tokens.SupportedAlgs, Now: c.cfg.Now()}
	err := c.call(q, http.MethodGet, apiPath(name), nil, &d.API)
	if err == nil {
		var keys struct {
			Keys []keyInfo `json:"keys"`
		}
		err = c.call(q, http.MethodGet, apiPath(name, "keys"), nil, &keys)
		d.Keys = keys.Keys
	}
	if err == nil {
		d.Clients, err = c.listClients(q, name)
	}
	base := strings.TrimRight(c.cfg.PublicURL, "/")
	d.Metadata = base + "/.well-known/oauth-authorization-server/" + url.PathEscape(name)
	d.JWKS, d.Token = d.API.Issuer+"/oauth2/jwks", d.API.Issuer+"/oauth2/token"
	for _, p := range d.API.TokenPaths {
		d.ExtraTokens = append(d.ExtraTokens, base+p)
	}
	if failed != nil {
		err = failed
	}
	c.show(q, "api", view{Title: name, API: name, Tab: "settings", Notice: notice, Data: d}, err)
}

func (c *Console) saveAPI(q *request) {
	in, err := apiForm(q.r.PostForm, false)
	if err == nil {
		err = c.call(q, http.MethodPatch, apiPath(q.r.PathValue("api")), in, nil)
	}
	if err != nil {
		c.showAPI(q, "", err)
		return
	}
	c.showAPI(q, "Settings saved.", nil)
}

func (c *Console) rotateKeys(q *request) {
	var out struct {
		Kid string `json:"kid"`
	}
	if err := c.call(q, http.MethodPost, apiPath(q.r.PathValue("api"), "keys", "rotate"), nil, &out); err != nil {
		c.showAPI(q, "", err)
		return
	}
	c.showAPI(q, "New signing key "+out.Kid+"; the others retire once the tokens they signed have expired.", nil)
}

// fields splits a list typed in a form (spaces, commas or new lines).
func fields(s string) []string {
	out := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || unicode.IsSpace(r) })
	if out == nil {
		return []string{}
	}
	return out
}

// minutes turns a form's whole minutes into a Go duration ("" stays "").
func minutes(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return "", &adminError{Status: http.StatusBadRequest, Description: "a lifetime is a whole number of minutes, 1 or more"}
	}
	return fmt.Sprintf("%dm", n), nil
}

// ttlMinutes shows a lifetime (providers.Duration, or a pointer to one)
// in whole minutes; "" when unset.
func ttlMinutes(v any) string {
	var d time.Duration
	switch t := v.(type) {
	case providers.Duration:
		d = time.Duration(t)
	case *providers.Duration:
		if t != nil {
			d = time.Duration(*t)
		}
	}
	if d <= 0 {
		return ""
	}
	return strconv.Itoa(int(d.Minutes()))
}
