package broker_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/oauth2broker/oauth2broker/broker"
	"github.com/oauth2broker/oauth2broker/broker/seal"
	"github.com/oauth2broker/oauth2broker/storage"
	"github.com/oauth2broker/oauth2broker/storage/bbolt"
)

// diskFull is the real bbolt store whose client writes and write probe
// fail, while full is set, as bbolt's do on a full disk.
type diskFull struct {
	*bbolt.DB
	full atomic.Bool
}

func errNoSpace() error {
	return fmt.Errorf("bbolt: write: %w (%w)", storage.ErrUnavailable, syscall.ENOSPC)
}

func (d *diskFull) CreateClient(ctx context.Context, c storage.Client) error {
	if d.full.Load() {
		return errNoSpace()
	}
	return d.DB.CreateClient(ctx, c)
}

func (d *diskFull) ProbeWrite(ctx context.Context) error {
	if d.full.Load() {
		return errNoSpace()
	}
	return d.DB.ProbeWrite(ctx)
}

// startOn starts a broker on store with the clock clk.
func startOn(t *testing.T, store storage.Storage, clk *clock) *env {
	t.Helper()
	key, _ := seal.GenerateKey()
	ring, _ := seal.NewKeyring(key)
	ts := httptest.NewUnstartedServer(nil)
	ts.Start()
	srv, err := broker.New(context.Background(), broker.Config{Catalog: broker.BuiltinCatalog(t), Store: store, Keyring: ring, PublicURL: ts.URL,
		AdminToken: adminToken, Now: clk.now, GCInterval: -1, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = srv
	t.Cleanup(func() { ts.Close(); srv.Close() })
	return &env{t: t, URL: ts.URL, Srv: srv, Ring: ring}
}

func (e *env) get(path string) answer {
	e.t.Helper()
	req, _ := http.NewRequest("GET", e.URL+path, nil)
	return e.do(req)
}

// wantNotReady checks that /readyz answers 503 temporarily_unavailable
// with Retry-After and the reason, and /healthz 200.
func (e *env) wantNotReady(reason string) {
	e.t.Helper()
	r := e.get("/readyz")
	if r.Status != 503 || r.str("error") != "temporarily_unavailable" || r.Header.Get("Retry-After") == "" ||
		!strings.Contains(r.str("error_description"), reason) {
		e.t.Errorf("/readyz: got %d %s (Retry-After %q), want 503 temporarily_unavailable with Retry-After and %q",
			r.Status, r.Raw, r.Header.Get("Retry-After"), reason)
	}
	if h := e.get("/healthz"); h.Status != 200 {
		e.t.Errorf("/healthz while the store cannot write: got %d, want 200", h.Status)
	}
}

func (e *env) wantReady() {
	e.t.Helper()
	if r := e.get("/readyz"); r.Status != 200 {
		e.t.Errorf("/readyz: got %d %s, want 200", r.Status, r.Raw)
	}
}

// A store that cannot write answers writes 503 temporarily_unavailable
// with Retry-After, and /readyz says so while /healthz stays up; /readyz
// comes back by itself once a write probe succeeds, after a hold-down that
// doubles when the store fails again soon after coming back (no flapping).
func TestReadyzWhileStoreCannotWrite(t *testing.T) {
	db, err := bbolt.Open(bbolt.Config{Path: filepath.Join(t.TempDir(), "broker.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	store := &diskFull{DB: db}
	clk := newClock()
	e := startOn(t, store, clk)
	e.mustAdmin(201, "POST", "/apis", map[string]any{"name": "d"})
	e.wantReady()

	store.full.Store(true)
	w := e.admin("POST", "/apis/d/clients", map[string]any{"client_id": "app"})
	if w.Status != 503 || w.str("error") != "temporarily_unavailable" || w.Header.Get("Retry-After") == "" {
		t.Fatalf("write on a full disk: got %d %s (Retry-After %q), want 503 temporarily_unavailable with Retry-After", w.Status, w.Raw, w.Header.Get("Retry-After"))
	}
	e.wantNotReady("no space left on device")
	if r := e.admin("GET", "/apis/d", nil); r.Status != 200 {
		t.Errorf("read while the disk is full: got %d %s, want 200", r.Status, r.Raw)
	}
	clk.add(time.Minute) // past the hold-down: the probe runs and fails
	e.wantNotReady("no space left on device")

	store.full.Store(false) // space freed
	clk.add(time.Second)    // the failed probe holds readiness down for 2 s
	e.wantNotReady("no space left on device")
	clk.add(time.Second)
	e.wantReady()
	e.mustAdmin(201, "POST", "/apis/d/clients", map[string]any{"client_id": "app"})

	// Failing again right after coming back: the hold-down doubles (2 s, 4 s).
	store.full.Store(true)
	e.admin("POST", "/apis/d/clients", map[string]any{"client_id": "app2"})
	store.full.Store(false)
	clk.add(3 * time.Second)
	e.wantNotReady("no space left on device")
	clk.add(2 * time.Second)
	e.wantReady()
}

// smallFS mounts a tmpfs of 2 MiB; it skips when mounting is not permitted.
func smallFS(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=2m"); err != nil {
		t.Skipf("cannot mount a small file system (needs root): %v", err)
	}
	t.Cleanup(func() { _ = syscall.Unmount(dir, syscall.MNT_DETACH) })
	return dir
}

// The same on a real full disk: a broker whose bbolt file is on a 2 MiB
// file system that fills up.
func TestFullDiskAnswers503AndRecovers(t *testing.T) {
	dir := smallFS(t)
	db, err := bbolt.Open(bbolt.Config{Path: filepath.Join(dir, "broker.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	clk := newClock()
	e := startOn(t, db, clk)
	e.mustAdmin(201, "POST", "/apis", map[string]any{"name": "d"})
	filler := filepath.Join(dir, "filler")
	f, err := os.Create(filler)
	if err != nil {
		t.Fatal(err)
	}
	for err == nil {
		_, err = f.Write(make([]byte, 4096))
	}
	f.Close()
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("filling the file system: got %v, want ENOSPC", err)
	}

	var w answer
	for i := 0; i < 500; i++ { // the first writes may still fit in free pages
		w = e.admin("POST", "/apis/d/clients", map[string]any{"client_id": fmt.Sprintf("c%d", i), "name": strings.Repeat("x", 250)})
		if w.Status != 201 {
			break
		}
	}
	if w.Status != 503 || w.str("error") != "temporarily_unavailable" || w.Header.Get("Retry-After") == "" {
		t.Fatalf("write on a full disk: got %d %s, want 503 temporarily_unavailable with Retry-After", w.Status, w.Raw)
	}
	e.wantNotReady("no space left on device")
	clk.add(time.Minute)
	e.wantNotReady("no space left on device") // the probe finds no room

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	clk.add(2 * time.Second)
	e.wantReady()
	e.mustAdmin(201, "POST", "/apis/d/clients", map[string]any{"client_id": "after"})
}

// noQuorum is a store without a write probe of its own whose writes fail,
// while down is set, as etcd's do without a quorum.
type noQuorum struct {
	storage.Storage
	down atomic.Bool
}

func errNoQuorum() error {
	return fmt.Errorf("etcd: put client: %w (context deadline exceeded)", storage.ErrUnavailable)
}

func (s *noQuorum) CreateClient(ctx context.Context, c storage.Client) error {
	if s.down.Load() {
		return errNoQuorum()
	}
	return s.Storage.CreateClient(ctx, c)
}

func (s *noQuorum) CreateState(ctx context.Context, st storage.State) error {
	if s.down.Load() {
		return errNoQuorum()
	}
	return s.Storage.CreateState(ctx, st)
}

// A store without a WriteProber is probed with a state of the reserved
// API "readyz", written and consumed, which leaves nothing behind.
func TestReadyzProbesWithAState(t *testing.T) {
	db, err := bbolt.Open(bbolt.Config{Path: filepath.Join(t.TempDir(), "broker.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	store := &noQuorum{Storage: db}
	clk := newClock()
	e := startOn(t, store, clk)
	e.mustAdmin(201, "POST", "/apis", map[string]any{"name": "q"})
	store.down.Store(true)
	if w := e.admin("POST", "/apis/q/clients", map[string]any{"client_id": "app"}); w.Status != 503 {
		t.Fatalf("write without quorum: got %d %s, want 503", w.Status, w.Raw)
	}
	clk.add(time.Minute)
	e.wantNotReady("no quorum") // the probe's write fails too
	store.down.Store(false)
	clk.add(time.Minute)
	e.wantReady()
	n, err := db.GarbageCollect(context.Background(), clk.now().Add(time.Hour))
	if err != nil || n.States != 0 {
		t.Errorf("states left by the probes: %d (%v), want 0", n.States, err)
	}
}
