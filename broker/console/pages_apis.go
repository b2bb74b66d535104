package console

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/oauth2broker/oauth2broker/broker/tokens"
)

// apiInfo is an API as the admin API shows it.
type apiInfo struct {
	Name               string    `json:"name"`
	Issuer             string    `json:"issuer"`
	Tenants            []string  `json:"tenants"`
	AccessTokenTTL     string    `json:"access_token_ttl"`
	TokenPaths         []string  `json:"token_paths"`
	SigningAlg         string    `json:"signing_alg"`
	TokenFormat        string    `json:"token_format"`
	Audience           string    `json:"audience"`
	DefaultClient      string    `json:"default_client"`
	ExposeRefreshToken bool      `json:"expose_refresh_token"`
	CreatedAt          time.Time `json:"created_at"`
}

// TTLMinutes is the access-token lifetime in whole minutes, for the form.
func (a apiInfo) TTLMinutes() string { return durationMinutes(a.AccessTokenTTL) }

// keyInfo is a signing key as the admin API shows it.
type keyInfo struct {
	ID        string     `json:"kid"`
	Alg       string     `json:"alg"`
	CreatedAt time.Time  `json:"created_at"`
	RetiredAt *time.Time `json:"retired_at"`
}

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

// durationMinutes shows a Go duration in whole minutes ("" stays "").
func durationMinutes(s string) string {
	d, err := time.ParseDuration(s)
	if s == "" || err != nil {
		return ""
	}
	return strconv.Itoa(int(d.Minutes()))
}
