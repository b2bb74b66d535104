package bbolt

import (
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/oauth2broker/oauth2broker/storage"
	"github.com/oauth2broker/oauth2broker/storage/storagetest"
)

func newStorage(t *testing.T) storage.Storage {
	t.Helper()
	return mustOpen(t, filepath.Join(t.TempDir(), "broker.db"))
}

func TestConformance(t *testing.T) { storagetest.RunTests(t, newStorage) }

func TestConcurrency(t *testing.T) { storagetest.RunConcurrencyTests(t, newStorage) }

// A bbolt file serves one process: the store does not say it is shared.
func TestNotShared(t *testing.T) {
	if storage.Shared(newStorage(t)) {
		t.Error("storage.Shared(bbolt): got true, want false")
	}
}

func mustOpen(t *testing.T, path string) *DB {
	t.Helper()
	db, err := Open(Config{Path: path})
	if err != nil {
		t.Fatalf("Open(%q): got error %v, want nil", path, err)
	}
	return db
}

func mustClose(t *testing.T, db *DB) {
	t.Helper()
	if err := db.Close(); err != nil {
		t.Fatalf("Close: got error %v, want nil", err)
	}
}

// schemaVersion reads the stored schema version of db.
func schemaVersion(t *testing.T, db *bolt.DB) uint64 {
	t.Helper()
	var v uint64
	err := db.View(func(tx *bolt.Tx) error {
		raw := tx.Bucket([]byte(bucketMeta)).Get([]byte(keySchemaVersion))
		if len(raw) != 8 {
			return errors.New("malformed schema version")
		}
		v = binary.BigEndian.Uint64(raw)
		return nil
	})
	if err != nil {
		t.Fatalf("reading schema version: got error %v, want nil", err)
	}
	return v
}

func TestReopenKeepsData(t *testing.T) {
	path := filepath.Join(t.TempDir(), "broker.db")
	db := mustOpen(t, path)
	want := storage.Client{API: "a", ID: "c1", SecretHash: []byte("hash"), CreatedAt: time.Unix(1e9, 0).UTC()}
	if err := db.CreateClient(t.Context(), want); err != nil {
		t.Fatalf("CreateClient: got error %v, want nil", err)
	}
	mustClose(t, db)

	db = mustOpen(t, path)
	defer mustClose(t, db)
	got, err := db.GetClient(t.Context(), "a", "c1")
	if err != nil || got.ID != want.ID || string(got.SecretHash) != "hash" || !got.CreatedAt.Equal(want.CreatedAt) {
		t.Errorf("GetClient after reopen: got %+v, error %v, want %+v", got, err, want)
	}
	if v := schemaVersion(t, db.db); v != SchemaVersion {
		t.Errorf("schema version after reopen: got %d, want %d", v, SchemaVersion)
	}
	info, err := os.Stat(path)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("file mode: got %v, error %v, want %v", info.Mode().Perm(), err, os.FileMode(0o600))
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "broker.db")
	db := mustOpen(t, path)
	err := db.db.Update(func(tx *bolt.Tx) error {
		buf := binary.BigEndian.AppendUint64(nil, SchemaVersion+1)
		return tx.Bucket([]byte(bucketMeta)).Put([]byte(keySchemaVersion), buf)
	})
	if err != nil {
		t.Fatalf("writing a newer schema version: got error %v, want nil", err)
	}
	mustClose(t, db)

	if db, err := Open(Config{Path: path}); !errors.Is(err, ErrNewerSchema) {
		t.Errorf("Open of a newer file: got %v, error %v, want error %v", db, err, ErrNewerSchema)
	}
	raw, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatalf("bolt.Open: got error %v, want nil", err)
	}
	defer func() { _ = raw.Close() }()
	if v := schemaVersion(t, raw); v != SchemaVersion+1 {
		t.Errorf("schema version after a refused Open: got %d, want %d", v, SchemaVersion+1)
	}
}

func TestLockTimeout(t *testing.T) {
	path := filepath.Join(t.TempDir(), "broker.db")
	defer mustClose(t, mustOpen(t, path))
	if db, err := Open(Config{Path: path, Timeout: 100 * time.Millisecond}); !errors.Is(err, bolt.ErrTimeout) {
		t.Errorf("Open of a locked file: got %v, error %v, want error %v", db, err, bolt.ErrTimeout)
	}
}

func TestInvalidKey(t *testing.T) {
	db := mustOpen(t, filepath.Join(t.TempDir(), "broker.db"))
	defer mustClose(t, db)
	ctx := t.Context()
	errs := map[string]error{
		"CreateAPI":    db.CreateAPI(ctx, storage.API{Name: "a\x00b"}),
		"CreateClient": db.CreateClient(ctx, storage.Client{API: "a", ID: "c\x00"}),
		"DeleteUser":   db.DeleteUser(ctx, "a\x00", "u"),
	}
	_, errs["GetProvider"] = db.GetProvider(ctx, "a", "\x00")
	_, errs["ListClients"] = db.ListClients(ctx, "a\x00")
	for call, err := range errs {
		if !errors.Is(err, ErrInvalidKey) {
			t.Errorf("%s with a NUL byte in the key: got error %v, want %v", call, err, ErrInvalidKey)
		}
	}
}

// Verify accepts a backup and counts its records, and refuses a cut copy
// or a bbolt file that is not a store.
func TestVerify(t *testing.T) {
	dir := t.TempDir()
	db := mustOpen(t, filepath.Join(dir, "broker.db"))
	ctx := t.Context()
	if err := db.CreateAPI(ctx, storage.API{Name: "shop", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	backup := filepath.Join(dir, "backup.db")
	f, err := os.Create(backup)
	if err != nil {
		t.Fatal(err)
	}
	var size int64
	n, err := db.Backup(f, func(s int64) { size = s })
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil || n != size || n == 0 {
		t.Fatalf("Backup: wrote %d bytes of an announced %d, %v", n, size, err)
	}
	mustClose(t, db)

	counts, err := Verify(backup)
	if err != nil {
		t.Fatalf("Verify(backup): %v", err)
	}
	if counts[bucketAPIs] != 1 {
		t.Errorf("Verify counts: got %v, want one api", counts)
	}

	raw, err := os.ReadFile(backup)
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(dir, "cut.db")
	if err := os.WriteFile(cut, raw[:len(raw)-4096], 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(cut); err == nil {
		t.Error("Verify(cut copy): got nil, want an error")
	}

	other := filepath.Join(dir, "other.db")
	bdb, err := bolt.Open(other, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = bdb.Close()
	if _, err := Verify(other); err == nil {
		t.Error("Verify(plain bbolt file): got nil, want an error")
	}
}
