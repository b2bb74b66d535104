package etcd

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/oauth2broker/oauth2broker/storage"
	"github.com/oauth2broker/oauth2broker/storage/etcd/etcdtest"
	"github.com/oauth2broker/oauth2broker/storage/storagetest"
)

// endpoint is the client URL of the one-member etcd that TestMain starts
// for the whole package; each test works under its own prefix.
var endpoint string

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "etcd-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	ep, stop, err := etcdtest.Start(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer stop()
	endpoint = ep
	return m.Run()
}

var prefixes atomic.Int64

// freshPrefix returns a key prefix no other test uses.
func freshPrefix() string {
	return fmt.Sprintf("/oauth2broker-test/%d/", prefixes.Add(1))
}

func mustOpen(t *testing.T, cfg Config) *DB {
	t.Helper()
	if cfg.Endpoints == nil {
		cfg.Endpoints = []string{endpoint}
	}
	db, err := Open(t.Context(), cfg)
	if err != nil {
		t.Fatalf("Open(%+v): got error %v, want nil", cfg, err)
	}
	return db
}

func newStorage(t *testing.T) storage.Storage {
	t.Helper()
	return mustOpen(t, Config{Prefix: freshPrefix()})
}

func TestConformance(t *testing.T) { storagetest.RunTests(t, newStorage) }
func TestConcurrency(t *testing.T) { storagetest.RunConcurrencyTests(t, newStorage) }

// etcd serves several broker processes: the store says it is shared.
func TestShared(t *testing.T) {
	if !storage.Shared(newStorage(t)) {
		t.Error("storage.Shared(etcd): got false, want true")
	}
}

