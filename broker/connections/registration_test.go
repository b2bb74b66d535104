package connections

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/oauth2broker/oauth2broker/broker/connerr"
	"github.com/oauth2broker/oauth2broker/providers"
	"github.com/oauth2broker/oauth2broker/storage"
)

// registrar is a hand-written provider that must register first (an MCP
// server's): it needs a registration until the broker opens it with one.
type registrar struct {
	*fakeProvider
	reg  *providers.Registration
	reg2 *registrations
}

// registrations counts Register calls across the opened providers.
type registrations struct {
	calls atomic.Int32
	delay time.Duration
	err   error
	// ttl, when set, makes registrations expire after it.
	ttl time.Duration
	now func() time.Time
}

func (r *registrar) Registration(redirectURI string, lead time.Duration) (providers.Registration, bool) {
	if r.reg == nil || r.reg.RedirectURI != redirectURI {
		return providers.Registration{}, true
	}
	return *r.reg, !r.reg.ExpiresAt.IsZero() && !r.reg2.now().Add(lead).Before(r.reg.ExpiresAt)
}

func (r *registrar) Register(_ context.Context, redirectURI string) (*providers.Registration, error) {
	n := r.reg2.calls.Add(1)
	time.Sleep(r.reg2.delay)
	if r.reg2.err != nil {
		return nil, r.reg2.err
	}
	reg := &providers.Registration{Kind: providers.RegistrationDynamic, Issuer: "https://as.example", RedirectURI: redirectURI,
		ClientID: fmt.Sprintf("dyn-%d", n), ClientSecret: "registered-secret"}
	if r.reg2.ttl > 0 {
		reg.ExpiresAt = r.reg2.now().Add(r.reg2.ttl)
	}
	return reg, nil
}

// replicas returns n managers sharing f's store, each opening a
// registrar.
func (f *fixture) registrarReplicas(t *testing.T, n int, regs *registrations) []*Manager {
	t.Helper()
	var out []*Manager
	for range n {
		m, err := New(Config{
			Store: f.store, Keyring: f.m.keyring, Now: f.clk.now, Logger: f.m.log, Replicated: true, CallbackURL: f.m.callback,
			Open: func(_ context.Context, cfg providers.Config) (providers.Provider, error) {
				return &registrar{fakeProvider: f.up, reg: cfg.Registration, reg2: regs}, nil
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

// Replicas that all need the registration make it once: one takes the
// lease, the others wait for its result and use it. It is stored sealed.
func TestReplicasRegisterOnce(t *testing.T) {
	f := newFixture(t)
	regs := &registrations{delay: 50 * time.Millisecond, now: f.clk.now}
	replicas := f.registrarReplicas(t, 3, regs)
	var wg sync.WaitGroup
	for i := range 30 {
		wg.Go(func() {
			_, err := replicas[i%3].Authorize(context.Background(), f.api, f.cl, AuthorizeRequest{Identity: fmt.Sprintf("u%d", i)})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := regs.calls.Load(); n != 1 {
		t.Fatalf("%d registrations across 3 replicas, want exactly 1", n)
	}
	p, err := f.store.GetProvider(context.Background(), "a", "up")
	if err != nil {
		t.Fatal(err)
	}
	sr, err := openStored(f.m.keyring, p)
	if err != nil || sr.Registration == nil || sr.Registration.ClientID != "dyn-1" || sr.LeaseHolder != "" {
		t.Fatalf("stored %+v (%v): want dyn-1 and no lease left", sr, err)
	}
	if bytes.Contains(p.SealedRegistration, []byte("registered-secret")) {
		t.Error("the registration's secret is stored in the clear")
	}
	if _, err := replicas[0].Authorize(context.Background(), f.api, f.cl, AuthorizeRequest{Identity: "later"}); err != nil || regs.calls.Load() != 1 {
		t.Errorf("a later authorize: %v, %d registrations", err, regs.calls.Load())
	}
}

// A failed registration answers the app, ends the lease at once (the
// next request registers without waiting for it to expire) and keeps no
// registration.
func TestFailedRegistrationEndsLease(t *testing.T) {
	f := newFixture(t)
	regs := &registrations{err: fmt.Errorf("as down: %w", providers.ErrUnavailable), now: f.clk.now}
	m := f.registrarReplicas(t, 1, regs)[0]
	_, err := m.Authorize(context.Background(), f.api, f.cl, AuthorizeRequest{Identity: "u1"})
	var ce *connerr.Error
	if !errors.As(err, &ce) || ce.Kind != connerr.Unavailable {
		t.Fatalf("authorize: %v, want unavailable", err)
	}
	regs.err = &providers.UnusableError{Reason: "mcp: no way to register"}
	_, err = m.Authorize(context.Background(), f.api, f.cl, AuthorizeRequest{Identity: "u1"})
	if !errors.As(err, &ce) || ce.Kind != connerr.Upstream || ce.Description != "mcp: no way to register" {
		t.Fatalf("authorize: %v, want the reason told", err)
	}
	regs.err = nil
	if _, err := m.Authorize(context.Background(), f.api, f.cl, AuthorizeRequest{Identity: "u1"}); err != nil {
		t.Fatal(err)
	}
	if n := regs.calls.Load(); n != 3 {
		t.Errorf("%d registrations, want 3 (no lease left behind by the failures)", n)
	}
}

// A lease left by a replica that died is taken over once it expires.
func TestStaleRegistrationLeaseTakenOver(t *testing.T) {
	f := newFixture(t)
	regs := &registrations{now: f.clk.now}
	m := f.registrarReplicas(t, 1, regs)[0]
	p, _ := f.store.GetProvider(context.Background(), "a", "up")
	sealed, _ := m.sealStored(p, storedRegistration{LeaseHolder: "dead", LeaseUntil: f.clk.now().Add(registrationLease)})
	if _, err := f.store.UpdateProvider(context.Background(), "a", "up", func(old storage.Provider) (storage.Provider, error) {
		old.SealedRegistration = sealed
		return old, nil
	}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, err := m.Authorize(ctx, f.api, f.cl, AuthorizeRequest{Identity: "u1"}); err == nil || regs.calls.Load() != 0 {
		t.Fatalf("authorize under another's live lease: %v, %d registrations; want it to wait", err, regs.calls.Load())
	}
	f.clk.add(registrationLease + time.Second)
	if _, err := m.Authorize(context.Background(), f.api, f.cl, AuthorizeRequest{Identity: "u1"}); err != nil || regs.calls.Load() != 1 {
		t.Fatalf("authorize after the lease expired: %v, %d registrations", err, regs.calls.Load())
	}
}

// A registration due for renewal is made again on the next use, even
// while the opened provider is cached.
func TestRegistrationRenewedWhenDue(t *testing.T) {
	f := newFixture(t)
	regs := &registrations{ttl: 20 * time.Minute, now: f.clk.now}
	m := f.registrarReplicas(t, 1, regs)[0]
	for _, step := range []struct {
		after time.Duration
		want  int32
	}{{0, 1}, {10 * time.Minute, 1}, {6 * time.Minute, 2}, {time.Minute, 2}} {
		f.clk.add(step.after)
		if _, err := m.Authorize(context.Background(), f.api, f.cl, AuthorizeRequest{Identity: "u1"}); err != nil {
			t.Fatal(err)
		}
		if n := regs.calls.Load(); n != step.want {
			t.Fatalf("after %v more: %d registrations, want %d", step.after, n, step.want)
		}
	}
}
