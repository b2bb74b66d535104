package broker

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/oauth2broker/oauth2broker/broker/protocol"
	"github.com/oauth2broker/oauth2broker/storage"
)

// Grace periods of a webhook secret rotation: how long the replaced
// secret still signs deliveries beside the new one.
const (
	defaultWebhookGrace = 24 * time.Hour
	maxWebhookGrace     = 30 * 24 * time.Hour
)

// webhookRotateInput is the optional body of POST
// .../clients/{id}/webhook-secret.
type webhookRotateInput struct {
	// Grace is how long the replaced secret keeps signing; 24h when
	// absent, "0s" to drop it at once.
	Grace *duration `json:"grace"`
}

// rotateWebhookSecret gives a client a new webhook secret, answered once.
// The replaced secret signs deliveries beside it for the grace period, so
// receivers can switch without losing one; a secret replaced earlier and
// still in its grace period is dropped.
func (s *Server) rotateWebhookSecret(c *gin.Context) {
	var in webhookRotateInput
	if c.Request.ContentLength != 0 {
		if err := decodeJSON(c, &in); err != nil {
			fail(c, err)
			return
		}
	}
	grace := defaultWebhookGrace
	if in.Grace != nil {
		grace = time.Duration(*in.Grace)
	}
	if grace < 0 || grace > maxWebhookGrace {
		fail(c, protocol.ErrInvalidRequest.WithDescription("grace must be between 0s and 720h"))
		return
	}
	a := currentAPI(c)
	hook, err := newWebhookSecret()
	if err != nil {
		fail(c, err)
		return
	}
	sealed, err := s.keyring.Seal([]byte(hook), webhookSecretAD(a.Name, c.Param("id")))
	if err != nil {
		fail(c, err)
		return
	}
	cl, err := s.store.UpdateClient(c, a.Name, c.Param("id"), func(old storage.Client) (storage.Client, error) {
		if old.WebhookURL == "" {
			return old, protocol.ErrInvalidRequest.WithDescription("the client has no webhook_url")
		}
		now := s.now().UTC()
		old.SealedOldWebhookSecret, old.OldWebhookSecretUntil = nil, time.Time{}
		if grace > 0 && len(old.SealedWebhookSecret) > 0 {
			old.SealedOldWebhookSecret, old.OldWebhookSecretUntil = old.SealedWebhookSecret, now.Add(grace)
		}
		old.SealedWebhookSecret, old.UpdatedAt = sealed, now
		return old, nil
	})
	if err != nil {
		fail(c, storeError(err, "client"))
		return
	}
	s.logger(c).Info("webhook secret rotated", "api", a.Name, "client_id", cl.ID, "grace", grace.String())
	s.adminAudit(c, "client.webhook_secret_rotated", cl.ID)
	v := viewClient(cl)
	v.WebhookSecret = hook
	writeJSON(c, http.StatusOK, v)
}
