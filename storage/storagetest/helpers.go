package storagetest

import (
	"errors"
	"testing"

	"github.com/oauth2broker/oauth2broker/storage"
)

// after returns what the backend stores when an Update function returns
// rec for the stored old.
func (k kind[T]) after(old, rec T) T {
	if k.stored == nil {
		return rec
	}
	return k.stored(old, rec)
}

// makeAll returns the fixtures of ids in api, in order.
func (k kind[T]) makeAll(api string, ids ...string) []T {
	recs := make([]T, 0, len(ids))
	for _, id := range ids {
		recs = append(recs, k.fixture(api, id))
	}
	return recs
}

func (k kind[T]) mustCreate(t *testing.T, s storage.Storage, rec T) {
	t.Helper()
	if err := k.create(s, t.Context(), rec); err != nil {
		t.Fatalf("Create%s(%+v): got error %v, want nil", k.name, rec, err)
	}
}

func (k kind[T]) mustList(t *testing.T, s storage.Storage, api string) []T {
	t.Helper()
	recs, err := k.list(s, t.Context(), api)
	if err != nil {
		t.Fatalf("List%s(%q): got error %v, want nil", k.name, api, err)
	}
	return recs
}

// wantStored checks that the record at (api, id) is want.
func (k kind[T]) wantStored(t *testing.T, s storage.Storage, api, id string, want T) {
	t.Helper()
	got, err := k.get(s, t.Context(), api, id)
	if err != nil {
		t.Errorf("Get%s(%q, %q): got error %v, want nil", k.name, api, id, err)
		return
	}
	if !same(got, want) {
		t.Errorf("Get%s(%q, %q):\ngot  %+v\nwant %+v", k.name, api, id, got, want)
	}
}

// wantReturned checks that got, what an Update of (api, id) returned, is
// want and is what a following Get returns, version included.
func (k kind[T]) wantReturned(t *testing.T, s storage.Storage, api, id string, got, want T) {
	t.Helper()
	if !same(got, want) {
		t.Errorf("Update%s(%q, %q) returned:\ngot  %+v\nwant %+v", k.name, api, id, got, want)
	}
	k.wantStored(t, s, api, id, got)
}

// wantMissing checks that Get of (api, id) returns storage.ErrNotFound.
func (k kind[T]) wantMissing(t *testing.T, s storage.Storage, api, id string) {
	t.Helper()
	got, err := k.get(s, t.Context(), api, id)
	if !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Get%s(%q, %q): got %+v, error %v, want error %v", k.name, api, id, got, err, storage.ErrNotFound)
	}
}

// wantList checks that the list of api is want, in order.
func (k kind[T]) wantList(t *testing.T, s storage.Storage, api string, want []T) {
	t.Helper()
	got := k.mustList(t, s, api)
	if !same(got, want) {
		t.Errorf("List%s(%q):\ngot  %+v\nwant %+v", k.name, api, got, want)
	}
}
