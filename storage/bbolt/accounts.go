package bbolt

import (
	"context"

	"github.com/oauth2broker/oauth2broker/storage"
)

// This file holds the configuration records: APIs, clients, users and
// providers. Each method picks a bucket and a key for the generic
// operations in ops.go.

// CreateAPI stores a under its name, or returns storage.ErrAlreadyExists.
func (d *DB) CreateAPI(ctx context.Context, a storage.API) error {
	return create(ctx, d, atAPI(a.Name), a)
}

// GetAPI returns the API name, or storage.ErrNotFound.
func (d *DB) GetAPI(ctx context.Context, name string) (storage.API, error) {
	return get[storage.API](ctx, d, atAPI(name))
}

// ListAPIs returns every API, sorted by name.
func (d *DB) ListAPIs(ctx context.Context) ([]storage.API, error) {
	return list[storage.API](ctx, d, allAPIs(), nil)
}

// UpdateAPI stores fn's result for the API name in one transaction; the
// name is kept.
func (d *DB) UpdateAPI(ctx context.Context, name string, fn func(storage.API) (storage.API, error)) (storage.API, error) {
	return update(ctx, d, atAPI(name), fn, func(_ storage.API, a *storage.API) {
		a.Name = name
	})
}

// DeleteAPI deletes the API name, not its dependants.
func (d *DB) DeleteAPI(ctx context.Context, name string) error {
	return remove(ctx, d, atAPI(name))
}

// CreateClient stores c under (c.API, c.ID), or returns
// storage.ErrAlreadyExists.
func (d *DB) CreateClient(ctx context.Context, c storage.Client) error {
	return create(ctx, d, at(bucketClients, c.API, c.ID), c)
}

// GetClient returns client id of api, or storage.ErrNotFound.
func (d *DB) GetClient(ctx context.Context, api, id string) (storage.Client, error) {
	return get[storage.Client](ctx, d, at(bucketClients, api, id))
}

// ListClients returns the clients of api, sorted by ID.
func (d *DB) ListClients(ctx context.Context, api string) ([]storage.Client, error) {
	return list[storage.Client](ctx, d, in(bucketClients, api), nil)
}

// UpdateClient stores fn's result for client id of api in one transaction;
// API and ID are kept.
func (d *DB) UpdateClient(ctx context.Context, api, id string, fn func(storage.Client) (storage.Client, error)) (storage.Client, error) {
	return update(ctx, d, at(bucketClients, api, id), fn, func(_ storage.Client, c *storage.Client) {
		c.API, c.ID = api, id
	})
}

// DeleteClient deletes client id of api, or returns storage.ErrNotFound.
func (d *DB) DeleteClient(ctx context.Context, api, id string) error {
	return remove(ctx, d, at(bucketClients, api, id))
}

// CreateUser stores u under (u.API, u.Username), or returns
// storage.ErrAlreadyExists.
func (d *DB) CreateUser(ctx context.Context, u storage.User) error {
	return create(ctx, d, at(bucketUsers, u.API, u.Username), u)
}

// GetUser returns user username of api, or storage.ErrNotFound.
func (d *DB) GetUser(ctx context.Context, api, username string) (storage.User, error) {
	return get[storage.User](ctx, d, at(bucketUsers, api, username))
}

// ListUsers returns the users of api, sorted by username.
func (d *DB) ListUsers(ctx context.Context, api string) ([]storage.User, error) {
	return list[storage.User](ctx, d, in(bucketUsers, api), nil)
}

// UpdateUser stores fn's result for user username of api in one
// transaction; API and Username are kept.
func (d *DB) UpdateUser(ctx context.Context, api, username string, fn func(storage.User) (storage.User, error)) (storage.User, error) {
	return update(ctx, d, at(bucketUsers, api, username), fn, func(_ storage.User, u *storage.User) {
		u.API, u.Username = api, username
	})
}

// DeleteUser deletes user username of api, or returns storage.ErrNotFound.
func (d *DB) DeleteUser(ctx context.Context, api, username string) error {
	return remove(ctx, d, at(bucketUsers, api, username))
}

// CreateProvider stores p under (p.API, p.Name), or returns
// storage.ErrAlreadyExists.
func (d *DB) CreateProvider(ctx context.Context, p storage.Provider) error {
	return create(ctx, d, at(bucketProviders, p.API, p.Name), p)
}

// GetProvider returns provider name of api, or storage.ErrNotFound.
func (d *DB) GetProvider(ctx context.Context, api, name string) (storage.Provider, error) {
	return get[storage.Provider](ctx, d, at(bucketProviders, api, name))
}

// ListProviders returns the providers of api, sorted by name.
func (d *DB) ListProviders(ctx context.Context, api string) ([]storage.Provider, error) {
	return list[storage.Provider](ctx, d, in(bucketProviders, api), nil)
}

// UpdateProvider stores fn's result for provider name of api in one
// transaction; API and Name are kept.
func (d *DB) UpdateProvider(ctx context.Context, api, name string, fn func(storage.Provider) (storage.Provider, error)) (storage.Provider, error) {
	return update(ctx, d, at(bucketProviders, api, name), fn, func(_ storage.Provider, p *storage.Provider) {
		p.API, p.Name = api, name
	})
}

// DeleteProvider deletes provider name of api, or returns
// storage.ErrNotFound.
func (d *DB) DeleteProvider(ctx context.Context, api, name string) error {
	return remove(ctx, d, at(bucketProviders, api, name))
}
