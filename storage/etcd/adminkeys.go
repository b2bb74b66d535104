package etcd

import (
	"context"

	"github.com/oauth2broker/oauth2broker/storage"
)

// CreateAdminKey stores k under its id, or returns
// storage.ErrAlreadyExists.
func (d *DB) CreateAdminKey(ctx context.Context, k storage.AdminKey) error {
	return create(ctx, d, d.atTop(typeAdminKeys, k.ID), k)
}

// GetAdminKey returns admin key id, or storage.ErrNotFound.
func (d *DB) GetAdminKey(ctx context.Context, id string) (storage.AdminKey, error) {
	return get[storage.AdminKey](ctx, d, d.atTop(typeAdminKeys, id))
}

// ListAdminKeys returns every admin key, sorted by id.
func (d *DB) ListAdminKeys(ctx context.Context) ([]storage.AdminKey, error) {
	return list[storage.AdminKey](ctx, d, d.all(typeAdminKeys), nil)
}

// UpdateAdminKey stores fn's result for admin key id in one transaction;
// the id is kept.
func (d *DB) UpdateAdminKey(ctx context.Context, id string, fn func(storage.AdminKey) (storage.AdminKey, error)) (storage.AdminKey, error) {
	return update(ctx, d, d.atTop(typeAdminKeys, id), fn, func(_ storage.AdminKey, k *storage.AdminKey) {
		k.ID = id
	})
}

// DeleteAdminKey deletes admin key id, or returns storage.ErrNotFound.
func (d *DB) DeleteAdminKey(ctx context.Context, id string) error {
	return remove(ctx, d, d.atTop(typeAdminKeys, id))
}
