package storagetest

import (
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"

	"github.com/oauth2broker/oauth2broker/storage"
)

// workers is how many goroutines race in each concurrency test.
const workers = 20

// RunConcurrencyTests runs, as subtests of t, the tests that race many
// goroutines on one record of the backend built by newStorage: Update must
// be atomic, ConsumeState must hand a state out once, and Create must let
// one caller win. A backend may answer storage.ErrConflict; the tests then
// retry, as a caller would.
//
// newStorage is called once per subtest and must return a fresh, empty
// storage; the suite closes it when the subtest ends.
func RunConcurrencyTests(t *testing.T, newStorage func(t *testing.T) storage.Storage) {
	t.Helper()
	open := newOpener(newStorage)
	t.Run("UpdateConnection", func(t *testing.T) { testConcurrentUpdate(t, open(t)) })
	t.Run("ConsumeState", func(t *testing.T) { testConcurrentConsume(t, open(t)) })
	t.Run("CreateClient", func(t *testing.T) { testConcurrentCreate(t, open(t)) })
}

// race runs fn(0) … fn(n-1) on n goroutines released together and returns
// their errors by index.
func race(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = fn(i)
		})
	}
	close(start)
	wg.Wait()
	return errs
}

// retry calls fn again while it returns storage.ErrConflict, a bounded
// number of times.
func retry(fn func() error) error {
	err := fn()
	for range 100 * workers {
		if !errors.Is(err, storage.ErrConflict) {
			return err
		}
		err = fn()
	}
	return err
}

// testConcurrentUpdate increments a counter kept in Scope from every
// worker: a lost update shows as a low count or Version.
func testConcurrentUpdate(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	c := connection(apiA, "c1", "app", "alice", "google")
	c.Scope = "0"
	if err := s.CreateConnection(ctx, c); err != nil {
		t.Fatalf("CreateConnection: got error %v, want nil", err)
	}
	increment := func(old storage.Connection) (storage.Connection, error) {
		n, err := strconv.Atoi(old.Scope)
		if err != nil {
			return old, fmt.Errorf("storagetest: counter %q: %w", old.Scope, err)
		}
		old.Scope = strconv.Itoa(n + 1)
		return old, nil
	}
	errs := race(workers, func(int) error {
		return retry(func() error {
			_, err := s.UpdateConnection(ctx, apiA, "c1", increment)
			return err
		})
	})
	for i, err := range errs {
		if err != nil {
			t.Errorf("UpdateConnection in worker %d: got error %v, want nil", i, err)
		}
	}
	got, err := s.GetConnection(ctx, apiA, "c1")
	if err != nil {
		t.Fatalf("GetConnection: got error %v, want nil", err)
	}
	if want := strconv.Itoa(workers); got.Scope != want {
		t.Errorf("counter after %d concurrent updates: got %q, want %q", workers, got.Scope, want)
	}
	if want := int64(1 + workers); got.Version != want {
		t.Errorf("Version after %d concurrent updates: got %d, want %d", workers, got.Version, want)
	}
}

// rounds is how many keys the one-winner tests race on, one after the
// other: a lost race is likely, not certain, in any one round.
const rounds = 5

func testConcurrentConsume(t *testing.T, s storage.Storage) {
	for r := range rounds {
		raceConsume(t, s, fmt.Sprintf("s%d", r))
	}
}

func raceConsume(t *testing.T, s storage.Storage, id string) {
	ctx := t.Context()
	want := state(apiA, id, epoch())
	if err := s.CreateState(ctx, want); err != nil {
		t.Fatalf("CreateState(%q, %q): got error %v, want nil", apiA, id, err)
	}
	got := make([]storage.State, workers)
	errs := race(workers, func(i int) error {
		return retry(func() error {
			var err error
			got[i], err = s.ConsumeState(ctx, apiA, id)
			return err
		})
	})
	winners := 0
	for i, err := range errs {
		switch {
		case err == nil:
			winners++
			if !same(got[i], want) {
				t.Errorf("ConsumeState(%q, %q) in worker %d:\ngot  %+v\nwant %+v", apiA, id, i, got[i], want)
			}
		case !errors.Is(err, storage.ErrNotFound):
			t.Errorf("ConsumeState(%q, %q) in worker %d: got error %v, want nil or %v", apiA, id, i, err, storage.ErrNotFound)
		}
	}
	if winners != 1 {
		t.Errorf("concurrent ConsumeState(%q, %q) calls that got the state: got %d, want 1", apiA, id, winners)
	}
}

func testConcurrentCreate(t *testing.T, s storage.Storage) {
	for r := range rounds {
		raceCreate(t, s, fmt.Sprintf("c%d", r))
	}
}

func raceCreate(t *testing.T, s storage.Storage, id string) {
	ctx := t.Context()
	name := func(i int) string { return fmt.Sprintf("worker %d", i) }
	errs := race(workers, func(i int) error {
		c := clientKind().fixture(apiA, id)
		c.Name = name(i)
		return retry(func() error { return s.CreateClient(ctx, c) })
	})
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Errorf("CreateClient(%q) in workers %d and %d: both got nil, want one %v", id, winner, i, storage.ErrAlreadyExists)
		case err == nil:
			winner = i
		case !errors.Is(err, storage.ErrAlreadyExists):
			t.Errorf("CreateClient(%q) in worker %d: got error %v, want nil or %v", id, i, err, storage.ErrAlreadyExists)
		}
	}
	if winner < 0 {
		t.Fatalf("concurrent CreateClient(%q) calls that succeeded: got 0, want 1", id)
	}
	got, err := s.GetClient(ctx, apiA, id)
	if err != nil {
		t.Fatalf("GetClient(%q, %q): got error %v, want nil", apiA, id, err)
	}
	if got.Name != name(winner) {
		t.Errorf("GetClient(%q, %q).Name: got %q, want %q (the winner's)", apiA, id, got.Name, name(winner))
	}
}
