package admin

import (
	"errors"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/oauth2broker/oauth2broker/broker/events"
	"github.com/oauth2broker/oauth2broker/broker/protocol"
	"github.com/oauth2broker/oauth2broker/providers"
)

// adminAudit records a successful admin call on the current API.
func (s *API) adminAudit(c *gin.Context, action, target string) {
	s.events.Emit(c, events.Event{API: currentAPI(c).Name, Actor: actor(c), Type: action, Target: target})
}

// listAudit answers the API's audit trail, oldest first, a page at a
// time: ?limit=N (default 1000, at most 10000) events after ?after=ID;
// "next" is the after of the next page, when there is one.
func (s *API) listAudit(c *gin.Context) {
	limit, ok := pageLimit(c, events.DefaultAuditPage, events.MaxAuditPage)
	if !ok {
		return
	}
	page, next, err := s.events.ListAudit(c.Request.Context(), currentAPI(c).Name, c.Query("after"), limit)
	if err != nil {
		fail(c, err)
		return
	}
	body := gin.H{}
	if next != "" {
		body["next"] = next
	}
	body["events"] = nonNil(page)
	protocol.WriteJSON(c.Writer, http.StatusOK, body)
}

// webhookRotateInput is the optional body of POST
// .../clients/{id}/webhook-secret.
type webhookRotateInput struct {
	// Grace is how long the replaced secret keeps signing; 24h when
	// absent, "0s" to drop it at once.
	Grace *providers.Duration `json:"grace"`
}

// rotateWebhookSecret gives a client a new webhook secret, answered once
// (see events.Stream.RotateSecret).
func (s *API) rotateWebhookSecret(c *gin.Context) {
	var in webhookRotateInput
	if c.Request.ContentLength != 0 {
		if err := decodeJSON(c, &in); err != nil {
			fail(c, err)
			return
		}
	}
	grace := events.DefaultSecretGrace
	if in.Grace != nil {
		grace = time.Duration(*in.Grace)
	}
	if grace < 0 || grace > events.MaxSecretGrace {
		fail(c, protocol.ErrInvalidRequest.WithDescription("grace must be between 0s and 720h"))
		return
	}
	a := currentAPI(c)
	cl, hook, err := s.events.RotateSecret(c, a.Name, c.Param("id"), grace)
	if errors.Is(err, events.ErrNoWebhook) {
		err = protocol.ErrInvalidRequest.WithDescription("the client has no webhook_url")
	}
	if err != nil {
		fail(c, storeError(err, "client"))
		return
	}
	s.logger(c).Info("webhook secret rotated", "api", a.Name, "client_id", cl.ID, "grace", grace.String())
	s.adminAudit(c, "client.webhook_secret_rotated", cl.ID)
	v := viewClient(cl)
	v.WebhookSecret = hook
	protocol.WriteJSON(c.Writer, http.StatusOK, v)
}
