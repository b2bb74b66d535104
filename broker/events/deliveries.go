package events

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"time"

	"github.com/oauth2broker/oauth2broker/storage"
)

// States of a webhook delivery.
const (
	// DeliveryPending is an event not yet delivered: due at its next
	// attempt.
	DeliveryPending = "pending"
	// DeliveryDelivered is an event a webhook answered 2xx.
	DeliveryDelivered = "delivered"
	// DeliveryFailed is an event given up after the last attempt.
	DeliveryFailed = "failed"
)

// MaxDeliveryPage bounds a page of ListDeliveries.
const MaxDeliveryPage = 500

// Errors of RetryNow.
var (
	// ErrDelivered: the event was delivered; there is nothing to retry.
	ErrDelivered = errors.New("events: the event was delivered")
	// ErrInFlight: a replica is delivering the event right now.
	ErrInFlight = errors.New("events: the event is being delivered")
)

// DeliveryView is a webhook delivery as the admin API shows it: its state
// and outcome, never its payload.
type DeliveryView struct {
	ID           string `json:"id"`
	ClientID     string `json:"client_id"`
	Type         string `json:"type"`
	ConnectionID string `json:"connection_id,omitempty"`
	// Status is DeliveryPending, DeliveryDelivered or DeliveryFailed.
	Status   string `json:"status"`
	Attempts int    `json:"attempts"`
	// NextAttemptAt is when a pending event is tried next.
	NextAttemptAt time.Time `json:"next_attempt_at,omitzero"`
	LastAttemptAt time.Time `json:"last_attempt_at,omitzero"`
	// LastStatusCode is the webhook's HTTP status at the last attempt; 0
	// when it did not answer.
	LastStatusCode int       `json:"last_status_code,omitempty"`
	LastError      string    `json:"last_error,omitempty"`
	CreatedAt      time.Time `json:"created_at"`
	FinishedAt     time.Time `json:"finished_at,omitzero"`
}

// ViewDelivery is e as the admin API shows it.
func ViewDelivery(e storage.WebhookEvent) DeliveryView {
	v := DeliveryView{
		ID: e.ID, ClientID: e.ClientID, Type: e.Type, Status: e.Status, Attempts: e.Attempts, LastAttemptAt: e.LastAttemptAt,
		LastStatusCode: e.LastStatus, LastError: e.LastError, CreatedAt: e.CreatedAt, FinishedAt: e.FinishedAt,
	}
	if !finished(e) {
		v.Status, v.NextAttemptAt = DeliveryPending, e.NextAt
	}
	var p struct {
		Connection struct {
			ID string `json:"id"`
		} `json:"connection"`
	}
	if json.Unmarshal(e.Payload, &p) == nil {
		v.ConnectionID = p.Connection.ID
	}
	return v
}

func finished(e storage.WebhookEvent) bool {
	return e.Status == DeliveryDelivered || e.Status == DeliveryFailed
}

// ListDeliveries returns a page of the webhook events of api's client,
// newest first: those older than the event id before ("" from the
// newest), with status when not empty, at most limit; and the before of
// the next page ("" on the last).
func (s *Stream) ListDeliveries(ctx context.Context, api, clientID, status, before string, limit int) ([]DeliveryView, string, error) {
	all, err := s.store.ListWebhookEvents(ctx, api)
	if err != nil {
		return nil, "", err
	}
	slices.Reverse(all) // ids sort by creation
	limit = min(max(limit, 1), MaxDeliveryPage)
	var page []DeliveryView
	for _, e := range all {
		if e.ClientID != clientID || (before != "" && e.ID >= before) {
			continue
		}
		v := ViewDelivery(e)
		if status != "" && v.Status != status {
			continue
		}
		if len(page) == limit {
			return page, page[limit-1].ID, nil
		}
		page = append(page, v)
	}
	return page, "", nil
}

// RetryNow makes a pending or failed event of api's client due now and
// wakes the deliverer. A failed event gets one more attempt. With
// replicas, the claim (a compare-and-swap) still lets one of them deliver
// it. It fails with storage.ErrNotFound for an event of another client,
// ErrDelivered, or ErrInFlight.
func (s *Stream) RetryNow(ctx context.Context, api, clientID, id string) (DeliveryView, error) {
	now := s.now()
	e, err := s.store.UpdateWebhookEvent(ctx, api, id, func(old storage.WebhookEvent) (storage.WebhookEvent, error) {
		switch {
		case old.ClientID != clientID:
			return old, storage.ErrNotFound
		case old.Status == DeliveryDelivered:
			return old, ErrDelivered
		case old.ClaimedUntil.After(now):
			return old, ErrInFlight
		}
		old.Status, old.FinishedAt, old.NextAt = "", time.Time{}, now
		return old, nil
	})
	if err != nil {
		return DeliveryView{}, err
	}
	s.wakeUp()
	return ViewDelivery(e), nil
}
