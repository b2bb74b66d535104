package etcd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/oauth2broker/oauth2broker/storage"
)

// The generic operations below serve every record type; the methods of DB
// only choose the record type, the key and what Update may not change.
// Records are decoded from the response into fresh values, so every
// returned record is the caller's own copy.

// maxUpdateAttempts bounds how often update runs its function when other
// writers keep changing the record between its read and its write.
const maxUpdateAttempts = 10

// pageSize is how many keys one range request of scan returns.
const pageSize = 500

// ready reports the key error of l, or else the context's error.
func (l loc) ready(ctx context.Context) error {
	if l.err != nil {
		return l.err
	}
	return ctx.Err()
}

// fail wraps an error of etcd itself for operation op on l. When the
// cluster could not answer in time or has no leader (and the caller did
// not give up first), the error also wraps storage.ErrUnavailable.
func (l loc) fail(ctx context.Context, op string, err error) error {
	if ctx.Err() == nil && unavailable(err) {
		return fmt.Errorf("etcd: %s %s: %w (%w)", op, l.kind, storage.ErrUnavailable, err)
	}
	return fmt.Errorf("etcd: %s %s: %w", op, l.kind, err)
}

// unavailable reports whether err says the cluster cannot serve now: the
// request timeout ran out (no quorum), etcd or gRPC answered Unavailable
// (no leader, leader changed, member out of reach), or the cluster cannot
// take writes (the NOSPACE alarm: "database space exceeded").
func unavailable(err error) bool {
	if errors.Is(err, rpctypes.ErrGRPCNoSpace) || errors.Is(err, rpctypes.ErrNoSpace) {
		return true
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	// A member whose raft node stopped (it is going down) answers with
	// raft's own error, which reaches the client without a gRPC code.
	if strings.Contains(err.Error(), "raft: stopped") {
		return true
	}
	var ee rpctypes.EtcdError
	if errors.As(err, &ee) {
		return ee.Code() == codes.Unavailable || ee.Code() == codes.DeadlineExceeded
	}
	if st, ok := status.FromError(err); ok {
		return st.Code() == codes.Unavailable || st.Code() == codes.DeadlineExceeded
	}
	return false
}

// create stores rec at l if the key has never been created (or was
// deleted since), or returns storage.ErrAlreadyExists.
func create[T any](ctx context.Context, d *DB, l loc, rec T) error {
	if err := l.ready(ctx); err != nil {
		return err
	}
	val, err := encode(l, rec)
	if err != nil {
		return err
	}
	resp, retried, err := d.txn(ctx,
		[]clientv3.Cmp{clientv3.Compare(clientv3.CreateRevision(l.key), "=", 0)},
		[]clientv3.Op{clientv3.OpPut(l.key, val)},
		[]clientv3.Op{clientv3.OpGet(l.key)})
	if err != nil {
		return l.fail(ctx, "create", err)
	}
	if !resp.Succeeded && !(retried && holds(resp, val)) {
		return storage.ErrAlreadyExists
	}
	return nil
}

// holds reports whether the Get that is the first answer of a failed
// transaction found exactly val: after an attempt whose answer was lost,
// that is the lost attempt's own write (records carry their times, so
// another writer's record is never byte for byte the same).
func holds(resp *clientv3.TxnResponse, val string) bool {
	kvs := resp.Responses[0].GetResponseRange().GetKvs()
	return len(kvs) == 1 && string(kvs[0].Value) == val
}

// get returns the record at l, or storage.ErrNotFound.
func get[T any](ctx context.Context, d *DB, l loc) (T, error) {
	var rec T
	if err := l.ready(ctx); err != nil {
		return rec, err
	}
	resp, err := d.get(ctx, l.key)
	if err != nil {
		return rec, l.fail(ctx, "get", err)
	}
	if len(resp.Kvs) == 0 {
		return rec, storage.ErrNotFound
	}
	if err := decode(l, resp.Kvs[0].Value, &rec); err != nil {
		var zero T
		return zero, err
	}
	return rec, nil
}

// list returns, sorted by key, the records whose key starts with l.key and
// that keep accepts (a nil keep accepts all), as of one revision.
func list[T any](ctx context.Context, d *DB, l loc, keep func(T) bool) ([]T, error) {
	if err := l.ready(ctx); err != nil {
		return nil, err
	}
	var recs []T
	err := scan(ctx, d, l, "list", func(kvs []*mvccpb.KeyValue) error {
		for _, kv := range kvs {
			var rec T
			if err := decode(l, kv.Value, &rec); err != nil {
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

// scan passes the keys under the prefix l.key to fn a page at a time, in
// key order, every page read at the revision of the first. An error from
// fn ends the scan and is returned as is.
func scan(ctx context.Context, d *DB, l loc, op string, fn func([]*mvccpb.KeyValue) error) error {
	end := clientv3.GetPrefixRangeEnd(l.key)
	from, rev := l.key, int64(0)
	for {
		opts := []clientv3.OpOption{
			clientv3.WithRange(end), clientv3.WithLimit(pageSize),
			clientv3.WithSort(clientv3.SortByKey, clientv3.SortAscend),
		}
		if rev != 0 {
			opts = append(opts, clientv3.WithRev(rev))
		}
		resp, err := d.get(ctx, from, opts...)
		if err != nil {
			return l.fail(ctx, op, err)
		}
		rev = resp.Header.Revision
		if err := fn(resp.Kvs); err != nil {
			return err
		}
		if !resp.More || len(resp.Kvs) == 0 {
			return nil
		}
		from = string(resp.Kvs[len(resp.Kvs)-1].Key) + "\x00"
	}
}

// update runs fn on the record at l and stores its result only if the
// record was not changed since it was read, and returns what it stored
// (decoded afresh, as get would return it). When another writer got there
// first, fn runs again on the new record, at most maxUpdateAttempts times
// in all, and then update returns storage.ErrConflict. An error from fn is
// returned as is and nothing is stored. fix then restores what fn may not
// change (the key fields, the version), given the stored record.
func update[T any](ctx context.Context, d *DB, l loc, fn func(T) (T, error), fix func(old T, rec *T)) (T, error) {
	var zero T
	if err := l.ready(ctx); err != nil {
		return zero, err
	}
	resp, err := d.get(ctx, l.key)
	if err != nil {
		return zero, l.fail(ctx, "update", err)
	}
	kvs := resp.Kvs
	for range maxUpdateAttempts {
		if len(kvs) == 0 {
			return zero, storage.ErrNotFound
		}
		stored, done, now, err := swap(ctx, d, l, kvs[0], fn, fix)
		if err != nil {
			return zero, err
		}
		if done {
			return stored, nil
		}
		kvs = now
	}
	return zero, storage.ErrConflict
}

// swap is one attempt of update on the record cur: done reports that fn's
// result was stored, and stored is that record; otherwise now holds the
// record as it is now (none when it was deleted meanwhile).
func swap[T any](ctx context.Context, d *DB, l loc, cur *mvccpb.KeyValue, fn func(T) (T, error), fix func(old T, rec *T)) (stored T, done bool, now []*mvccpb.KeyValue, err error) {
	var old T
	if err := decode(l, cur.Value, &old); err != nil {
		return stored, false, nil, err
	}
	rec, err := fn(old)
	if err != nil {
		return stored, false, nil, err
	}
	fix(old, &rec)
	val, err := encode(l, rec)
	if err != nil {
		return stored, false, nil, err
	}
	if err := decode(l, []byte(val), &stored); err != nil {
		return stored, false, nil, err
	}
	resp, retried, err := d.txn(ctx,
		[]clientv3.Cmp{clientv3.Compare(clientv3.ModRevision(l.key), "=", cur.ModRevision)},
		[]clientv3.Op{clientv3.OpPut(l.key, val)},
		[]clientv3.Op{clientv3.OpGet(l.key)})
	if err != nil {
		return stored, false, nil, l.fail(ctx, "update", err)
	}
	if resp.Succeeded || (retried && holds(resp, val)) {
		return stored, true, nil, nil
	}
	return stored, false, resp.Responses[0].GetResponseRange().GetKvs(), nil
}

// remove deletes the record at l if it exists, or returns
// storage.ErrNotFound.
func remove(ctx context.Context, d *DB, l loc) error {
	if err := l.ready(ctx); err != nil {
		return err
	}
	resp, retried, err := d.txn(ctx,
		[]clientv3.Cmp{clientv3.Compare(clientv3.CreateRevision(l.key), "!=", 0)},
		[]clientv3.Op{clientv3.OpDelete(l.key)}, nil)
	if err != nil {
		return l.fail(ctx, "delete", err)
	}
	// After a lost answer a missing key may be this call's own doing:
	// the record is gone either way, which is what the caller asked.
	if !resp.Succeeded && !retried {
		return storage.ErrNotFound
	}
	return nil
}

// take deletes the record at l and returns what it deleted, in one
// request, or returns storage.ErrNotFound. Of concurrent callers only one
// deletes the key, so only one gets the record.
func take[T any](ctx context.Context, d *DB, l loc) (T, error) {
	var rec T
	if err := l.ready(ctx); err != nil {
		return rec, err
	}
	resp, retried, err := d.del(ctx, l.key, clientv3.WithPrevKV())
	if err != nil {
		return rec, l.fail(ctx, "consume", err)
	}
	if resp.Deleted == 0 || len(resp.PrevKvs) == 0 {
		if retried {
			// A lost answer may have taken the record with it: say so
			// rather than "not found".
			return rec, l.fail(ctx, "consume", fmt.Errorf("%w: the record may have been consumed by an attempt whose answer was lost", context.DeadlineExceeded))
		}
		return rec, storage.ErrNotFound
	}
	if err := decode(l, resp.PrevKvs[0].Value, &rec); err != nil {
		var zero T
		return zero, err
	}
	return rec, nil
}

func encode(l loc, rec any) (string, error) {
	val, err := json.Marshal(rec)
	if err != nil {
		return "", fmt.Errorf("etcd: encode %s record: %w", l.kind, err)
	}
	return string(val), nil
}

func decode(l loc, val []byte, rec any) error {
	if err := json.Unmarshal(val, rec); err != nil {
		return fmt.Errorf("etcd: decode %s record: %w", l.kind, err)
	}
	return nil
}
