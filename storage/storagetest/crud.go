package storagetest

import (
	"errors"
	"testing"

	"github.com/oauth2broker/oauth2broker/storage"
)

// runKind runs the tests every record type shares, as subtests named after
// the type. Each subtest gets a fresh storage.
func runKind[T any](t *testing.T, open opener, k kind[T]) {
	t.Helper()
	t.Run(k.name, func(t *testing.T) {
		tests := []struct {
			name string
			run  func(*testing.T, storage.Storage)
			skip bool // the interface lacks what the test needs
		}{
			{"CreateGet", k.testCreateGet, false},
			{"CreateDuplicate", k.testCreateDuplicate, false},
			{"List", k.testList, k.list == nil},
			{"Update", k.testUpdate, false},
			{"UpdateError", k.testUpdateError, false},
			{"UpdateKeepsKey", k.testUpdateKeepsKey, false},
			{"UpdateMissing", k.testUpdateMissing, false},
			{"Delete", k.testDelete, false},
			{"Copies", k.testCopies, k.mutate == nil},
		}
		for _, tt := range tests {
			if tt.skip {
				continue
			}
			t.Run(tt.name, func(t *testing.T) { tt.run(t, open(t)) })
		}
	})
}

func (k kind[T]) testCreateGet(t *testing.T, s storage.Storage) {
	want := k.fixture(apiA, "k1")
	k.mustCreate(t, s, want)
	k.mustCreate(t, s, k.fixture(apiA, "k10"))
	k.wantStored(t, s, apiA, "k1", want)
	k.wantMissing(t, s, apiA, "k2")
	if k.scoped {
		k.wantMissing(t, s, apiAB, "k1")
	}
}

func (k kind[T]) testCreateDuplicate(t *testing.T, s storage.Storage) {
	first := k.fixture(apiA, "k1")
	k.mustCreate(t, s, first)
	err := k.create(s, t.Context(), k.change(k.fixture(apiA, "k1")))
	if !errors.Is(err, storage.ErrAlreadyExists) {
		t.Errorf("Create%s twice: got error %v, want %v", k.name, err, storage.ErrAlreadyExists)
	}
	k.wantStored(t, s, apiA, "k1", first)
	if k.scoped {
		// The same ID in another API is another record.
		k.mustCreate(t, s, k.fixture(apiAB, "k1"))
		k.wantStored(t, s, apiAB, "k1", k.fixture(apiAB, "k1"))
	}
}

func (k kind[T]) testList(t *testing.T, s storage.Storage) {
	if got := k.mustList(t, s, apiA); len(got) != 0 {
		t.Errorf("List%s of an empty storage: got %d records, want 0", k.name, len(got))
	}
	for _, id := range []string{"k2", "k10", "K", "k1"} {
		k.mustCreate(t, s, k.fixture(apiA, id))
	}
	want := k.makeAll(apiA, "K", "k1", "k10", "k2") // byte order of the keys
	if k.scoped {
		k.mustCreate(t, s, k.fixture(apiAB, "k3"))
		k.mustCreate(t, s, k.fixture(apiAB, "k0"))
		k.wantList(t, s, apiAB, k.makeAll(apiAB, "k0", "k3"))
		k.wantList(t, s, "b", nil)
	}
	k.wantList(t, s, apiA, want)
}

func (k kind[T]) testUpdate(t *testing.T, s storage.Storage) {
	orig := k.fixture(apiA, "k1")
	k.mustCreate(t, s, orig)
	k.mustCreate(t, s, k.fixture(apiA, "k2"))
	if same(k.change(orig), orig) {
		t.Fatalf("fixture: change(%+v) changed nothing", orig)
	}
	calls := 0
	got, err := k.update(s, t.Context(), apiA, "k1", func(old T) (T, error) {
		calls++
		if !same(old, orig) {
			t.Errorf("Update%s function argument:\ngot  %+v\nwant %+v", k.name, old, orig)
		}
		return k.change(old), nil
	})
	if err != nil {
		t.Fatalf("Update%s: got error %v, want nil", k.name, err)
	}
	if calls == 0 {
		t.Errorf("Update%s function calls: got 0, want at least 1", k.name)
	}
	want := k.after(orig, k.change(orig))
	k.wantReturned(t, s, apiA, "k1", got, want)
	k.wantStored(t, s, apiA, "k1", want)
	k.wantStored(t, s, apiA, "k2", k.fixture(apiA, "k2"))

	// A second update starts from the first one's result.
	got, err = k.update(s, t.Context(), apiA, "k1", func(old T) (T, error) { return old, nil })
	if err != nil {
		t.Fatalf("Update%s again: got error %v, want nil", k.name, err)
	}
	k.wantReturned(t, s, apiA, "k1", got, k.after(want, want))
	k.wantStored(t, s, apiA, "k1", k.after(want, want))
}

