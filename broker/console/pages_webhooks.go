package console

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/oauth2broker/oauth2broker/broker/events"
)

// Deliveries shown per client: a few on the overview of every client,
// a page when one client is picked.
const (
	deliveriesPerClient = 10
	deliveriesPerPage   = 50
)

// hookedClient is a client with a webhook URL and its latest deliveries.
type hookedClient struct {
	clientInfo
	Deliveries []events.DeliveryView
	// Next is the before of the next page ("" on the last).
	Next string
}

type webhooksData struct {
	Clients []hookedClient
	// Client, Status and Before are the filters when one client is picked.
	Client, Status, Before string
	Statuses               []string
}

func (c *Console) webhooks(q *request) { c.showWebhooks(q, "", nil, nil) }

// showWebhooks lists the clients with a webhook URL, each with its
// latest webhook events (GET …/clients/{id}/webhook-events); with
// ?client= only that client's, a page at a time, filtered by ?status=.
func (c *Console) showWebhooks(q *request, notice string, shown *clientInfo, failed error) {
	api, f := q.r.PathValue("api"), q.r.URL.Query()
	d := webhooksData{Client: f.Get("client"), Status: f.Get("status"), Before: f.Get("before"),
		Statuses: []string{events.DeliveryPending, events.DeliveryDelivered, events.DeliveryFailed}}
	list, err := c.listClients(q, api)
	limit := deliveriesPerClient
	if d.Client != "" {
		limit = deliveriesPerPage
	}
	for _, cl := range list {
		if cl.WebhookURL == "" || (d.Client != "" && cl.ClientID != d.Client) {
			continue
		}
		h := hookedClient{clientInfo: cl}
		var page struct {
			Events []events.DeliveryView `json:"webhook_events"`
			Next   string                `json:"next"`
		}
		query := url.Values{"limit": {strconv.Itoa(limit)}, "status": {d.Status}, "before": {d.Before}}
		err = cmpErr(err, c.call(q, http.MethodGet, apiPath(api, "clients", cl.ClientID, "webhook-events")+"?"+query.Encode(), nil, &page))
		h.Deliveries, h.Next = page.Events, page.Next
		d.Clients = append(d.Clients, h)
	}
	v := view{Title: "Webhooks", API: api, Tab: "webhooks", Notice: notice, Data: d}
	if shown != nil && shown.WebhookSecret != "" {
		v.Secret = &shownSecret{Title: "Webhook secret of " + shown.ClientID, Label: "webhook secret", Value: shown.WebhookSecret}
	}
	c.show(q, "webhooks", v, cmpErr(failed, err))
}

func (c *Console) rotateWebhook(q *request) {
	in := map[string]any{}
	if g, err := strconv.Atoi(q.r.PostForm.Get("grace_hours")); err == nil && g >= 0 {
		in["grace"] = strconv.Itoa(g) + "h"
	}
	var out clientInfo
	if err := c.call(q, http.MethodPost, apiPath(q.r.PathValue("api"), "clients", q.r.PathValue("id"), "webhook-secret"), in, &out); err != nil {
		c.showWebhooks(q, "", nil, err)
		return
	}
	c.showWebhooks(q, "New webhook secret for "+out.ClientID+".", &out, nil)
}

// retryWebhook makes a pending or failed webhook event due now.
func (c *Console) retryWebhook(q *request) {
	id, event := q.r.PathValue("id"), q.r.PathValue("event")
	c.act(q, http.MethodPost, apiPath(q.r.PathValue("api"), "clients", id, "webhook-events", event, "retry"), nil,
		"Webhook event "+event+" of "+id+" is due now; the broker is delivering it.", func(q *request, notice string, failed error) {
			c.showWebhooks(q, notice, nil, failed)
		})
}
