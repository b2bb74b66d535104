package etcd

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/oauth2broker/oauth2broker/storage"
)

// SchemaVersion is the version of the key layout this package reads and
// writes. Open writes it under a fresh prefix and refuses a prefix whose
// stored version is newer.
const SchemaVersion = 1

// ErrNewerSchema is returned (wrapped) by Open and New when the prefix was
// written by a newer version of this package.
var ErrNewerSchema = errors.New("etcd: schema version is newer than supported")

// Defaults used for the zero values of Config.
const (
	DefaultPrefix         = "/oauth2broker/"
	DefaultDialTimeout    = 5 * time.Second
	DefaultRequestTimeout = 5 * time.Second
)

// Config configures Open.
type Config struct {
	// Endpoints are the client URLs of the etcd cluster, such as
	// "https://etcd-0.example:2379". At least one is required.
	Endpoints []string
	// Prefix is the key prefix under which every record lives; several
	// brokers sharing a cluster must use different prefixes. Empty means
	// DefaultPrefix. A "/" is appended when it does not end with one.
	Prefix string
	// DialTimeout bounds Open's first contact with the cluster:
	// authentication and the schema check. Zero or negative means
	// DefaultDialTimeout.
	DialTimeout time.Duration
	// Username and Password authenticate to a cluster with auth enabled;
	// leave both empty otherwise.
	Username, Password string
	// TLS configures the client side of TLS (CA pool, client
	// certificate); nil means plain connections.
	TLS *tls.Config
	// RequestTimeout bounds each request to etcd, so that a cluster
	// without quorum answers with an error. Most calls make one request;
	// Update makes more when it loses a compare, and List and
	// GarbageCollect one per 500 records. Zero or negative means
	// DefaultRequestTimeout.
	RequestTimeout time.Duration
}

// DB is a storage.Storage kept in an etcd cluster, safe for concurrent use
// by many goroutines and by many processes sharing the prefix.
type DB struct {
	client  *clientv3.Client
	kv      clientv3.KV
	prefix  string
	timeout time.Duration
	owned   bool // Close closes client
}

var _ storage.Storage = (*DB)(nil)

// Open connects to the cluster at cfg.Endpoints and checks that it answers
// by checking the schema version under cfg.Prefix: it writes SchemaVersion
// when none is stored and fails with an error wrapping ErrNewerSchema when
// the stored one is newer. The returned DB owns its client: Close closes it.
func Open(ctx context.Context, cfg Config) (*DB, error) {
	if len(cfg.Endpoints) == 0 {
		return nil, errors.New("etcd: no endpoints")
	}
	dial := cfg.DialTimeout
	if dial <= 0 {
		dial = DefaultDialTimeout
	}
	if deadline, ok := ctx.Deadline(); ok {
		dial = min(dial, max(time.Until(deadline), time.Millisecond))
	}
	client, err := clientv3.New(clientv3.Config{
		Endpoints:   cfg.Endpoints,
		DialTimeout: dial,
		Username:    cfg.Username,
		Password:    cfg.Password,
		TLS:         cfg.TLS,
	})
	if err != nil {
		return nil, fmt.Errorf("etcd: connect: %w", err)
	}
	d := newDB(client, cfg.Prefix, cfg.RequestTimeout)
	d.owned = true
	ctx, cancel := context.WithTimeout(ctx, dial)
	defer cancel()
	if err := d.initSchema(ctx); err != nil {
		if cerr := d.Close(); cerr != nil {
			err = errors.Join(err, cerr)
		}
		return nil, err
	}
	return d, nil
}

// New returns a DB on a client the caller owns and keeps: Close leaves it
// open. Empty prefix means DefaultPrefix, and requests are bounded by
// DefaultRequestTimeout. Like Open, New checks (or writes) the schema
// version, bounded by DefaultRequestTimeout.
func New(client *clientv3.Client, prefix string) (*DB, error) {
	if client == nil {
		return nil, errors.New("etcd: nil client")
	}
	d := newDB(client, prefix, 0)
	if err := d.initSchema(context.Background()); err != nil {
		return nil, err
	}
	return d, nil
}

func newDB(client *clientv3.Client, prefix string, timeout time.Duration) *DB {
	if prefix == "" {
		prefix = DefaultPrefix
	}
	if !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	if timeout <= 0 {
		timeout = DefaultRequestTimeout
	}
	return &DB{client: client, kv: client.KV, prefix: prefix, timeout: timeout}
}