var errRefused = errors.New("storagetest: update refused")

func (k kind[T]) testUpdateError(t *testing.T, s storage.Storage) {
	orig := k.fixture(apiA, "k1")
	k.mustCreate(t, s, orig)
	got, err := k.update(s, t.Context(), apiA, "k1", func(old T) (T, error) {
		rec := k.change(old)
		if k.mutate != nil {
			k.mutate(&old) // scribble over what the backend handed out
		}
		return rec, errRefused
	})
	if !errors.Is(err, errRefused) {
		t.Errorf("Update%s with a failing function: got error %v, want %v", k.name, err, errRefused)
	}
	var zero T
	if !same(got, zero) {
		t.Errorf("Update%s with a failing function: got %+v, want the zero record", k.name, got)
	}
	k.wantStored(t, s, apiA, "k1", orig)
}

func (k kind[T]) testUpdateKeepsKey(t *testing.T, s storage.Storage) {
	orig := k.fixture(apiA, "k1")
	k.mustCreate(t, s, orig)
	got, err := k.update(s, t.Context(), apiA, "k1", func(old T) (T, error) {
		rec := k.change(old)
		k.rekey(&rec, apiAB, "moved")
		return rec, nil
	})
	if err != nil {
		t.Fatalf("Update%s changing the key: got error %v, want nil", k.name, err)
	}
	want := k.after(orig, k.change(orig))
	k.wantReturned(t, s, apiA, "k1", got, want)
	k.wantStored(t, s, apiA, "k1", want)
	k.wantMissing(t, s, apiAB, "moved")
	if k.list != nil {
		k.wantList(t, s, apiA, []T{want})
	}
}

func (k kind[T]) testUpdateMissing(t *testing.T, s storage.Storage) {
	orig := k.fixture(apiA, "k1")
	k.mustCreate(t, s, orig)
	missing := [][2]string{{apiA, "k2"}, {apiA, "k"}}
	if k.scoped {
		missing = append(missing, [2]string{apiAB, "k1"})
	}
	for _, key := range missing {
		called := false
		_, err := k.update(s, t.Context(), key[0], key[1], func(old T) (T, error) {
			called = true
			return k.change(old), nil
		})
		if !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("Update%s(%q, %q): got error %v, want %v", k.name, key[0], key[1], err, storage.ErrNotFound)
		}
		if called {
			t.Errorf("Update%s(%q, %q) of a missing record: function called, want not called", k.name, key[0], key[1])
		}
		k.wantMissing(t, s, key[0], key[1])
	}
	k.wantStored(t, s, apiA, "k1", orig)
}

func (k kind[T]) testDelete(t *testing.T, s storage.Storage) {
	k.mustCreate(t, s, k.fixture(apiA, "k1"))
	k.mustCreate(t, s, k.fixture(apiA, "k2"))
	if k.scoped {
		k.mustCreate(t, s, k.fixture(apiAB, "k1"))
	}
	if err := k.del(s, t.Context(), apiA, "k1"); err != nil {
		t.Fatalf("Delete%s: got error %v, want nil", k.name, err)
	}
	k.wantMissing(t, s, apiA, "k1")
	k.wantStored(t, s, apiA, "k2", k.fixture(apiA, "k2"))
	if k.scoped {
		k.wantStored(t, s, apiAB, "k1", k.fixture(apiAB, "k1"))
	}
	for _, id := range []string{"k1", "k3"} {
		if err := k.del(s, t.Context(), apiA, id); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("Delete%s(%q, %q) of a missing record: got error %v, want %v", k.name, apiA, id, err, storage.ErrNotFound)
		}
	}
	// The key is free again.
	k.mustCreate(t, s, k.change(k.fixture(apiA, "k1")))
	k.wantStored(t, s, apiA, "k1", k.change(k.fixture(apiA, "k1")))
}

func (k kind[T]) testCopies(t *testing.T, s storage.Storage) {
	in := k.fixture(apiA, "k1")
	k.mustCreate(t, s, in)
	want := k.fixture(apiA, "k1")
	k.mutate(&in)
	k.wantStored(t, s, apiA, "k1", want)

	got, err := k.get(s, t.Context(), apiA, "k1")
	if err != nil {
		t.Fatalf("Get%s: got error %v, want nil", k.name, err)
	}
	k.mutate(&got)
	k.wantStored(t, s, apiA, "k1", want)

	if k.list != nil {
		recs := k.mustList(t, s, apiA)
		if len(recs) != 1 {
			t.Fatalf("List%s: got %d records, want 1", k.name, len(recs))
		}
		k.mutate(&recs[0])
		k.wantStored(t, s, apiA, "k1", want)
	}
}
