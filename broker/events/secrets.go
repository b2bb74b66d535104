package events

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"time"

	"github.com/oauth2broker/oauth2broker/broker/seal"
	"github.com/oauth2broker/oauth2broker/storage"
)

// Grace periods of a webhook secret rotation: how long the replaced
// secret still signs deliveries beside the new one.
const (
	DefaultSecretGrace = 24 * time.Hour
	MaxSecretGrace     = 30 * 24 * time.Hour
)

// ErrNoWebhook is returned by RotateSecret for a client without a
// webhook_url.
var ErrNoWebhook = errors.New("events: the client has no webhook_url")

// WebhookSecretAD is the associated data a client's webhook secrets are
// sealed under.
func WebhookSecretAD(api, clientID string) []byte {
	return seal.WebhookSecret.AD(api, clientID)
}

// newSecret returns a new secret in the Standard Webhooks format.
func newSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return secretPrefix + base64.StdEncoding.EncodeToString(b), nil
}

// NewSecret returns a new webhook secret for a client of api, to answer
// once, and the same sealed, to store.
func (s *Stream) NewSecret(api, clientID string) (secret string, sealed []byte, err error) {
	if secret, err = newSecret(); err != nil {
		return "", nil, err
	}
	if sealed, err = s.keyring.Seal([]byte(secret), WebhookSecretAD(api, clientID)); err != nil {
		return "", nil, err
	}
	return secret, sealed, nil
}

// RotateSecret gives a client a new webhook secret and returns the client
// and the secret, to answer once. The replaced secret signs deliveries
// beside it for grace, so receivers can switch without losing one; a
// secret replaced earlier and still in its grace period is dropped. A
// client without a webhook_url gets ErrNoWebhook.
func (s *Stream) RotateSecret(ctx context.Context, api, clientID string, grace time.Duration) (storage.Client, string, error) {
	hook, sealed, err := s.NewSecret(api, clientID)
	if err != nil {
		return storage.Client{}, "", err
	}
	cl, err := s.store.UpdateClient(ctx, api, clientID, func(old storage.Client) (storage.Client, error) {
		if old.WebhookURL == "" {
			return old, ErrNoWebhook
		}
		now := s.now().UTC()
		old.SealedOldWebhookSecret, old.OldWebhookSecretUntil = nil, time.Time{}
		if grace > 0 && len(old.SealedWebhookSecret) > 0 {
			old.SealedOldWebhookSecret, old.OldWebhookSecretUntil = old.SealedWebhookSecret, now.Add(grace)
		}
		old.SealedWebhookSecret, old.UpdatedAt = sealed, now
		return old, nil
	})
	return cl, hook, err
}
