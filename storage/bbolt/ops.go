package bbolt

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/oauth2broker/oauth2broker/storage"
)

// The generic operations below serve every record type; the methods of DB
// only choose the bucket, the key and what Update may not change.
//
// Records are decoded with json.Unmarshal inside the transaction. It copies
// every string and byte slice it fills, so nothing returned aliases the
// transaction's memory, and every returned record is the caller's own copy.

// ready reports the key error of l, or else the context's error.
func (l loc) ready(ctx context.Context) error {
	if l.err != nil {
		return l.err
	}
	return ctx.Err()
}

// create stores rec at l, or returns storage.ErrAlreadyExists when the key
// is taken.
func create[T any](ctx context.Context, d *DB, l loc, rec T) error {
	if err := l.ready(ctx); err != nil {
		return err
	}
	val, err := encode(l, rec)
	if err != nil {
		return err
	}
	return d.write(func(tx *bolt.Tx) error {
		b := tx.Bucket(l.bucket)
		if b.Get(l.key) != nil {
			return storage.ErrAlreadyExists
		}
		return put(b, l, val)
	})
}

// get returns the record at l, or storage.ErrNotFound.
func get[T any](ctx context.Context, d *DB, l loc) (T, error) {
	var rec T
	if err := l.ready(ctx); err != nil {
		return rec, err
	}
	err := d.read(func(tx *bolt.Tx) error {
		var err error
		rec, err = load[T](tx, l)
		return err
	})
	if err != nil {
		var zero T
		return zero, err
	}
	return rec, nil
}

// list returns, sorted by key, the records whose key starts with l.key and
// that keep accepts (a nil keep accepts all).
func list[T any](ctx context.Context, d *DB, l loc, keep func(T) bool) ([]T, error) {
	if err := l.ready(ctx); err != nil {
		return nil, err
	}
	var recs []T
	err := d.read(func(tx *bolt.Tx) error {
		c := tx.Bucket(l.bucket).Cursor()
		for k, v := c.Seek(l.key); k != nil && bytes.HasPrefix(k, l.key); k, v = c.Next() {
			var rec T
			if err := decode(l, v, &rec); err != nil {
				return err
			}
			if keep == nil || keep(rec) {
				recs = append(recs, rec)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return recs, nil
}

// update runs fn on the record at l and stores its result, all in one
// write transaction, and returns what it stored (decoded afresh, as get
// would return it). An error from fn is returned as is and nothing is
// stored. fix then restores what fn may not change (the key fields, the
// version), given the stored record.
func update[T any](ctx context.Context, d *DB, l loc, fn func(T) (T, error), fix func(old T, rec *T)) (T, error) {
	var stored T
	if err := l.ready(ctx); err != nil {
		return stored, err
	}
	err := d.write(func(tx *bolt.Tx) error {
		old, err := load[T](tx, l)
		if err != nil {
			return err
		}
		rec, err := fn(old)
		if err != nil {
			return err
		}
		fix(old, &rec)
		val, err := encode(l, rec)
		if err != nil {
			return err
		}
		stored = *new(T) // Batch may run this function again: decode afresh
		if err := decode(l, val, &stored); err != nil {
			return err
		}
		return put(tx.Bucket(l.bucket), l, val)
	})
	if err != nil {
		var zero T
		return zero, err
	}
	return stored, nil
}

// remove deletes the record at l, or returns storage.ErrNotFound.
func remove(ctx context.Context, d *DB, l loc) error {
	if err := l.ready(ctx); err != nil {
		return err
	}
	return d.write(func(tx *bolt.Tx) error {
		b := tx.Bucket(l.bucket)
		if b.Get(l.key) == nil {
			return storage.ErrNotFound
		}
		return del(b, l, l.key)
	})
}

// take returns the record at l and deletes it in one write transaction, or
// returns storage.ErrNotFound.
func take[T any](ctx context.Context, d *DB, l loc) (T, error) {
	var rec T
	if err := l.ready(ctx); err != nil {
		return rec, err
	}
	err := d.write(func(tx *bolt.Tx) error {
		var err error
		if rec, err = load[T](tx, l); err != nil {
			return err
		}
		return del(tx.Bucket(l.bucket), l, l.key)
	})
	if err != nil {
		var zero T
		return zero, err
	}
	return rec, nil
}

// load decodes the record at l inside tx, or returns storage.ErrNotFound.
func load[T any](tx *bolt.Tx, l loc) (T, error) {
	var rec T
	v := tx.Bucket(l.bucket).Get(l.key)
	if v == nil {
		return rec, storage.ErrNotFound
	}
	err := decode(l, v, &rec)
	return rec, err
}

func encode(l loc, rec any) ([]byte, error) {
	val, err := json.Marshal(rec)
	if err != nil {
		return nil, fmt.Errorf("bbolt: encode %s record: %w", l.bucket, err)
	}
	return val, nil
}

func decode(l loc, val []byte, rec any) error {
	if c, ok := rec.(*storage.Connection); ok && decodeConnection(val, c) {
		return nil
	}
	if err := json.Unmarshal(val, rec); err != nil {
		return fmt.Errorf("bbolt: decode %s record: %w", l.bucket, err)
	}
	return nil
}

func put(b *bolt.Bucket, l loc, val []byte) error {
	if err := b.Put(l.key, val); err != nil {
		return fmt.Errorf("bbolt: put %s record: %w", l.bucket, err)
	}
	return nil
}

func del(b *bolt.Bucket, l loc, key []byte) error {
	if err := b.Delete(key); err != nil {
		return fmt.Errorf("bbolt: delete %s record: %w", l.bucket, err)
	}
	return nil
}