// newClient returns a client of the shared etcd, closed when t ends.
func newClient(t *testing.T) *clientv3.Client {
	t.Helper()
	c, err := clientv3.New(clientv3.Config{Endpoints: []string{endpoint}, Logger: zap.NewNop()})
	if err != nil {
		t.Fatalf("clientv3.New: got error %v, want nil", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func mustGetValue(t *testing.T, c *clientv3.Client, key string) string {
	t.Helper()
	resp, err := c.Get(t.Context(), key)
	if err != nil || len(resp.Kvs) != 1 {
		t.Fatalf("Get(%q): got %v, error %v, want one key", key, resp, err)
	}
	return string(resp.Kvs[0].Value)
}

func TestSchemaVersion(t *testing.T) {
	prefix := freshPrefix()
	c := newClient(t)
	db := mustOpen(t, Config{Prefix: prefix})
	if err := db.Close(); err != nil {
		t.Fatalf("Close: got error %v, want nil", err)
	}
	if got := mustGetValue(t, c, prefix+keySchemaVersion); got != "1" {
		t.Errorf("schema version after Open: got %q, want %q", got, "1")
	}

	if _, err := c.Put(t.Context(), prefix+keySchemaVersion, fmt.Sprint(SchemaVersion+1)); err != nil {
		t.Fatalf("Put: got error %v, want nil", err)
	}
	if db, err := Open(t.Context(), Config{Endpoints: []string{endpoint}, Prefix: prefix}); !errors.Is(err, ErrNewerSchema) {
		t.Errorf("Open of a newer prefix: got %v, error %v, want error %v", db, err, ErrNewerSchema)
	}
	if db, err := New(c, prefix); !errors.Is(err, ErrNewerSchema) {
		t.Errorf("New on a newer prefix: got %v, error %v, want error %v", db, err, ErrNewerSchema)
	}
	if got, want := mustGetValue(t, c, prefix+keySchemaVersion), fmt.Sprint(SchemaVersion+1); got != want {
		t.Errorf("schema version after a refused Open: got %q, want %q", got, want)
	}
}

func TestPrefix(t *testing.T) {
	c := newClient(t)
	base := strings.TrimSuffix(freshPrefix(), "/")
	db, err := New(c, base) // without the trailing slash
	if err != nil {
		t.Fatalf("New(%q): got error %v, want nil", base, err)
	}
	if err := db.CreateAPI(t.Context(), storage.API{Name: "a"}); err != nil {
		t.Fatalf("CreateAPI: got error %v, want nil", err)
	}
	if got := mustGetValue(t, c, base+"/apis/a"); !strings.Contains(got, `"name":"a"`) {
		t.Errorf("stored API record: got %q, want JSON with name a", got)
	}
	// A prefix that extends base's is another storage.
	other, err := New(c, base+"0")
	if err != nil {
		t.Fatalf("New(%q): got error %v, want nil", base+"0", err)
	}
	if apis, err := other.ListAPIs(t.Context()); err != nil || len(apis) != 0 {
		t.Errorf("ListAPIs under %q: got %+v, error %v, want none", base+"0", apis, err)
	}
	// Close of a DB from New leaves the caller's client open.
	if err := db.Close(); err != nil {
		t.Fatalf("Close: got error %v, want nil", err)
	}
	if _, err := c.Get(t.Context(), base); err != nil {
		t.Errorf("client Get after Close of a DB from New: got error %v, want nil", err)
	}
}

func TestInvalidKey(t *testing.T) {
	db := mustOpen(t, Config{Prefix: freshPrefix()})
	defer db.Close()
	ctx := t.Context()
	errs := map[string]error{
		"CreateAPI":    db.CreateAPI(ctx, storage.API{Name: "a\x00b"}),
		"CreateClient": db.CreateClient(ctx, storage.Client{API: "a", ID: "c\x00"}),
		"DeleteUser":   db.DeleteUser(ctx, "a\x00", "u"),
	}
	_, errs["GetProvider"] = db.GetProvider(ctx, "a", "\x00")
	_, errs["ListClients"] = db.ListClients(ctx, "a\x00")
	for call, err := range errs {
		if !errors.Is(err, ErrInvalidKey) || !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("%s with a NUL byte in the key: got error %v, want %v (a %v)", call, err, ErrInvalidKey, storage.ErrNotFound)
		}
	}
}

// TestUpdateLostCompare has a second writer change the record while the
// Update function runs: the function runs again on the new record, and
// after maxUpdateAttempts lost compares Update answers ErrConflict.
func TestUpdateLostCompare(t *testing.T) {
	prefix := freshPrefix()
	db, other := mustOpen(t, Config{Prefix: prefix}), mustOpen(t, Config{Prefix: prefix})
	defer db.Close()
	defer other.Close()
	ctx := t.Context()
	if err := db.CreateConnection(ctx, storage.Connection{API: "a", ID: "c", Scope: "x"}); err != nil {
		t.Fatalf("CreateConnection: got error %v, want nil", err)
	}
	interfere := func() {
		_, err := other.UpdateConnection(ctx, "a", "c", func(c storage.Connection) (storage.Connection, error) {
			c.Scope += "+other"
			return c, nil
		})
		if err != nil {
			t.Fatalf("UpdateConnection by the other writer: got error %v, want nil", err)
		}
	}
	var seen []string
	_, err := db.UpdateConnection(ctx, "a", "c", func(c storage.Connection) (storage.Connection, error) {
		seen = append(seen, c.Scope)
		if len(seen) == 1 {
			interfere()
		}
		c.Status = storage.StatusDegraded
		return c, nil
	})
	if err != nil {
		t.Fatalf("UpdateConnection: got error %v, want nil", err)
	}
	if want := []string{"x", "x+other"}; strings.Join(seen, ",") != strings.Join(want, ",") {
		t.Errorf("Scope seen by the Update function: got %q, want %q", seen, want)
	}
	got, err := db.GetConnection(ctx, "a", "c")
	if err != nil || got.Scope != "x+other" || got.Status != storage.StatusDegraded || got.Version != 3 {
		t.Errorf("GetConnection: got %+v, error %v, want Scope x+other, Status %s, Version 3", got, err, storage.StatusDegraded)
	}

	calls := 0
	_, err = db.UpdateConnection(ctx, "a", "c", func(c storage.Connection) (storage.Connection, error) {
		calls++
		interfere()
		return c, nil
	})
	if !errors.Is(err, storage.ErrConflict) || calls != maxUpdateAttempts {
		t.Errorf("UpdateConnection always losing: got error %v after %d calls, want %v after %d", err, calls, storage.ErrConflict, maxUpdateAttempts)
	}

	// A record deleted between read and write is not found.
	_, err = db.UpdateConnection(ctx, "a", "c", func(c storage.Connection) (storage.Connection, error) {
		if err := other.DeleteConnection(ctx, "a", "c"); err != nil {
			t.Fatalf("DeleteConnection by the other writer: got error %v, want nil", err)
		}
		return c, nil
	})
	if !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("UpdateConnection of a record deleted meanwhile: got error %v, want %v", err, storage.ErrNotFound)
	}
}

// TestGarbageCollectPages collects more expired records than one page of
// scan and one transaction of deletes hold.
func TestGarbageCollectPages(t *testing.T) {
	db := mustOpen(t, Config{Prefix: freshPrefix()})
	defer db.Close()
	ctx := t.Context()
	now := time.Unix(2e9, 0)
	const n = pageSize + gcBatch + 1
	for i := range n {
		tok := storage.IssuedToken{API: "a", ID: fmt.Sprintf("t%04d", i), ExpiresAt: now.Add(-time.Second)}
		if i%2 == 1 {
			tok.ExpiresAt = now.Add(time.Second)
		}
		if err := db.CreateIssuedToken(ctx, tok); err != nil {
			t.Fatalf("CreateIssuedToken: got error %v, want nil", err)
		}
	}
	got, err := db.GarbageCollect(ctx, now)
	if want := (storage.GCResult{IssuedTokens: (n + 1) / 2}); err != nil || got != want {
		t.Errorf("GarbageCollect: got %+v, error %v, want %+v", got, err, want)
	}
	if _, err := db.GetIssuedToken(ctx, "a", "t0001"); err != nil {
		t.Errorf("GetIssuedToken of a live token after GC: got error %v, want nil", err)
	}
}

// TestServerStopped checks that every call fails with an error, within
// the request timeout, once the cluster is gone.
func TestServerStopped(t *testing.T) {
	ep, closeEtcd, err := etcdtest.Start(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	stop := sync.OnceFunc(closeEtcd) // Close panics when called twice
	defer stop()
	// Long enough that opening and the first write never run out of it on
	// a loaded machine; each call below still ends within it plus 10 s.
	const timeout = 2 * time.Second
	db := mustOpen(t, Config{Endpoints: []string{ep}, RequestTimeout: timeout})
	defer db.Close()
	ctx := t.Context()
	if err := db.CreateState(ctx, storage.State{API: "a", ID: "s"}); err != nil {
		t.Fatalf("CreateState: got error %v, want nil", err)
	}
	stop()

	calls := map[string]func() error{
		"GetAPI":       func() error { _, err := db.GetAPI(ctx, "a"); return err },
		"ListClients":  func() error { _, err := db.ListClients(ctx, "a"); return err },
		"CreateClient": func() error { return db.CreateClient(ctx, storage.Client{API: "a", ID: "c"}) },
		"UpdateUser": func() error {
			_, err := db.UpdateUser(ctx, "a", "u", func(u storage.User) (storage.User, error) { return u, nil })
			return err
		},
		"DeleteProvider": func() error { return db.DeleteProvider(ctx, "a", "p") },
		"ConsumeState":   func() error { _, err := db.ConsumeState(ctx, "a", "s"); return err },
		"GarbageCollect": func() error { _, err := db.GarbageCollect(ctx, time.Now()); return err },
	}
	for name, call := range calls {
		start := time.Now()
		err := call()
		elapsed := time.Since(start)
		if err == nil || !strings.HasPrefix(err.Error(), "etcd: ") {
			t.Errorf("%s with the server stopped: got error %v, want an etcd: error", name, err)
		}
		for _, sentinel := range []error{storage.ErrNotFound, storage.ErrAlreadyExists, storage.ErrConflict} {
			if errors.Is(err, sentinel) {
				t.Errorf("%s with the server stopped: got error %v, want not %v", name, err, sentinel)
			}
		}
		if elapsed > timeout+10*time.Second {
			t.Errorf("%s with the server stopped: returned after %v, want about %v", name, elapsed, timeout)
		}
	}

	start := time.Now()
	cfg := Config{Endpoints: []string{ep}, DialTimeout: timeout}
	if db, err := Open(ctx, cfg); err == nil {
		db.Close()
		t.Errorf("Open with the server stopped: got nil error, want an error")
	}
	if elapsed := time.Since(start); elapsed > timeout+10*time.Second {
		t.Errorf("Open with the server stopped: returned after %v, want about %v", elapsed, timeout)
	}
}