// initSchema writes SchemaVersion when the prefix holds none, in one
// transaction that also reads the stored version otherwise, and refuses a
// newer or malformed one.
func (d *DB) initSchema(ctx context.Context) error {
	key := d.prefix + keySchemaVersion
	resp, _, err := d.txn(ctx,
		[]clientv3.Cmp{clientv3.Compare(clientv3.CreateRevision(key), "=", 0)},
		[]clientv3.Op{clientv3.OpPut(key, strconv.Itoa(SchemaVersion))},
		[]clientv3.Op{clientv3.OpGet(key)})
	if err != nil {
		return fmt.Errorf("etcd: check schema version: %w", err)
	}
	if resp.Succeeded {
		return nil
	}
	kvs := resp.Responses[0].GetResponseRange().GetKvs()
	if len(kvs) == 0 {
		return errors.New("etcd: schema version vanished while checking it")
	}
	v, err := strconv.ParseUint(string(kvs[0].Value), 10, 64)
	switch {
	case err != nil:
		return fmt.Errorf("etcd: malformed schema version %q", kvs[0].Value)
	case v > SchemaVersion:
		return fmt.Errorf("%w: prefix %q has %d, this build supports %d", ErrNewerSchema, d.prefix, v, SchemaVersion)
	case v < 1:
		return fmt.Errorf("etcd: unsupported schema version %d", v)
	}
	return nil
}

// Close closes the client when Open created it; a DB from New leaves its
// client open. It must be called once, after all other calls have
// returned.
func (d *DB) Close() error {
	if !d.owned {
		return nil
	}
	if err := d.client.Close(); err != nil {
		return fmt.Errorf("etcd: close: %w", err)
	}
	return nil
}

// retryPause is the wait between attempts of a request that found the
// cluster unavailable.
const retryPause = 50 * time.Millisecond

// retry runs call until it succeeds, fails otherwise than by the cluster
// being unavailable, the caller's ctx ends, or the request timeout is
// spent. Each attempt gets a quarter of the request timeout, so that one
// sent to a member that died or froze (its server still accepts requests
// but its raft node is gone) is tried again on another before the budget
// is gone; a request slower than that on a healthy cluster is retried the
// same way, and the last attempt gets whatever is left. retried reports
// that an earlier attempt failed as unavailable: a write may then have
// been applied by it already.
func (d *DB) retry(ctx context.Context, call func(context.Context) error) (retried bool, err error) {
	deadline := time.Now().Add(d.timeout)
	per := max(d.timeout/4, 250*time.Millisecond)
	for attempt := 0; ; attempt++ {
		end := time.Now().Add(per)
		if end.After(deadline) || deadline.Sub(end) < per {
			end = deadline // the last attempt
		}
		actx, cancel := context.WithDeadline(ctx, end)
		err = call(actx)
		cancel()
		if err == nil || ctx.Err() != nil || !unavailable(err) || time.Until(deadline) < 2*retryPause {
			return attempt > 0, err
		}
		select {
		case <-ctx.Done():
			return attempt > 0, err
		case <-time.After(retryPause):
		}
	}
}

// get runs a Get, retried while the cluster is unavailable (reads are
// safe to repeat), bounded by the request timeout.
func (d *DB) get(ctx context.Context, key string, opts ...clientv3.OpOption) (*clientv3.GetResponse, error) {
	var resp *clientv3.GetResponse
	_, err := d.retry(ctx, func(ctx context.Context) (err error) {
		resp, err = d.kv.Get(ctx, key, opts...)
		return err
	})
	return resp, err
}

// del runs a Delete like get; retried reports that an earlier attempt
// may have deleted already.
func (d *DB) del(ctx context.Context, key string, opts ...clientv3.OpOption) (resp *clientv3.DeleteResponse, retried bool, err error) {
	retried, err = d.retry(ctx, func(ctx context.Context) (err error) {
		resp, err = d.kv.Delete(ctx, key, opts...)
		return err
	})
	return resp, retried, err
}

// txn runs a transaction like get: then when every compare holds,
// otherwise els. retried reports that an earlier attempt may have been
// applied already; every caller's compares make a repeat harmless, and
// the callers that must tell "it was me" apart check it.
func (d *DB) txn(ctx context.Context, cmps []clientv3.Cmp, then, els []clientv3.Op) (resp *clientv3.TxnResponse, retried bool, err error) {
	retried, err = d.retry(ctx, func(ctx context.Context) (err error) {
		resp, err = d.kv.Txn(ctx).If(cmps...).Then(then...).Else(els...).Commit()
		return err
	})
	return resp, retried, err
}
