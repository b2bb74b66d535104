package cached

import (
	"context"

	"github.com/oauth2broker/oauth2broker/storage"
)

// forgetter passes every call to its store; after each write of an API,
// a client or a provider it makes c forget that record, whatever the
// write returned (a write that failed may still have taken effect).
type forgetter struct {
	storage.Storage
	c *Store
}

// CreateAPI creates an API.
func (f forgetter) CreateAPI(ctx context.Context, a storage.API) error {
	defer f.c.forget(storage.KindAPIs, a.Name, "")
	return f.Storage.CreateAPI(ctx, a)
}

// UpdateAPI updates an API.
func (f forgetter) UpdateAPI(ctx context.Context, name string, fn func(storage.API) (storage.API, error)) (storage.API, error) {
	defer f.c.forget(storage.KindAPIs, name, "")
	return f.Storage.UpdateAPI(ctx, name, fn)
}

// DeleteAPI deletes an API.
func (f forgetter) DeleteAPI(ctx context.Context, name string) error {
	defer f.c.forget(storage.KindAPIs, name, "")
	return f.Storage.DeleteAPI(ctx, name)
}

// CreateClient creates a client.
func (f forgetter) CreateClient(ctx context.Context, cl storage.Client) error {
	defer f.c.forget(storage.KindClients, cl.API, cl.ID)
	return f.Storage.CreateClient(ctx, cl)
}

// UpdateClient updates a client.
func (f forgetter) UpdateClient(ctx context.Context, api, id string, fn func(storage.Client) (storage.Client, error)) (storage.Client, error) {
	defer f.c.forget(storage.KindClients, api, id)
	return f.Storage.UpdateClient(ctx, api, id, fn)
}

// DeleteClient deletes a client.
func (f forgetter) DeleteClient(ctx context.Context, api, id string) error {
	defer f.c.forget(storage.KindClients, api, id)
	return f.Storage.DeleteClient(ctx, api, id)
}

// CreateProvider creates a provider.
func (f forgetter) CreateProvider(ctx context.Context, p storage.Provider) error {
	defer f.c.forget(storage.KindProviders, p.API, p.Name)
	return f.Storage.CreateProvider(ctx, p)
}

// UpdateProvider updates a provider.
func (f forgetter) UpdateProvider(ctx context.Context, api, name string, fn func(storage.Provider) (storage.Provider, error)) (storage.Provider, error) {
	defer f.c.forget(storage.KindProviders, api, name)
	return f.Storage.UpdateProvider(ctx, api, name, fn)
}

// DeleteProvider deletes a provider.
func (f forgetter) DeleteProvider(ctx context.Context, api, name string) error {
	defer f.c.forget(storage.KindProviders, api, name)
	return f.Storage.DeleteProvider(ctx, api, name)
}
