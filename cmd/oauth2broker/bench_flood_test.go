package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// The flood sends failed logins for unknown usernames from the sources
// asked for, and counts the answers by status.
func TestFlood(t *testing.T) {
	var mu sync.Mutex
	sources, users := map[string]bool{}, map[string]bool{}
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		mu.Lock()
		sources[r.Header.Get("X-Forwarded-For")] = true
		users[r.PostForm.Get("username")] = true
		n := len(users)
		mu.Unlock()
		if r.PostForm.Get("grant_type") != "password" || r.PostForm.Get("password") == "" {
			w.WriteHeader(http.StatusTeapot)
			return
		}
		if n%2 == 0 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusBadRequest)
	}))
	defer fake.Close()
	b := &benchEnv{broker: fake.URL, clientID: "c", secret: "s", flood: floodOptions{concurrency: 4, sources: 50}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan floodResult, 1)
	go func() { done <- flood(ctx, b.flood, b.floodRequest()) }()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(time.Millisecond) {
		mu.Lock()
		enough := len(users) >= 100 && len(sources) >= 10
		mu.Unlock()
		if enough {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("timed out waiting for 100 logins from 10 sources")
		}
	}
	cancel()
	r := <-done
	if r.Statuses["400"] == 0 || r.Statuses["503"] == 0 || len(r.Statuses) != 2 {
		t.Errorf("statuses: got %v, want 400 and 503 only", r.Statuses)
	}
	mu.Lock() // answers to cancelled requests may still be running
	defer mu.Unlock()
	for s := range sources {
		if !strings.HasPrefix(s, "10.") {
			t.Errorf("X-Forwarded-For %q: want an address in 10.0.0.0/8", s)
		}
	}
}
