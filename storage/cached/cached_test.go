package cached

import (
	"context"
	"path/filepath"
	"reflect"
	"sync/atomic"
	"testing"
	"time"

	"github.com/oauth2broker/oauth2broker/storage"
	"github.com/oauth2broker/oauth2broker/storage/bbolt"
	"github.com/oauth2broker/oauth2broker/storage/storagetest"
)

func openBolt(t *testing.T) storage.Storage {
	t.Helper()
	db, err := bbolt.Open(bbolt.Config{Path: filepath.Join(t.TempDir(), "b.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// A Store in front of bbolt keeps every contract of the store.
func TestConformance(t *testing.T) {
	storagetest.RunTests(t, func(t *testing.T) storage.Storage { return Wrap(openBolt(t), Config{}) })
}

func TestConcurrency(t *testing.T) {
	storagetest.RunConcurrencyTests(t, func(t *testing.T) storage.Storage { return Wrap(openBolt(t), Config{}) })
}

// counting is a real store that counts the client reads that reach it,
// and can hold one read after it has read, until release is closed.
type counting struct {
	storage.Storage
	reads   atomic.Int64
	read    chan struct{} // when set, a read signals it has read…
	release chan struct{} // …and waits for this before it answers
}

func (s *counting) GetClient(ctx context.Context, api, id string) (storage.Client, error) {
	s.reads.Add(1)
	c, err := s.Storage.GetClient(ctx, api, id)
	if s.read != nil {
		s.read <- struct{}{}
		<-s.release
	}
	return c, err
}

func seed(t *testing.T, s storage.Storage) {
	t.Helper()
	ctx := context.Background()
	if err := s.CreateAPI(ctx, storage.API{Name: "shop", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateClient(ctx, storage.Client{API: "shop", ID: "c1", SecretHash: []byte("h1"), Scopes: []string{"read"}}); err != nil {
		t.Fatal(err)
	}
}

func hash(t *testing.T, s storage.Storage) string {
	t.Helper()
	c, err := s.GetClient(context.Background(), "shop", "c1")
	if err != nil {
		t.Fatal(err)
	}
	return string(c.SecretHash)
}

func rotate(hash string) func(storage.Client) (storage.Client, error) {
	return func(c storage.Client) (storage.Client, error) { c.SecretHash = []byte(hash); return c, nil }
}

// Reads are answered from memory; each way a client can change (a write
// through the Store, a write through Forgetting, a change the watch
// reports, changes lost) makes the next read go to the store.
func TestForgets(t *testing.T) {
	ctx := context.Background()
	inner := &counting{Storage: openBolt(t)}
	c := Wrap(inner, Config{})
	seed(t, c)
	for range 3 {
		if got := hash(t, c); got != "h1" {
			t.Fatalf("got hash %q, want h1", got)
		}
	}
	if n := inner.reads.Load(); n != 1 {
		t.Fatalf("3 reads reached the store %d times, want 1", n)
	}
	if _, err := c.UpdateClient(ctx, "shop", "c1", rotate("h2")); err != nil {
		t.Fatal(err)
	}
	if got := hash(t, c); got != "h2" {
		t.Errorf("after a rotation through the Store: got %q, want h2", got)
	}
	if _, err := c.Forgetting(inner).UpdateClient(ctx, "shop", "c1", rotate("h3")); err != nil {
		t.Fatal(err)
	}
	if got := hash(t, c); got != "h3" {
		t.Errorf("after a rotation through Forgetting: got %q, want h3", got)
	}
	// Another process's writes: straight to the store, then the watch.
	for i, ch := range []storage.Change{{Kind: storage.KindClients, API: "shop", ID: "c1"}, {}} {
		want := []string{"h4", "h5"}[i]
		if _, err := inner.UpdateClient(ctx, "shop", "c1", rotate(want)); err != nil {
			t.Fatal(err)
		}
		c.Changed(ch)
		if got := hash(t, c); got != want {
			t.Errorf("after Changed(%+v): got %q, want %q", ch, got, want)
		}
	}
	if err := c.DeleteClient(ctx, "shop", "c1"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetClient(ctx, "shop", "c1"); err != storage.ErrNotFound {
		t.Errorf("after a delete: got %v, want ErrNotFound", err)
	}
}

// A read that loaded a record before a write returned is not remembered:
// the next read sees the write.
func TestReadRacingWrite(t *testing.T) {
	ctx := context.Background()
	inner := &counting{Storage: openBolt(t)}
	c := Wrap(inner, Config{})
	seed(t, c)
	inner.read, inner.release = make(chan struct{}), make(chan struct{})
	got := make(chan string)
	go func() { got <- hash(t, c) }()
	<-inner.read // the read has the old record in hand
	inner.read = nil
	if _, err := c.UpdateClient(ctx, "shop", "c1", rotate("h2")); err != nil {
		t.Fatal(err)
	}
	close(inner.release)
	if old := <-got; old != "h1" {
		t.Fatalf("the racing read: got %q, want h1", old)
	}
	if now := hash(t, c); now != "h2" {
		t.Errorf("after the racing read: got %q, want h2 (the old record was remembered)", now)
	}
}

// With a TTL, a record is read again once it is older than the TTL.
func TestTTL(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	inner := &counting{Storage: openBolt(t)}
	c := Wrap(inner, Config{TTL: time.Second, Now: func() time.Time { return now }})
	seed(t, c)
	hash(t, c)
	hash(t, c)
	now = now.Add(time.Second)
	hash(t, c)
	if n := inner.reads.Load(); n != 2 {
		t.Errorf("reads reaching the store: got %d, want 2 (one, then one after the TTL)", n)
	}
}

// Records handed out are copies: changing one changes neither what is
// remembered nor the next answer. Every reference field of the cached
// kinds is filled, so a field added later that the clone misses fails.
func TestCopies(t *testing.T) {
	check := func(name string, v any, clone func(any) any) {
		t.Helper()
		fill(reflect.ValueOf(v).Elem())
		out := reflect.ValueOf(clone(reflect.ValueOf(v).Elem().Interface()))
		in := reflect.ValueOf(v).Elem()
		for i := range in.NumField() {
			f := in.Field(i)
			switch f.Kind() {
			case reflect.Slice, reflect.Map, reflect.Pointer:
				if f.Pointer() == out.Field(i).Pointer() {
					t.Errorf("%s.%s: the clone shares it", name, in.Type().Field(i).Name)
				}
			}
		}
	}
	check("API", &storage.API{}, func(v any) any { return cloneAPI(v.(storage.API)) })
	check("Client", &storage.Client{}, func(v any) any { return cloneClient(v.(storage.Client)) })
	check("Provider", &storage.Provider{}, func(v any) any { return cloneProvider(v.(storage.Provider)) })
}

// fill gives every slice, map and pointer field of struct v a value.
func fill(v reflect.Value) {
	for i := range v.NumField() {
		f := v.Field(i)
		if !f.CanSet() {
			continue
		}
		switch f.Kind() {
		case reflect.Slice:
			f.Set(reflect.MakeSlice(f.Type(), 1, 1))
		case reflect.Map:
			f.Set(reflect.MakeMap(f.Type()))
		case reflect.Pointer:
			f.Set(reflect.New(f.Type().Elem()))
		}
	}
}
