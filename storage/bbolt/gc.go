package bbolt

import (
	"bytes"
	"context"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/oauth2broker/oauth2broker/storage"
)

// GarbageCollect deletes, in one write transaction, the states and
// issued-token records whose ExpiresAt is before now and the signing keys
// whose RemoveAt is set and before now, and counts them.
func (d *DB) GarbageCollect(ctx context.Context, now time.Time) (storage.GCResult, error) {
	var res storage.GCResult
	if err := ctx.Err(); err != nil {
		return res, err
	}
	err := d.write(func(tx *bolt.Tx) error {
		var err error
		res.States, err = sweep(tx, bucketStates, func(s storage.State) bool {
			return s.ExpiresAt.Before(now)
		})
		if err != nil {
			return err
		}
		res.IssuedTokens, err = sweep(tx, bucketIssuedTokens, func(t storage.IssuedToken) bool {
			return t.ExpiresAt.Before(now)
		})
		if err != nil {
			return err
		}
		res.SigningKeys, err = sweep(tx, bucketSigningKeys, func(k storage.SigningKey) bool {
			return !k.RemoveAt.IsZero() && k.RemoveAt.Before(now)
		})
		if err != nil {
			return err
		}
		res.AuditEvents, err = sweep(tx, bucketAudit, func(e storage.AuditEvent) bool {
			return !e.ExpiresAt.IsZero() && e.ExpiresAt.Before(now)
		})
		return err
	})
	if err != nil {
		return storage.GCResult{}, err
	}
	return res, nil
}

// sweep deletes the records of bucket that expired accepts and returns how
// many it deleted. Keys are collected first and deleted after the scan:
// deleting under a running cursor can skip records.
func sweep[T any](tx *bolt.Tx, bucket string, expired func(T) bool) (int64, error) {
	l := loc{bucket: []byte(bucket)}
	b := tx.Bucket(l.bucket)
	var dead [][]byte
	err := b.ForEach(func(k, v []byte) error {
		var rec T
		if err := decode(l, v, &rec); err != nil {
			return err
		}
		if expired(rec) {
			dead = append(dead, bytes.Clone(k))
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	for _, k := range dead {
		if err := del(b, l, k); err != nil {
			return 0, err
		}
	}
	return int64(len(dead)), nil
}
