package bbolt

import (
	"context"

	"github.com/oauth2broker/oauth2broker/storage"
)

// This file holds the runtime records: connections, issued tokens, signing
// keys and states. Each method picks a bucket and a key for the generic
// operations in ops.go.

// CreateConnection stores c under (c.API, c.ID) with Version 1, or returns
// storage.ErrAlreadyExists.
func (d *DB) CreateConnection(ctx context.Context, c storage.Connection) error {
	c.Version = 1
	return create(ctx, d, at(bucketConnections, c.API, c.ID), c)
}

// GetConnection returns connection id of api, or storage.ErrNotFound.
func (d *DB) GetConnection(ctx context.Context, api, id string) (storage.Connection, error) {
	return get[storage.Connection](ctx, d, at(bucketConnections, api, id))
}

// ListConnections returns the connections of api that match the non-empty
// fields of f, sorted by ID.
func (d *DB) ListConnections(ctx context.Context, api string, f storage.ConnectionFilter) ([]storage.Connection, error) {
	return list(ctx, d, in(bucketConnections, api), func(c storage.Connection) bool {
		return (f.ClientID == "" || c.ClientID == f.ClientID) &&
			(f.Identity == "" || c.Identity == f.Identity) &&
			(f.Provider == "" || c.Provider == f.Provider)
	})
}

// UpdateConnection stores fn's result for connection id of api in one
// transaction, with Version one more than the stored one; API and ID are
// kept.
func (d *DB) UpdateConnection(ctx context.Context, api, id string, fn func(storage.Connection) (storage.Connection, error)) (storage.Connection, error) {
	return update(ctx, d, at(bucketConnections, api, id), fn, func(old storage.Connection, c *storage.Connection) {
		c.API, c.ID, c.Version = api, id, old.Version+1
	})
}

// DeleteConnection deletes connection id of api, or returns
// storage.ErrNotFound.
func (d *DB) DeleteConnection(ctx context.Context, api, id string) error {
	return remove(ctx, d, at(bucketConnections, api, id))
}

// CreateIssuedToken stores t under (t.API, t.ID), or returns
// storage.ErrAlreadyExists.
func (d *DB) CreateIssuedToken(ctx context.Context, t storage.IssuedToken) error {
	return create(ctx, d, at(bucketIssuedTokens, t.API, t.ID), t)
}

// GetIssuedToken returns issued-token record id of api, or
// storage.ErrNotFound.
func (d *DB) GetIssuedToken(ctx context.Context, api, id string) (storage.IssuedToken, error) {
	return get[storage.IssuedToken](ctx, d, at(bucketIssuedTokens, api, id))
}

// UpdateIssuedToken stores fn's result for issued-token record id of api in
// one transaction; API and ID are kept.
func (d *DB) UpdateIssuedToken(ctx context.Context, api, id string, fn func(storage.IssuedToken) (storage.IssuedToken, error)) (storage.IssuedToken, error) {
	return update(ctx, d, at(bucketIssuedTokens, api, id), fn, func(_ storage.IssuedToken, t *storage.IssuedToken) {
		t.API, t.ID = api, id
	})
}

// DeleteIssuedToken deletes issued-token record id of api, or returns
// storage.ErrNotFound.
func (d *DB) DeleteIssuedToken(ctx context.Context, api, id string) error {
	return remove(ctx, d, at(bucketIssuedTokens, api, id))
}

// CreateSigningKey stores k under (k.API, k.ID), or returns
// storage.ErrAlreadyExists.
func (d *DB) CreateSigningKey(ctx context.Context, k storage.SigningKey) error {
	return create(ctx, d, at(bucketSigningKeys, k.API, k.ID), k)
}

// ListSigningKeys returns the signing keys of api, sorted by ID.
func (d *DB) ListSigningKeys(ctx context.Context, api string) ([]storage.SigningKey, error) {
	return list[storage.SigningKey](ctx, d, in(bucketSigningKeys, api), nil)
}

// UpdateSigningKey stores fn's result for signing key id of api in one
// transaction; API and ID are kept.
func (d *DB) UpdateSigningKey(ctx context.Context, api, id string, fn func(storage.SigningKey) (storage.SigningKey, error)) (storage.SigningKey, error) {
	return update(ctx, d, at(bucketSigningKeys, api, id), fn, func(_ storage.SigningKey, k *storage.SigningKey) {
		k.API, k.ID = api, id
	})
}

// DeleteSigningKey deletes signing key id of api, or returns
// storage.ErrNotFound.
func (d *DB) DeleteSigningKey(ctx context.Context, api, id string) error {
	return remove(ctx, d, at(bucketSigningKeys, api, id))
}

// CreateState stores s under (s.API, s.ID), or returns
// storage.ErrAlreadyExists.
func (d *DB) CreateState(ctx context.Context, s storage.State) error {
	return create(ctx, d, at(bucketStates, s.API, s.ID), s)
}

// ConsumeState returns state id of api and deletes it in one transaction,
// or returns storage.ErrNotFound. Expired states are returned too; the
// caller checks ExpiresAt.
func (d *DB) ConsumeState(ctx context.Context, api, id string) (storage.State, error) {
	return take[storage.State](ctx, d, at(bucketStates, api, id))
}

// CountStates counts the states of api that f selects (a scan of the
// API's states, which live minutes and are capped per client and
// identity).
func (d *DB) CountStates(ctx context.Context, api string, f storage.StateFilter) (storage.StateCount, error) {
	var c storage.StateCount
	_, err := list(ctx, d, in(bucketStates, api), func(s storage.State) bool {
		c.Count(f, s)
		return false
	})
	return c, err
}
