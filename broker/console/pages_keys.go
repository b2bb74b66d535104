package console

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/oauth2broker/oauth2broker/broker/admin"
)

// adminKeyInfo is an admin key as the admin API shows it.
type adminKeyInfo = admin.AdminKeyView

type keysData struct {
	Keys []adminKeyInfo
	APIs []apiInfo
}

func (c *Console) adminKeys(q *request) { c.showAdminKeys(q, "", nil, nil) }

// showAdminKeys lists the admin keys (GET /admin-keys: the admin token
// only; a key is answered 403 and sees the admin API's reason) with the
// form that makes one, and shows a key just made once.
func (c *Console) showAdminKeys(q *request, notice string, made *adminKeyInfo, failed error) {
	var out struct {
		Keys []adminKeyInfo `json:"admin_keys"`
	}
	err := c.call(q, http.MethodGet, "/admin-keys", nil, &out)
	d := keysData{Keys: out.Keys}
	if err == nil {
		d.APIs, err = c.listAPIs(q)
	}
	v := view{Title: "Admin keys", Notice: notice, Data: d}
	if made != nil {
		v.Secret = &shownSecret{Title: "Admin key " + orDefault(made.Name, made.ID), Label: "admin key (" + made.Access + ")", Value: made.Key,
			CurlLabel: "Try it",
			Curl:      "curl -H 'Authorization: Bearer " + made.Key + "' " + strings.TrimSuffix(c.cfg.PublicURL, "/") + AdminPrefix + "/whoami"}
	}
	c.show(q, "admin_keys", v, cmpErr(failed, err))
}

// createAdminKey makes a key from the form: name, APIs (checked), access
// and an optional expiry in days.
func (c *Console) createAdminKey(q *request) {
	f := q.r.PostForm
	in := map[string]any{"name": strings.TrimSpace(f.Get("name")), "apis": f["apis"], "access": f.Get("access")}
	if d := strings.TrimSpace(f.Get("expires_days")); d != "" {
		days, err := strconv.Atoi(d)
		if err != nil || days < 1 {
			c.showAdminKeys(q, "", nil, &adminError{Status: http.StatusBadRequest, Description: "expiry must be a whole number of days, 1 or more"})
			return
		}
		in["expires_at"] = c.cfg.Now().Add(time.Duration(days) * 24 * time.Hour).UTC().Format(time.RFC3339)
	}
	if len(f["apis"]) == 0 {
		in["apis"] = []string{}
	}
	var made adminKeyInfo
	if err := c.call(q, http.MethodPost, "/admin-keys", in, &made); err != nil {
		c.showAdminKeys(q, "", nil, err)
		return
	}
	if made.Key == "" {
		c.showAdminKeys(q, "", nil, errors.New("console: the admin API answered no key"))
		return
	}
	c.showAdminKeys(q, "Admin key "+made.ID+" created.", &made, nil)
}

// revokeAdminKey ends a key at once.
func (c *Console) revokeAdminKey(q *request) {
	id := q.r.PathValue("id")
	c.act(q, http.MethodDelete, "/admin-keys/"+id, nil, "Admin key "+id+" revoked.", func(q *request, notice string, failed error) {
		c.showAdminKeys(q, notice, nil, failed)
	})
}
