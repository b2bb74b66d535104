package etcd

import (
	"context"

	"github.com/oauth2broker/oauth2broker/storage"
)

// This file holds the configuration records: APIs, clients, users and
// providers. Each method picks a record type and a key for the generic
// operations in ops.go.

// CreateAPI stores a under its name, or returns storage.ErrAlreadyExists.
func (d *DB) CreateAPI(ctx context.Context, a storage.API) error {
	return create(ctx, d, d.atAPI(a.Name), a)
}

// GetAPI returns the API name, or storage.ErrNotFound.
func (d *DB) GetAPI(ctx context.Context, name string) (storage.API, error) {
	return get[storage.API](ctx, d, d.atAPI(name))
}

// ListAPIs returns every API, sorted by name.
func (d *DB) ListAPIs(ctx context.Context) ([]storage.API, error) {
	return list[storage.API](ctx, d, d.all(typeAPIs), nil)
}

// UpdateAPI stores fn's result for the API name by compare-and-swap,
// running fn again when another writer got there first; the name is kept.
func (d *DB) UpdateAPI(ctx context.Context, name string, fn func(storage.API) (storage.API, error)) (storage.API, error) {
	return update(ctx, d, d.atAPI(name), fn, func(_ storage.API, a *storage.API) {
		a.Name = name
	})
}

// DeleteAPI deletes the API name, not its dependants.
func (d *DB) DeleteAPI(ctx context.Context, name string) error {
	return remove(ctx, d, d.atAPI(name))
}

// CreateClient stores c under (c.API, c.ID), or returns
// storage.ErrAlreadyExists.
func (d *DB) CreateClient(ctx context.Context, c storage.Client) error {
	return create(ctx, d, d.at(typeClients, c.API, c.ID), c)
}

// GetClient returns client id of api, or storage.ErrNotFound.
func (d *DB) GetClient(ctx context.Context, api, id string) (storage.Client, error) {
	return get[storage.Client](ctx, d, d.at(typeClients, api, id))
}

// ListClients returns the clients of api, sorted by ID.
func (d *DB) ListClients(ctx context.Context, api string) ([]storage.Client, error) {
	return list[storage.Client](ctx, d, d.in(typeClients, api), nil)
}

// UpdateClient stores fn's result for client id of api by
// compare-and-swap, running fn again when another writer got there first;
// API and ID are kept.
func (d *DB) UpdateClient(ctx context.Context, api, id string, fn func(storage.Client) (storage.Client, error)) (storage.Client, error) {
	return update(ctx, d, d.at(typeClients, api, id), fn, func(_ storage.Client, c *storage.Client) {
		c.API, c.ID = api, id
	})
}

// DeleteClient deletes client id of api, or returns storage.ErrNotFound.
func (d *DB) DeleteClient(ctx context.Context, api, id string) error {
	return remove(ctx, d, d.at(typeClients, api, id))
}

// CreateUser stores u under (u.API, u.Username), or returns
// storage.ErrAlreadyExists.
func (d *DB) CreateUser(ctx context.Context, u storage.User) error {
	return create(ctx, d, d.at(typeUsers, u.API, u.Username), u)
}

// GetUser returns user username of api, or storage.ErrNotFound.
func (d *DB) GetUser(ctx context.Context, api, username string) (storage.User, error) {
	return get[storage.User](ctx, d, d.at(typeUsers, api, username))
}

// ListUsers returns the users of api, sorted by username.
func (d *DB) ListUsers(ctx context.Context, api string) ([]storage.User, error) {
	return list[storage.User](ctx, d, d.in(typeUsers, api), nil)
}

// UpdateUser stores fn's result for user username of api by
// compare-and-swap, running fn again when another writer got there first;
// API and Username are kept.
func (d *DB) UpdateUser(ctx context.Context, api, username string, fn func(storage.User) (storage.User, error)) (storage.User, error) {
	return update(ctx, d, d.at(typeUsers, api, username), fn, func(_ storage.User, u *storage.User) {
		u.API, u.Username = api, username
	})
}

// DeleteUser deletes user username of api, or returns storage.ErrNotFound.
func (d *DB) DeleteUser(ctx context.Context, api, username string) error {
	return remove(ctx, d, d.at(typeUsers, api, username))
}

// CreateProvider stores p under (p.API, p.Name), or returns
// storage.ErrAlreadyExists.
func (d *DB) CreateProvider(ctx context.Context, p storage.Provider) error {
	return create(ctx, d, d.at(typeProviders, p.API, p.Name), p)
}

// GetProvider returns provider name of api, or storage.ErrNotFound.
func (d *DB) GetProvider(ctx context.Context, api, name string) (storage.Provider, error) {
	return get[storage.Provider](ctx, d, d.at(typeProviders, api, name))
}

// ListProviders returns the providers of api, sorted by name.
func (d *DB) ListProviders(ctx context.Context, api string) ([]storage.Provider, error) {
	return list[storage.Provider](ctx, d, d.in(typeProviders, api), nil)
}

// UpdateProvider stores fn's result for provider name of api by
// compare-and-swap, running fn again when another writer got there first;
// API and Name are kept.
func (d *DB) UpdateProvider(ctx context.Context, api, name string, fn func(storage.Provider) (storage.Provider, error)) (storage.Provider, error) {
	return update(ctx, d, d.at(typeProviders, api, name), fn, func(_ storage.Provider, p *storage.Provider) {
		p.API, p.Name = api, name
	})
}

// DeleteProvider deletes provider name of api, or returns
// storage.ErrNotFound.
func (d *DB) DeleteProvider(ctx context.Context, api, name string) error {
	return remove(ctx, d, d.at(typeProviders, api, name))
}
