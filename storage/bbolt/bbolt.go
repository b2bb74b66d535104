package bbolt

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/oauth2broker/oauth2broker/storage"
)

// SchemaVersion is the version of the on-disk layout this package reads and
// writes. Open writes it into a fresh file and refuses a file whose stored
// version is newer.
const SchemaVersion = 1

// ErrNewerSchema is returned (wrapped) by Open when the file was written by
// a newer version of this package.
var ErrNewerSchema = errors.New("bbolt: schema version is newer than supported")

// DefaultTimeout is the file-lock wait used when Config.Timeout is zero.
const DefaultTimeout = time.Second

// Bucket names: one per record type, plus meta.
const (
	bucketMeta          = "meta"
	bucketAPIs          = "apis"
	bucketClients       = "clients"
	bucketUsers         = "users"
	bucketProviders     = "providers"
	bucketConnections   = "connections"
	bucketIssuedTokens  = "issued_tokens"
	bucketSigningKeys   = "signing_keys"
	bucketStates        = "states"
	bucketWebhookEvents = "webhook_events"
	bucketAudit         = "audit"
	bucketAdminKeys     = "admin_keys"
)

// dataBuckets are the buckets of records, created by Open beside bucketMeta.
var dataBuckets = []string{
	bucketAPIs, bucketClients, bucketUsers, bucketProviders,
	bucketConnections, bucketIssuedTokens, bucketSigningKeys, bucketStates, bucketWebhookEvents, bucketAudit,
	bucketAdminKeys,
}

// keySchemaVersion holds SchemaVersion in bucketMeta, as a big-endian uint64.
const keySchemaVersion = "schema_version"

// Config configures Open.
type Config struct {
	// Path is the database file. It is created with mode 0600 when missing.
	Path string
	// Timeout bounds the wait for the file lock when another process holds
	// the file open; zero or negative means DefaultTimeout.
	Timeout time.Duration
}

// DB is a storage.Storage kept in one bbolt file. It is safe for concurrent
// use; writes are serialized by bbolt.
type DB struct {
	db *bolt.DB
}

var _ storage.Storage = (*DB)(nil)

// Open opens or creates the file at cfg.Path, creates every bucket and
// checks the schema version, all in one transaction. It fails with an error
// wrapping ErrNewerSchema when the file was written by a newer version.
func Open(cfg Config) (*DB, error) {
	if cfg.Path == "" {
		return nil, errors.New("bbolt: empty path")
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	bdb, err := bolt.Open(cfg.Path, 0o600, &bolt.Options{Timeout: timeout})
	if err != nil {
		return nil, fmt.Errorf("bbolt: open: %w", err)
	}
	// A lone write waits at most this long for others to share its
	// transaction and fsync.
	bdb.MaxBatchDelay = time.Millisecond
	d := &DB{db: bdb}
	if err := d.write(initSchema); err != nil {
		if cerr := bdb.Close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("bbolt: close: %w", cerr))
		}
		return nil, err
	}
	return d, nil
}

// initSchema checks or writes the schema version, then creates every
// bucket. On error the transaction rolls back and the file is unchanged.
func initSchema(tx *bolt.Tx) error {
	meta, err := tx.CreateBucketIfNotExists([]byte(bucketMeta))
	if err != nil {
		return fmt.Errorf("bbolt: create bucket %s: %w", bucketMeta, err)
	}
	switch v := meta.Get([]byte(keySchemaVersion)); {
	case v == nil:
		buf := binary.BigEndian.AppendUint64(nil, SchemaVersion)
		if err := meta.Put([]byte(keySchemaVersion), buf); err != nil {
			return fmt.Errorf("bbolt: write schema version: %w", err)
		}
	case len(v) != 8:
		return fmt.Errorf("bbolt: malformed schema version (%d bytes)", len(v))
	case binary.BigEndian.Uint64(v) > SchemaVersion:
		return fmt.Errorf("%w: file has %d, this build supports %d",
			ErrNewerSchema, binary.BigEndian.Uint64(v), SchemaVersion)
	case binary.BigEndian.Uint64(v) < 1:
		return fmt.Errorf("bbolt: unsupported schema version %d", binary.BigEndian.Uint64(v))
	}
	for _, name := range dataBuckets {
		if _, err := tx.CreateBucketIfNotExists([]byte(name)); err != nil {
			return fmt.Errorf("bbolt: create bucket %s: %w", name, err)
		}
	}
	return nil
}

