package etcd

import (
	"context"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/oauth2broker/oauth2broker/storage"
)

// gcBatch is how many deletes one garbage-collection transaction holds;
// etcd refuses transactions of more than 128 operations by default.
const gcBatch = 64

// GarbageCollect deletes the states and issued-token records whose
// ExpiresAt is before now and the signing keys whose RemoveAt is set and
// before now, and counts them. Each deletion holds only if the record was
// not changed since it was read, so a record another replica just updated
// or deleted is left alone (and not counted). It is not one transaction:
// on an error, what was deleted before it stays deleted.
func (d *DB) GarbageCollect(ctx context.Context, now time.Time) (storage.GCResult, error) {
	var res storage.GCResult
	if err := ctx.Err(); err != nil {
		return res, err
	}
	var err error
	res.States, err = sweep(ctx, d, typeStates, func(s storage.State) bool {
		return s.ExpiresAt.Before(now)
	})
	if err != nil {
		return storage.GCResult{}, err
	}
	res.IssuedTokens, err = sweep(ctx, d, typeIssuedTokens, func(t storage.IssuedToken) bool {
		return t.ExpiresAt.Before(now)
	})
	if err != nil {
		return storage.GCResult{}, err
	}
	res.SigningKeys, err = sweep(ctx, d, typeSigningKeys, func(k storage.SigningKey) bool {
		return !k.RemoveAt.IsZero() && k.RemoveAt.Before(now)
	})
	if err != nil {
		return storage.GCResult{}, err
	}
	res.AuditEvents, err = sweep(ctx, d, typeAudit, func(e storage.AuditEvent) bool {
		return !e.ExpiresAt.IsZero() && e.ExpiresAt.Before(now)
	})
	if err != nil {
		return storage.GCResult{}, err
	}
	return res, nil
}

// sweep deletes the records of type kind that expired accepts, each only
// if unchanged since read, and returns how many it deleted.
func sweep[T any](ctx context.Context, d *DB, kind string, expired func(T) bool) (int64, error) {
	l := d.all(kind)
	var n int64
	err := scan(ctx, d, l, "collect", func(kvs []*mvccpb.KeyValue) error {
		var dead []*mvccpb.KeyValue
		for _, kv := range kvs {
			var rec T
			if err := decode(l, kv.Value, &rec); err != nil {
				return err
			}
			if expired(rec) {
				dead = append(dead, kv)
			}
		}
		for len(dead) > 0 {
			batch := dead[:min(gcBatch, len(dead))]
			dead = dead[len(batch):]
			deleted, err := deleteUnchanged(ctx, d, l, batch)
			if err != nil {
				return err
			}
			n += deleted
		}
		return nil
	})
	return n, err
}

// deleteUnchanged deletes the keys of kvs whose ModRevision is still the
// one in kvs and returns how many it deleted: all in one transaction, or,
// when some key changed meanwhile, key by key.
func deleteUnchanged(ctx context.Context, d *DB, l loc, kvs []*mvccpb.KeyValue) (int64, error) {
	ok, err := deleteIfUnchanged(ctx, d, l, kvs...)
	switch {
	case err != nil:
		return 0, err
	case ok:
		return int64(len(kvs)), nil
	case len(kvs) == 1:
		return 0, nil
	}
	var n int64
	for _, kv := range kvs {
		ok, err := deleteIfUnchanged(ctx, d, l, kv)
		if err != nil {
			return n, err
		}
		if ok {
			n++
		}
	}
	return n, nil
}

// deleteIfUnchanged deletes every key of kvs in one transaction if none
// has changed since kvs was read, and reports whether it did.
func deleteIfUnchanged(ctx context.Context, d *DB, l loc, kvs ...*mvccpb.KeyValue) (bool, error) {
	cmps := make([]clientv3.Cmp, 0, len(kvs))
	ops := make([]clientv3.Op, 0, len(kvs))
	for _, kv := range kvs {
		key := string(kv.Key)
		cmps = append(cmps, clientv3.Compare(clientv3.ModRevision(key), "=", kv.ModRevision))
		ops = append(ops, clientv3.OpDelete(key))
	}
	resp, _, err := d.txn(ctx, cmps, ops, nil) // a repeat finds them gone: false, harmless
	if err != nil {
		return false, l.fail(ctx, "collect", err)
	}
	return resp.Succeeded, nil
}
