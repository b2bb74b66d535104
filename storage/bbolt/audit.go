package bbolt

import (
	"context"

	"github.com/oauth2broker/oauth2broker/storage"
)

// CreateAuditEvent stores e under (e.API, e.ID), or returns
// storage.ErrAlreadyExists.
func (d *DB) CreateAuditEvent(ctx context.Context, e storage.AuditEvent) error {
	return create(ctx, d, at(bucketAudit, e.API, e.ID), e)
}

// ListAuditEvents returns the audit events of api, oldest first.
func (d *DB) ListAuditEvents(ctx context.Context, api string) ([]storage.AuditEvent, error) {
	return list[storage.AuditEvent](ctx, d, in(bucketAudit, api), nil)
}
