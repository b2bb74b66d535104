package etcd

import (
	"context"
	"testing"
	"time"

	"github.com/oauth2broker/oauth2broker/storage"
)

// Watch reports changes of the watched kinds made through another client,
// with the API and record they name, and nothing of other kinds.
func TestWatch(t *testing.T) {
	prefix := freshPrefix()
	a, b := mustOpen(t, Config{Prefix: prefix}), mustOpen(t, Config{Prefix: prefix})
	ctx, cancel := context.WithCancel(t.Context())
	changes := make(chan storage.Change, 16)
	done := make(chan error, 1)
	go func() {
		done <- a.Watch(ctx, []string{storage.KindAPIs, storage.KindSigningKeys}, func(c storage.Change) { changes <- c })
	}()
	// The watch is open once a first change is heard; make changes until
	// then (a change made before it opened is not reported).
	var first storage.Change
	for i := 0; first.Kind == ""; i++ {
		if i == 300 {
			t.Fatal("no change heard in 30 s")
		}
		_, _ = b.UpdateAPI(ctx, "shop", func(x storage.API) (storage.API, error) { return x, nil })
		if i == 0 {
			if err := b.CreateAPI(ctx, storage.API{Name: "shop", CreatedAt: time.Now()}); err != nil {
				t.Fatal(err)
			}
		}
		select {
		case first = <-changes:
		case <-time.After(100 * time.Millisecond):
		}
	}
	if first != (storage.Change{Kind: storage.KindAPIs, API: "shop"}) {
		t.Errorf("first change: got %+v, want api shop", first)
	}
	for len(changes) > 0 {
		<-changes
	}
	if err := b.CreateClient(ctx, storage.Client{API: "shop", ID: "c1", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := b.CreateSigningKey(ctx, storage.SigningKey{API: "shop", ID: "k1", Alg: "ES256", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := b.DeleteAPI(ctx, "shop"); err != nil {
		t.Fatal(err)
	}
	want := []storage.Change{
		{Kind: storage.KindSigningKeys, API: "shop", ID: "k1"}, // the client is not watched
		{Kind: storage.KindAPIs, API: "shop"},
	}
	for _, w := range want {
		select {
		case got := <-changes:
			if got != w {
				t.Errorf("change: got %+v, want %+v", got, w)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("change %+v not heard in 10 s", w)
		}
	}
	cancel()
	if err := <-done; err != context.Canceled {
		t.Errorf("Watch after cancel: got %v, want context.Canceled", err)
	}
}

// One of two contenders leads at a time; when the leader resigns the other
// takes over, and its lead context ends when it resigns in turn.
func TestLead(t *testing.T) {
	prefix := freshPrefix()
	a, b := mustOpen(t, Config{Prefix: prefix}), mustOpen(t, Config{Prefix: prefix})
	ctx := t.Context()
	leadA, resignA, err := a.Lead(ctx, "job")
	if err != nil {
		t.Fatal(err)
	}
	type won struct {
		lead   context.Context
		resign func()
		err    error
	}
	bWon := make(chan won, 1)
	go func() {
		l, r, err := b.Lead(ctx, "job")
		bWon <- won{l, r, err}
	}()
	select {
	case <-bWon:
		t.Fatal("b leads while a does")
	case <-time.After(300 * time.Millisecond):
	}
	resignA()
	if leadA.Err() == nil {
		t.Error("a's lead context is live after it resigned")
	}
	select {
	case w := <-bWon:
		if w.err != nil {
			t.Fatal(w.err)
		}
		if w.lead.Err() != nil {
			t.Error("b's lead context ended at once")
		}
		w.resign()
		if w.lead.Err() == nil {
			t.Error("b's lead context is live after it resigned")
		}
	case <-time.After(30 * time.Second):
		t.Fatal("b did not take over in 30 s after a resigned")
	}
}
