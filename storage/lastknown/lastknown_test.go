package lastknown

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/oauth2broker/oauth2broker/storage"
	"github.com/oauth2broker/oauth2broker/storage/bbolt"
)

// flaky is a real bbolt store that answers ErrUnavailable while down, as
// etcd does without quorum.
type flaky struct {
	storage.Storage
	down  atomic.Bool
	stall chan struct{} // when set, a read while down waits for it, as for a timeout
}

func (f *flaky) GetClient(ctx context.Context, api, id string) (storage.Client, error) {
	if f.down.Load() {
		if f.stall != nil {
			<-f.stall
		}
		return storage.Client{}, fmt.Errorf("no quorum: %w", storage.ErrUnavailable)
	}
	return f.Storage.GetClient(ctx, api, id)
}

// A Store answers what it read while the store is down, for
// ttl; forgets a record the watch says changed; and hands out
// copies.
func TestLastKnown(t *testing.T) {
	db, err := bbolt.Open(bbolt.Config{Path: filepath.Join(t.TempDir(), "b.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ctx := t.Context()
	if err := db.CreateClient(ctx, storage.Client{API: "a", ID: "c", Scopes: []string{"read"}, CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	f := &flaky{Storage: db}
	now := time.Now()
	lk := Wrap(f, Config{Now: func() time.Time { return now }})

	if _, err := lk.GetClient(ctx, "a", "unread"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("unknown client: %v", err)
	}
	c, err := lk.GetClient(ctx, "a", "c")
	if err != nil {
		t.Fatal(err)
	}
	c.Scopes[0] = "mutated by the caller"

	f.down.Store(true)
	got, err := lk.GetClient(ctx, "a", "c")
	if err != nil || got.Scopes[0] != "read" {
		t.Errorf("while down: got %+v, %v; want the client as read, unmutated", got, err)
	}
	if _, err := lk.GetClient(ctx, "a", "never-read"); !errors.Is(err, storage.ErrUnavailable) {
		t.Errorf("while down, a client never read: got %v, want ErrUnavailable", err)
	}

	now = now.Add(ttl + time.Second)
	if _, err := lk.GetClient(ctx, "a", "c"); !errors.Is(err, storage.ErrUnavailable) {
		t.Errorf("down, read longer than ttl ago: got %v, want ErrUnavailable", err)
	}

	f.down.Store(false)
	if _, err := lk.GetClient(ctx, "a", "c"); err != nil {
		t.Fatal(err)
	}
	lk.Changed(storage.Change{Kind: storage.KindClients, API: "a", ID: "c"})
	f.down.Store(true)
	if _, err := lk.GetClient(ctx, "a", "c"); !errors.Is(err, storage.ErrUnavailable) {
		t.Errorf("down, after the watch said the client changed: got %v, want ErrUnavailable", err)
	}
}

// While the store is down, one read at a time asks it again (and waits
// for its timeout); the others get the remembered answer at once.
func TestLastKnownProbesOneAtATime(t *testing.T) {
	db, err := bbolt.Open(bbolt.Config{Path: filepath.Join(t.TempDir(), "b.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ctx := t.Context()
	if err := db.CreateClient(ctx, storage.Client{API: "a", ID: "c", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	f := &flaky{Storage: db}
	lk := Wrap(f, Config{Now: time.Now})
	if _, err := lk.GetClient(ctx, "a", "c"); err != nil {
		t.Fatal(err)
	}
	f.down.Store(true)
	if _, err := lk.GetClient(ctx, "a", "c"); err != nil { // learns that the store is down
		t.Fatal(err)
	}
	f.stall = make(chan struct{})
	probed := make(chan error, 1)
	go func() { _, err := lk.GetClient(ctx, "a", "c"); probed <- err }()
	for !lk.probing.Load() {
		time.Sleep(time.Millisecond)
	}
	quick := make(chan error, 1)
	go func() { _, err := lk.GetClient(ctx, "a", "c"); quick <- err }()
	select {
	case err := <-quick:
		if err != nil {
			t.Errorf("a read beside the probe: %v, want the remembered client", err)
		}
	case <-time.After(30 * time.Second): // the stalled store answers never
		t.Fatal("a read beside the probe waited for the store")
	}
	close(f.stall)
	if err := <-probed; err != nil {
		t.Errorf("the probe: %v, want the remembered client", err)
	}
}
