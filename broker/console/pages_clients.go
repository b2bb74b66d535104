package console

import (
	"net/http"
	"net/url"

	"github.com/oauth2broker/oauth2broker/broker/admin"
)

// clientInfo is a client ("API user") as the admin API shows it;
// ClientSecret and WebhookSecret are set only when just generated.
type clientInfo = admin.ClientView

// grantChoices are the grant types the client form offers, with labels.
var grantChoices = [][2]string{
	{"client_credentials", "Client credentials (server to server)"},
	{"password", "Password (users of this API)"},
	{"refresh_token", "Refresh token"},
	{"connection", "Connections (upstream provider tokens)"},
	{"token_exchange", "Token exchange"},
	{"proxy", "Upstream API proxy"},
}

type clientsData struct {
	Clients []clientInfo
	Grants  [][2]string
	Token   string // the API's token endpoint
}

func (c *Console) listClients(q *request, api string) ([]clientInfo, error) {
	var out struct {
		Clients []clientInfo `json:"clients"`
	}
	err := c.call(q, http.MethodGet, apiPath(api, "clients"), nil, &out)
	return out.Clients, err
}

func (c *Console) clients(q *request) { c.showClients(q, "", nil, nil) }

// showClients renders the clients page, with a secret just generated
// (shown once) or the failure of the form.
func (c *Console) showClients(q *request, notice string, shown *clientInfo, failed error) {
	api := q.r.PathValue("api")
	d := clientsData{Grants: grantChoices}
	var info apiInfo
	err := c.call(q, http.MethodGet, apiPath(api), nil, &info)
	if err == nil {
		d.Clients, err = c.listClients(q, api)
	}
	d.Token = info.Issuer + "/oauth2/token"
	v := view{Title: "Clients", API: api, Tab: "clients", Notice: notice, Data: d}
	if shown != nil && shown.ClientSecret != "" {
		v.Secret = &shownSecret{
			Title: "Secret of " + shown.ClientID, Label: "client_secret", Value: shown.ClientSecret,
			Curl: "curl -u '" + shown.ClientID + ":" + shown.ClientSecret + "' -d grant_type=client_credentials " + d.Token,
		}
	}
	c.show(q, "clients", v, cmpErr(failed, err))
}

// cmpErr is the first error that is not nil.
func cmpErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func (c *Console) createClient(q *request) {
	f := q.r.PostForm
	in := map[string]any{"client_id": f.Get("client_id"), "name": f.Get("name"), "grant_types": f["grant_type"], "scopes": fields(f.Get("scopes"))}
	ttl, err := minutes(f.Get("ttl_minutes"))
	if ttl != "" {
		in["access_token_ttl"] = ttl
	}
	if hook := f.Get("webhook_url"); hook != "" {
		in["webhook_url"] = hook
	}
	var out clientInfo
	if err == nil {
		err = c.call(q, http.MethodPost, apiPath(q.r.PathValue("api"), "clients"), in, &out)
	}
	if err != nil {
		c.showClients(q, "", nil, err)
		return
	}
	c.showClients(q, "Client "+out.ClientID+" created.", &out, nil)
}

func (c *Console) clientSecret(q *request) {
	var out clientInfo
	if err := c.call(q, http.MethodPost, apiPath(q.r.PathValue("api"), "clients", q.r.PathValue("id"), "secret"), nil, &out); err != nil {
		c.showClients(q, "", nil, err)
		return
	}
	c.showClients(q, "New secret generated for "+out.ClientID+"; the old one no longer works.", &out, nil)
}

func (c *Console) deleteClient(q *request) {
	id := q.r.PathValue("id")
	c.act(q, http.MethodDelete, apiPath(q.r.PathValue("api"), "clients", id), nil, "Client "+id+" deleted; its connections were revoked.",
		func(q *request, notice string, failed error) { c.showClients(q, notice, nil, failed) })
}

// userInfo is a user of the password grant as the admin API shows it.
type userInfo = admin.UserView

func (c *Console) users(q *request) { c.showUsers(q, "", nil) }

// usersData is the users page: each user with its login throttle as
// the replica that answers knows it, and a username checked by hand.
type usersData struct {
	Users []userRow
	// Check, Address and Checked: the form that asks about any
	// username, from an address when given.
	Check, Address string
	Checked        *admin.ThrottleView
}

type userRow struct {
	userInfo
	Throttle admin.ThrottleView
}

func (c *Console) showUsers(q *request, notice string, failed error) {
	var out struct {
		Users []userInfo `json:"users"`
	}
	api, f := q.r.PathValue("api"), q.r.URL.Query()
	err := c.call(q, http.MethodGet, apiPath(api, "users"), nil, &out)
	d := usersData{Check: f.Get("check"), Address: f.Get("address")}
	for _, u := range out.Users {
		row := userRow{userInfo: u}
		err = cmpErr(err, c.call(q, http.MethodGet, apiPath(api, "users", u.Username, "throttle"), nil, &row.Throttle))
		d.Users = append(d.Users, row)
	}
	if d.Check != "" {
		d.Checked = &admin.ThrottleView{}
		query := url.Values{"address": {d.Address}}
		err = cmpErr(err, c.call(q, http.MethodGet, apiPath(api, "users", d.Check, "throttle")+"?"+query.Encode(), nil, d.Checked))
	}
	c.show(q, "users", view{Title: "Users", API: api, Tab: "users", Notice: notice, Data: d}, cmpErr(failed, err))
}

func (c *Console) createUser(q *request) {
	f := q.r.PostForm
	in := map[string]any{"username": f.Get("username"), "password": f.Get("password"), "scopes": fields(f.Get("scopes"))}
	c.act(q, http.MethodPost, apiPath(q.r.PathValue("api"), "users"), in, "User "+f.Get("username")+" created.", c.showUsers)
}

func (c *Console) resetPassword(q *request) {
	id := q.r.PathValue("id")
	in := map[string]any{"password": q.r.PostForm.Get("password")}
	c.act(q, http.MethodPut, apiPath(q.r.PathValue("api"), "users", id, "password"), in,
		"Password of "+id+" changed; its sessions (refresh tokens) ended.", c.showUsers)
}

func (c *Console) deleteUser(q *request) {
	id := q.r.PathValue("id")
	c.act(q, http.MethodDelete, apiPath(q.r.PathValue("api"), "users", id), nil, "User "+id+" deleted.", c.showUsers)
}
