package etcd

import (
	"context"

	"github.com/oauth2broker/oauth2broker/storage"
)

// CreateWebhookEvent stores e under (e.API, e.ID), or returns
// storage.ErrAlreadyExists.
func (d *DB) CreateWebhookEvent(ctx context.Context, e storage.WebhookEvent) error {
	return create(ctx, d, d.at(typeWebhookEvents, e.API, e.ID), e)
}

// ListWebhookEvents returns the pending events of api, sorted by ID.
func (d *DB) ListWebhookEvents(ctx context.Context, api string) ([]storage.WebhookEvent, error) {
	return list[storage.WebhookEvent](ctx, d, d.in(typeWebhookEvents, api), nil)
}

// UpdateWebhookEvent stores fn's result for event id of api; API and ID
// are kept.
func (d *DB) UpdateWebhookEvent(ctx context.Context, api, id string, fn func(storage.WebhookEvent) (storage.WebhookEvent, error)) (storage.WebhookEvent, error) {
	return update(ctx, d, d.at(typeWebhookEvents, api, id), fn, func(_ storage.WebhookEvent, e *storage.WebhookEvent) {
		e.API, e.ID = api, id
	})
}

// DeleteWebhookEvent deletes event id of api, or returns
// storage.ErrNotFound.
func (d *DB) DeleteWebhookEvent(ctx context.Context, api, id string) error {
	return remove(ctx, d, d.at(typeWebhookEvents, api, id))
}