// Close closes the file. It must be called once, after all other calls
// have returned.
func (d *DB) Close() error {
	if err := d.db.Close(); err != nil {
		return fmt.Errorf("bbolt: close: %w", err)
	}
	return nil
}

// write runs fn in one write transaction (see guard). Concurrent writes
// share a transaction and its fsync (bbolt's Batch): each still returns
// only once its write is durable, and fn may run more than once, which the
// storage contract allows.
func (d *DB) write(fn func(*bolt.Tx) error) error {
	return guard("write", d.db.Batch, fn)
}

// read runs fn in one read-only transaction (see guard).
func (d *DB) read(fn func(*bolt.Tx) error) error {
	return guard("read", d.db.View, fn)
}

// guard runs fn through run (db.Update or db.View). An error from fn is
// returned as is, so storage sentinels and Update-function errors keep their
// identity; an error from bbolt itself (begin, commit) is wrapped, as
// storage.ErrUnavailable when the file system cannot take the write now
// (see classify). A failed commit is rolled back whole: the file keeps the
// last committed transaction, and writes go on once there is room again.
func guard(op string, run func(func(*bolt.Tx) error) error, fn func(*bolt.Tx) error) error {
	var fnErr error
	err := run(func(tx *bolt.Tx) error {
		fnErr = fn(tx)
		return fnErr
	})
	if err != nil && fnErr == nil {
		return classify(op, err)
	}
	return err
}

// WriteTo writes a consistent copy of the whole database to w, from one
// read transaction, while other calls go on (bbolt's Tx.WriteTo). The copy
// is a bbolt file: restore it by putting it in place of the data file
// while the broker is stopped.
func (d *DB) WriteTo(w io.Writer) (int64, error) {
	return d.Backup(w, nil)
}

// Backup is WriteTo that first tells size, when not nil, how many bytes
// the copy will have (to send as a Content-Length, so that a reader can
// tell a cut copy from a whole one).
func (d *DB) Backup(w io.Writer, size func(int64)) (int64, error) {
	var n int64
	err := d.db.View(func(tx *bolt.Tx) error {
		if size != nil {
			size(tx.Size())
		}
		var err error
		n, err = tx.WriteTo(w)
		return err
	})
	if err != nil {
		return n, fmt.Errorf("bbolt: backup: %w", err)
	}
	return n, nil
}

// Verify opens the file at path read-only and checks that it is a whole
// oauth2broker store: bbolt's page consistency check passes, every bucket
// is there, and the schema version is one this package reads. It reports
// what the file holds, by bucket. Use it on a backup before relying on it.
func Verify(path string) (map[string]int, error) {
	bdb, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: DefaultTimeout})
	if err != nil {
		return nil, fmt.Errorf("bbolt: open: %w", err)
	}
	defer bdb.Close()
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("bbolt: %w", err)
	}
	counts := map[string]int{}
	err = bdb.View(func(tx *bolt.Tx) error {
		// Check before reading pages: a cut file would fault on them.
		if fi.Size() < tx.Size() {
			return fmt.Errorf("bbolt: file is cut short: %d bytes, its pages need %d", fi.Size(), tx.Size())
		}
		var errs []error
		for cerr := range tx.Check() { // read to the end: the checker runs until then
			if len(errs) < 10 {
				errs = append(errs, cerr)
			}
		}
		if len(errs) > 0 {
			return fmt.Errorf("bbolt: consistency check: %w", errors.Join(errs...))
		}
		meta := tx.Bucket([]byte(bucketMeta))
		if meta == nil {
			return errors.New("bbolt: not an oauth2broker store (no meta bucket)")
		}
		v := meta.Get([]byte(keySchemaVersion))
		if len(v) != 8 || binary.BigEndian.Uint64(v) < 1 || binary.BigEndian.Uint64(v) > SchemaVersion {
			return errors.New("bbolt: missing or unsupported schema version")
		}
		for _, name := range dataBuckets {
			b := tx.Bucket([]byte(name))
			if b == nil {
				return fmt.Errorf("bbolt: bucket %s missing", name)
			}
			counts[name] = b.Stats().KeyN
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return counts, nil
}
