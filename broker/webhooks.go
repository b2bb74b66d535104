package broker

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/oauth2broker/oauth2broker/broker/seal"
	"github.com/oauth2broker/oauth2broker/outbound"
	"github.com/oauth2broker/oauth2broker/storage"
)

// Webhook delivery: every connection event of a client with a webhook_url
// is stored (so a restart loses none), then POSTed as JSON with
//
//	X-OAuth2Broker-Event: connection.created
//	X-OAuth2Broker-Delivery: <event id>
//
// and the Standard Webhooks signature headers (webhook_sign.go).
//
// A 2xx answer ends it; anything else is retried with a doubling delay
// (WebhookRetry, 2×, 4×, …; with the default 1 s, twelve attempts span
// about 34 minutes). With replicas, a compare-and-swap on the event lets
// one of them deliver it. Delivery is at least once; payloads never carry
// tokens.
const (
	webhookAttempts = 12
	webhookTimeout  = 10 * time.Second
	maxWebhookDelay = time.Hour
)

func webhookSecretAD(api, clientID string) []byte {
	return seal.WebhookSecret.AD(api, clientID)
}

// webhookPayload is the JSON body of a delivery.
type webhookPayload struct {
	ID         string         `json:"id"`
	Type       string         `json:"type"`
	CreatedAt  time.Time      `json:"created_at"`
	API        string         `json:"api"`
	ClientID   string         `json:"client_id"`
	Connection connectionView `json:"connection"`
}

// onConnectionEvent stores an event for the client's webhook, if it has
// one, and wakes the deliverer.
func (s *Server) onConnectionEvent(ctx context.Context, event string, c storage.Connection) {
	s.audit(ctx, c.API, c.ClientID, event, c.ID, map[string]string{
		"provider": c.Provider, "client_user_identity": c.Identity, "status": c.Status, "last_error": c.LastError,
	})
	cl, err := s.store.GetClient(ctx, c.API, c.ClientID)
	if err != nil || cl.WebhookURL == "" {
		return
	}
	now := s.now().UTC()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	id := fmt.Sprintf("%013x-%s", now.UnixMilli(), hex.EncodeToString(b))
	payload, err := json.Marshal(webhookPayload{ID: id, Type: event, CreatedAt: now, API: c.API, ClientID: c.ClientID, Connection: viewConnection(c)})
	if err == nil {
		err = s.store.CreateWebhookEvent(ctx, storage.WebhookEvent{API: c.API, ID: id, ClientID: c.ClientID, Type: event, Payload: payload, NextAt: now, CreatedAt: now})
	}
	if err != nil {
		s.log.Error("webhook event not stored", "api", c.API, "client_id", c.ClientID, "event", event, "err", err)
		return
	}
	select {
	case s.webhookWake <- struct{}{}:
	default:
	}
}

// dropClientEvents deletes the pending events of a deleted client, so a
// later client with the same id receives none of them.
func (s *Server) dropClientEvents(ctx context.Context, api, clientID string) {
	events, err := s.store.ListWebhookEvents(ctx, api)
	if err != nil {
		return
	}
	for _, e := range events {
		if e.ClientID == clientID {
			_ = s.store.DeleteWebhookEvent(ctx, api, e.ID)
		}
	}
}

// deliverWebhooks tries every due event once.
func (s *Server) deliverWebhooks(ctx context.Context) {
	apis, err := s.store.ListAPIs(ctx)
	if err != nil {
		s.log.Error("webhooks: list apis", "err", err)
		return
	}
	for _, a := range apis {
		events, err := s.store.ListWebhookEvents(ctx, a.Name)
		if err != nil {
			s.log.Error("webhooks: list events", "api", a.Name, "err", err)
			continue
		}
		for _, e := range events {
			if !e.NextAt.After(s.now()) {
				s.deliver(ctx, e)
			}
		}
	}
}

// deliver posts one event and records the outcome.
func (s *Server) deliver(ctx context.Context, e storage.WebhookEvent) {
	cl, err := s.store.GetClient(ctx, e.API, e.ClientID)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && cl.WebhookURL == "") {
		_ = s.store.DeleteWebhookEvent(ctx, e.API, e.ID) // nobody to tell
		return
	}
	if err == nil && !s.claimEvent(ctx, e) {
		return // another replica is delivering it
	}
	if err == nil {
		err = s.post(ctx, cl, e)
	}
	if err == nil {
		_ = s.store.DeleteWebhookEvent(ctx, e.API, e.ID)
		return
	}
	if e.Attempts+1 >= webhookAttempts {
		s.log.Warn("webhook given up", "api", e.API, "client_id", e.ClientID, "event", e.Type, "attempts", e.Attempts+1, "err", err)
		_ = s.store.DeleteWebhookEvent(ctx, e.API, e.ID)
		return
	}
	delay := min(s.webhookRetry<<min(e.Attempts, 20), maxWebhookDelay)
	_ = s.store.UpdateWebhookEvent(ctx, e.API, e.ID, func(old storage.WebhookEvent) (storage.WebhookEvent, error) {
		old.Attempts, old.NextAt, old.LastError = e.Attempts+1, s.now().Add(delay), err.Error()
		return old, nil
	})
}

// claimEvent moves a due event's next attempt past this delivery's
// timeout, with a compare on the time read, so that one replica alone
// delivers it.
func (s *Server) claimEvent(ctx context.Context, e storage.WebhookEvent) bool {
	err := s.store.UpdateWebhookEvent(ctx, e.API, e.ID, func(old storage.WebhookEvent) (storage.WebhookEvent, error) {
		if !old.NextAt.Equal(e.NextAt) || old.Attempts != e.Attempts {
			return old, storage.ErrConflict
		}
		old.NextAt = s.now().Add(2 * webhookTimeout)
		return old, nil
	})
	return err == nil
}

// post sends one signed delivery; any 2xx is success.
func (s *Server) post(ctx context.Context, cl storage.Client, e storage.WebhookEvent) error {
	now := s.now()
	secrets, err := s.webhookSecrets(cl, now)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, webhookTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, cl.WebhookURL, bytes.NewReader(e.Payload))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-OAuth2Broker-Event", e.Type)
	req.Header.Set("X-OAuth2Broker-Delivery", e.ID)
	signWebhookRequest(req, secrets, e.ID, e.Payload, now)
	resp, err := s.webhookClient.Do(req)
	if cause := outbound.Cause(err); cause != nil {
		return fmt.Errorf("webhook: %w", cause) // without the URL
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // the URL can carry a secret (…/hooks/<token>)
	}
	if err != nil {
		return fmt.Errorf("webhook: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("webhook: status %d", resp.StatusCode)
	}
	return nil
}

// runWebhooks delivers due events when woken and every second.
func (s *Server) runWebhooks(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.webhookWake:
		}
		s.deliverWebhooks(ctx)
	}
}
