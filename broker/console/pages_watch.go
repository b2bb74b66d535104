package console

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/oauth2broker/oauth2broker/broker/events"
	"github.com/oauth2broker/oauth2broker/storage"
)

// auditInfo is an audit event as the admin API shows it.
type auditInfo = storage.AuditEvent

// maxAuditPages bounds how many pages of 1000 events a page reads.
const maxAuditPages = 20

// auditEvents reads api's audit trail, newest first.
func (c *Console) auditEvents(q *request, api string) ([]auditInfo, error) {
	var all []auditInfo
	after := ""
	for range maxAuditPages {
		var page struct {
			Events []auditInfo `json:"events"`
			Next   string      `json:"next"`
		}
		path := apiPath(api, "audit") + "?limit=1000&after=" + url.QueryEscape(after)
		if err := c.call(q, http.MethodGet, path, nil, &page); err != nil {
			return nil, err
		}
		all = append(all, page.Events...)
		if page.Next == "" {
			break
		}
		after = page.Next
	}
	slices.Reverse(all)
	return all, nil
}

type connectionsData struct {
	Connections                        []events.ConnectionView
	Identity, Status, Provider, Client string
	Statuses                           []string
}

func (c *Console) connections(q *request) { c.showConnections(q, "", nil) }

func (c *Console) showConnections(q *request, notice string, failed error) {
	api, f := q.r.PathValue("api"), q.r.URL.Query()
	d := connectionsData{Identity: f.Get("identity"), Status: f.Get("status"), Provider: f.Get("provider"), Client: f.Get("client_id"),
		Statuses: []string{"active", "degraded", "needs_reauth", "revoked"}}
	filter := url.Values{}
	for k, v := range map[string]string{"client_user_identity": d.Identity, "provider": d.Provider, "client_id": d.Client} {
		if v != "" {
			filter.Set(k, v)
		}
	}
	var out struct {
		Connections []events.ConnectionView `json:"connections"`
	}
	err := c.call(q, http.MethodGet, apiPath(api, "connections")+"?"+filter.Encode(), nil, &out)
	for _, conn := range out.Connections {
		if d.Status == "" || conn.Status == d.Status {
			d.Connections = append(d.Connections, conn)
		}
	}
	c.show(q, "connections", view{Title: "Connections", API: api, Tab: "connections", Notice: notice, Data: d}, cmpErr(failed, err))
}

func (c *Console) revokeConnection(q *request) {
	id := q.r.PathValue("id")
	c.act(q, http.MethodDelete, apiPath(q.r.PathValue("api"), "connections", id), nil,
		"Connection "+id+" revoked at the provider and deleted.", c.showConnections)
}

func (c *Console) refreshConnection(q *request) {
	id := q.r.PathValue("id")
	c.act(q, http.MethodPost, apiPath(q.r.PathValue("api"), "connections", id, "refresh"), nil,
		"Connection "+id+" refreshed at the provider.", c.showConnections)
}

type auditData struct {
	Events                        []auditInfo
	Actor, Action, Target         string
	Since, Until                  string
	Shown, Matched, MaxShown, All int
}

// maxAuditShown bounds the events a page lists.
const maxAuditShown = 500

// audit lists the audit trail, newest first, filtered by actor, action,
// target (each a substring) and time (since, until: datetime-local, UTC).
func (c *Console) audit(q *request) {
	api, f := q.r.PathValue("api"), q.r.URL.Query()
	d := auditData{Actor: f.Get("actor"), Action: f.Get("action"), Target: f.Get("target"), Since: f.Get("since"), Until: f.Get("until"),
		MaxShown: maxAuditShown}
	since, _ := time.Parse("2006-01-02T15:04", d.Since)
	until, _ := time.Parse("2006-01-02T15:04", d.Until)
	all, err := c.auditEvents(q, api)
	d.All = len(all)
	for _, e := range all {
		if !strings.Contains(e.Actor, d.Actor) || !strings.Contains(e.Action, d.Action) || !strings.Contains(e.Target, d.Target) ||
			(!since.IsZero() && e.CreatedAt.Before(since)) || (!until.IsZero() && e.CreatedAt.After(until)) {
			continue
		}
		d.Matched++
		if len(d.Events) < maxAuditShown {
			d.Events = append(d.Events, e)
		}
	}
	d.Shown = len(d.Events)
	c.show(q, "audit", view{Title: "Audit", API: api, Tab: "audit", Data: d}, err)
}

// apiHealth is one API's line on the home page.
type apiHealth struct {
	Name string
	// Counts are connections by provider, then status.
	Counts map[string]map[string]int
	// Failures are the latest refresh failures from the audit trail.
	Failures []auditInfo
	Keys     []keyInfo
	Error    string
}

// home shows every API's health at a glance.
func (c *Console) home(q *request) {
	list, err := c.listAPIs(q)
	var health []apiHealth
	for _, a := range list {
		health = append(health, c.health(q, a.Name))
	}
	c.show(q, "home", view{Title: "Overview", Data: homeData{APIs: health, Now: c.cfg.Now()}}, err)
}

type homeData struct {
	APIs []apiHealth
	Now  time.Time
}

// maxFailuresShown bounds the refresh failures listed per API.
const maxFailuresShown = 5

func (c *Console) health(q *request, api string) apiHealth {
	h := apiHealth{Name: api, Counts: map[string]map[string]int{}}
	var conns struct {
		Connections []events.ConnectionView `json:"connections"`
	}
	var keys struct {
		Keys []keyInfo `json:"keys"`
	}
	trail, err := c.auditEvents(q, api)
	err = cmpErr(err, c.call(q, http.MethodGet, apiPath(api, "connections"), nil, &conns),
		c.call(q, http.MethodGet, apiPath(api, "keys"), nil, &keys))
	if err != nil {
		h.Error = err.Error()
	}
	for _, conn := range conns.Connections {
		if h.Counts[conn.Provider] == nil {
			h.Counts[conn.Provider] = map[string]int{}
		}
		h.Counts[conn.Provider][conn.Status]++
	}
	for _, e := range trail {
		if (e.Action == "connection.refresh_failed" || e.Action == "connection.needs_reauth") && len(h.Failures) < maxFailuresShown {
			h.Failures = append(h.Failures, e)
		}
	}
	h.Keys = keys.Keys
	return h
}
