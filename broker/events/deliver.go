package events

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/oauth2broker/oauth2broker/outbound"
	"github.com/oauth2broker/oauth2broker/storage"
)

// Webhook delivery: every connection event of a client with a webhook_url
// is stored (so a restart loses none), then POSTed as JSON with
//
//	X-OAuth2Broker-Event: connection.created
//	X-OAuth2Broker-Delivery: <event id>
//
// and the Standard Webhooks signature headers (sign.go).
//
// A 2xx answer ends it; anything else is retried with a doubling delay
// (Config.Retry, 2×, 4×, …; with the default 1 s, twelve attempts span
// about 34 minutes). With replicas, a compare-and-swap on the event lets
// one of them deliver it. Delivery is at least once; payloads never carry
// tokens. A delivered or given-up event is kept for keepFinished, so that
// the admin API can list it (deliveries.go), then deleted.
const (
	deliveryAttempts = 12
	deliveryTimeout  = 10 * time.Second
	maxDeliveryDelay = time.Hour
	keepFinished     = 24 * time.Hour
)

// payload is the JSON body of a delivery.
type payload struct {
	ID         string         `json:"id"`
	Type       string         `json:"type"`
	CreatedAt  time.Time      `json:"created_at"`
	API        string         `json:"api"`
	ClientID   string         `json:"client_id"`
	Connection ConnectionView `json:"connection"`
}

// enqueue stores an event for the client's webhook, if it has one, and
// wakes the deliverer.
func (s *Stream) enqueue(ctx context.Context, event string, c storage.Connection) {
	cl, err := s.store.GetClient(ctx, c.API, c.ClientID)
	if err != nil || cl.WebhookURL == "" {
		return
	}
	now := s.now().UTC()
	id := newID(now)
	body, err := json.Marshal(payload{ID: id, Type: event, CreatedAt: now, API: c.API, ClientID: c.ClientID, Connection: ViewConnection(c)})
	if err == nil {
		err = s.store.CreateWebhookEvent(ctx, storage.WebhookEvent{API: c.API, ID: id, ClientID: c.ClientID, Type: event, Payload: body, NextAt: now, CreatedAt: now})
	}
	if err != nil {
		s.log.Error("webhook event not stored", "api", c.API, "client_id", c.ClientID, "event", event, "err", err)
		return
	}
	s.wakeUp()
}

// wakeUp makes the deliverer look for due events now.
func (s *Stream) wakeUp() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// DropClient deletes the pending deliveries of a deleted client, so a
// later client with the same id receives none of them.
func (s *Stream) DropClient(ctx context.Context, api, clientID string) {
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

// Run delivers due events when woken and every second, until ctx ends.
func (s *Stream) Run(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.wake:
		}
		s.deliverDue(ctx)
	}
}

// deliverDue tries every due event once.
func (s *Stream) deliverDue(ctx context.Context) {
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
			switch {
			case finished(e):
				if s.now().Sub(e.FinishedAt) > keepFinished {
					_ = s.store.DeleteWebhookEvent(ctx, e.API, e.ID)
				}
			case !e.NextAt.After(s.now()):
				s.deliver(ctx, e)
			}
		}
	}
}

// deliver posts one event and records the outcome.
func (s *Stream) deliver(ctx context.Context, e storage.WebhookEvent) {
	cl, err := s.store.GetClient(ctx, e.API, e.ClientID)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && cl.WebhookURL == "") {
		_ = s.store.DeleteWebhookEvent(ctx, e.API, e.ID) // nobody to tell
		return
	}
	if err == nil && !s.claim(ctx, e) {
		return // another replica is delivering it
	}
	status := 0
	if err == nil {
		status, err = s.post(ctx, cl, e)
	}
	s.record(ctx, e, status, err)
}

// record stores the outcome of an attempt: delivered, given up after the
// last attempt, or due again after a doubling delay.
func (s *Stream) record(ctx context.Context, e storage.WebhookEvent, status int, err error) {
	now := s.now()
	state, finishedAt, nextAt, lastError := "", time.Time{}, e.NextAt, ""
	switch {
	case err == nil:
		state, finishedAt = DeliveryDelivered, now
	case e.Attempts+1 >= deliveryAttempts:
		s.log.Warn("webhook given up", "api", e.API, "client_id", e.ClientID, "event", e.Type, "attempts", e.Attempts+1, "err", err)
		state, finishedAt, lastError = DeliveryFailed, now, err.Error()
	default:
		nextAt, lastError = now.Add(min(s.retry<<min(e.Attempts, 20), maxDeliveryDelay)), err.Error()
	}
	_, _ = s.store.UpdateWebhookEvent(ctx, e.API, e.ID, func(old storage.WebhookEvent) (storage.WebhookEvent, error) {
		old.Attempts, old.LastStatus, old.LastAttemptAt, old.ClaimedUntil = e.Attempts+1, status, now, time.Time{}
		old.Status, old.FinishedAt, old.NextAt, old.LastError = state, finishedAt, nextAt, lastError
		return old, nil
	})
}

// claim moves a due event's next attempt past this delivery's timeout,
// with a compare on the time read, so that one replica alone delivers it.
func (s *Stream) claim(ctx context.Context, e storage.WebhookEvent) bool {
	_, err := s.store.UpdateWebhookEvent(ctx, e.API, e.ID, func(old storage.WebhookEvent) (storage.WebhookEvent, error) {
		if !old.NextAt.Equal(e.NextAt) || old.Attempts != e.Attempts {
			return old, storage.ErrConflict
		}
		old.NextAt = s.now().Add(2 * deliveryTimeout)
		old.ClaimedUntil = old.NextAt
		return old, nil
	})
	return err == nil
}

// post sends one signed delivery; any 2xx is success. It returns the
// HTTP status of the answer, 0 when none came.
func (s *Stream) post(ctx context.Context, cl storage.Client, e storage.WebhookEvent) (int, error) {
	now := s.now()
	secrets, err := s.secrets(cl, now)
	if err != nil {
		return 0, err
	}
	ctx, cancel := context.WithTimeout(ctx, deliveryTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, cl.WebhookURL, bytes.NewReader(e.Payload))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-OAuth2Broker-Event", e.Type)
	req.Header.Set("X-OAuth2Broker-Delivery", e.ID)
	signRequest(req, secrets, e.ID, e.Payload, now)
	resp, err := s.client.Do(req)
	if cause := outbound.Cause(err); cause != nil {
		return 0, fmt.Errorf("webhook: %w", cause) // without the URL
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // the URL can carry a secret (…/hooks/<token>)
	}
	if err != nil {
		return 0, fmt.Errorf("webhook: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, fmt.Errorf("webhook: status %d", resp.StatusCode)
	}
	return resp.StatusCode, nil
}
