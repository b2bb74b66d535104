package grants

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/oauth2broker/oauth2broker/broker/protocol"
	"github.com/oauth2broker/oauth2broker/storage"
	"github.com/oauth2broker/oauth2broker/storage/bbolt"
)

// loginBench is a password grant on a real bbolt file whose hash function
// is a counting fake: the hash of a password p is "hash:" + p.
type loginBench struct {
	t      *testing.T
	g      *password
	api    storage.API
	hashes atomic.Int64
	mu     sync.Mutex
	now    time.Time
	// block, when set, is waited on inside every hash.
	block chan struct{}
	// inHash is sent to when a hash starts, when set.
	inHash chan struct{}
}

func newLoginBench(t *testing.T, limits PasswordLimits) *loginBench {
	t.Helper()
	b, _ := newLoginBenchStore(t, limits)
	return b
}

func newLoginBenchStore(t *testing.T, limits PasswordLimits) (*loginBench, storage.Storage) {
	t.Helper()
	db, err := bbolt.Open(bbolt.Config{Path: filepath.Join(t.TempDir(), "grants.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	b := &loginBench{t: t, api: storage.API{Name: "app"}, now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	ctx := context.Background()
	if err := db.CreateAPI(ctx, b.api); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateUser(ctx, storage.User{API: "app", Username: "alice", PasswordHash: "hash:wonderland"}); err != nil {
		t.Fatal(err)
	}
	dummyHash() // computed once with the real hash, before counting
	b.g = newPassword(db, nil, b.clock, limits)
	b.g.check = func(hash, pw string) (bool, error) {
		b.hashes.Add(1)
		if b.inHash != nil {
			b.inHash <- struct{}{}
		}
		if b.block != nil {
			<-b.block
		}
		return hash == "hash:"+pw, nil
	}
	return b, db
}

func (b *loginBench) clock() time.Time {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.now
}

func (b *loginBench) advance(d time.Duration) {
	b.mu.Lock()
	b.now = b.now.Add(d)
	b.mu.Unlock()
}

// login tries username and pw from addr.
func (b *loginBench) login(addr, username, pw string) error {
	req := &Request{API: b.api, Params: &protocol.Request{RemoteAddr: addr}}
	_, err := b.g.login(context.Background(), req, username, pw)
	return err
}

// waitFor waits, with a generous bound, until cond holds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
	}
}

func wantStatus(t *testing.T, what string, err error, status int, code string) *protocol.Error {
	t.Helper()
	var e *protocol.Error
	if !errors.As(err, &e) || e.Status != status || e.Code != code {
		t.Fatalf("%s: got %v, want %d %s", what, err, status, code)
	}
	if status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable {
		if e.RetryAfter <= 0 {
			t.Fatalf("%s: got %d %s without Retry-After", what, status, code)
		}
	}
	return e
}

// Past the queue, a login is answered 503 at once, without a hash.
func TestPasswordQueueIsBounded(t *testing.T) {
	b := newLoginBench(t, PasswordLimits{Hashers: 1, Queue: 1, Rate: -1})
	b.block, b.inHash = make(chan struct{}), make(chan struct{}, 10)
	done := make(chan error, 2)
	for i := range 2 {
		go func() { done <- b.login(fmt.Sprintf("192.0.2.%d", i), fmt.Sprintf("user%d", i), "guess") }()
	}
	<-b.inHash // one hashes, the other waits
	waitFor(t, "the second login waits for the hasher", func() bool { return b.g.gate.entered.Load() == 2 })
	third := make(chan error, 1)
	go func() { third <- b.login("192.0.2.9", "user9", "guess") }()
	select {
	case err := <-third:
		wantStatus(t, "login past the queue", err, http.StatusServiceUnavailable, "temporarily_unavailable")
	case <-time.After(30 * time.Second):
		t.Fatal("a login past the queue was queued, want an answer at once")
	}
	if n := b.hashes.Load(); n != 1 {
		t.Fatalf("hashes after the refused login: got %d, want 1", n)
	}
	close(b.block)
	for range 2 {
		if err := <-done; !errors.Is(err, errBadLogin) {
			t.Fatalf("queued login: got %v, want invalid_grant", err)
		}
	}
	if n := b.hashes.Load(); n != 2 {
		t.Fatalf("hashes: got %d, want 2 (the refused login hashed nothing)", n)
	}
}

// At most Hashers password checks run at once, whatever the load.
func TestPasswordHashersAreBounded(t *testing.T) {
	const hashers, logins = 3, 20
	b := newLoginBench(t, PasswordLimits{Hashers: hashers, Queue: logins, Rate: -1})
	var inFlight, most atomic.Int64
	release := make(chan struct{})
	b.g.check = func(hash, pw string) (bool, error) {
		n := inFlight.Add(1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		<-release
		inFlight.Add(-1)
		return false, nil
	}
	var wg sync.WaitGroup
	for i := range logins {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = b.login(fmt.Sprintf("192.0.2.%d", i), fmt.Sprintf("user%d", i), "guess")
		}()
	}
	waitFor(t, "every login has entered", func() bool { return b.g.gate.entered.Load() == logins })
	waitFor(t, "the hashers are busy", func() bool { return inFlight.Load() == hashers })
	close(release)
	wg.Wait()
	if m := most.Load(); m != hashers {
		t.Fatalf("password checks at once: got at most %d, want %d", m, hashers)
	}
}

// By default the hashing leaves half the CPUs to the other routes.
func TestPasswordLimitsDefaults(t *testing.T) {
	l := PasswordLimits{}.withDefaults()
	if want := max(1, runtime.NumCPU()/2); l.Hashers != want || l.Queue != defaultQueuePerHasher*want {
		t.Errorf("default hashers and queue: got %d and %d, want %d and %d", l.Hashers, l.Queue, want, defaultQueuePerHasher*want)
	}
	if l.Rate != DefaultPasswordRate || l.Burst != DefaultPasswordBurst {
		t.Errorf("default rate: got %v/%d, want %v/%d", l.Rate, l.Burst, DefaultPasswordRate, DefaultPasswordBurst)
	}
	if c := (PasswordLimits{}).Capacity(); c != l.Hashers+l.Queue {
		t.Errorf("default capacity: got %d, want %d", c, l.Hashers+l.Queue)
	}
	if l := (PasswordLimits{Hashers: 2, Queue: -1}).withDefaults(); l.Queue != 0 {
		t.Errorf("negative queue: got %d, want no queue", l.Queue)
	}
}

// An address past its failure budget is answered 429 before any hash;
// other addresses and successful logins are not affected.
func TestPasswordSourceLimit(t *testing.T) {
	b := newLoginBench(t, PasswordLimits{Hashers: 1, Rate: 1, Burst: 3})
	for i := range 3 {
		if err := b.login("192.0.2.1", fmt.Sprintf("nobody%d", i), "guess"); !errors.Is(err, errBadLogin) {
			t.Fatalf("failure %d: got %v, want invalid_grant", i+1, err)
		}
	}
	e := wantStatus(t, "fourth failure from the address", b.login("192.0.2.1", "nobody9", "guess"), http.StatusTooManyRequests, "slow_down")
	if e.RetryAfter > time.Second {
		t.Errorf("Retry-After: got %v, want at most 1 s at 1 failure a second", e.RetryAfter)
	}
	if n := b.hashes.Load(); n != 3 {
		t.Fatalf("hashes: got %d, want 3 (the refused login hashed nothing)", n)
	}
	if err := b.login("192.0.2.2", "nobody", "guess"); !errors.Is(err, errBadLogin) {
		t.Fatalf("another address: got %v, want invalid_grant", err)
	}
	// An IPv6 address counts as its /64.
	for i := range 3 {
		_ = b.login(fmt.Sprintf("2001:db8::%d", i+1), "nobody", fmt.Sprintf("guess%d", i))
	}
	wantStatus(t, "another address of the same /64", b.login("2001:db8::ff", "nobody", "guess"), http.StatusTooManyRequests, "slow_down")
	b.advance(time.Second)
	if err := b.login("192.0.2.1", "nobody", "guess"); !errors.Is(err, errBadLogin) {
		t.Fatalf("a second later: got %v, want invalid_grant (one token refilled)", err)
	}
	for i := range 10 {
		if err := b.login("192.0.2.3", "alice", "wonderland"); err != nil {
			t.Fatalf("successful login %d from one address: got %v, want success (successes cost nothing)", i+1, err)
		}
	}
}

// An attacker failing from many addresses cannot keep the user from
// logging in from an address they used before; the username stays
// locked for new addresses, so the attacker's guesses stay bounded.
func TestNoLockoutByThirdParty(t *testing.T) {
	b := newLoginBench(t, PasswordLimits{Hashers: 1})
	const home = "198.51.100.7"
	if err := b.login(home, "alice", "wonderland"); err != nil {
		t.Fatalf("first login: %v", err)
	}
	const seconds, perSecond, addresses = 3600, 20, 5000
	var sent, refused int
	for s := range seconds {
		for i := range perSecond {
			addr := fmt.Sprintf("10.%d.%d.%d", (s*perSecond+i)%addresses/65536, (s*perSecond+i)%addresses/256%256, (s*perSecond+i)%256)
			err := b.login(addr, "alice", "guess")
			sent++
			if !errors.Is(err, errBadLogin) {
				refused++
			}
		}
		if s%60 == 30 {
			if err := b.login(home, "alice", "wonderland"); err != nil {
				t.Fatalf("after %d s of attack: the user's login from home: got %v, want success", s, err)
			}
		}
		b.advance(time.Second)
	}
	checked := int64(sent - refused)
	// 5 free failures, then the per-username delays 1, 2, 4, 8, 16 s and
	// one guess per 30 s, plus the user's own logins.
	if limit := int64(freeFailures + 5 + seconds/30 + 2); checked > limit {
		t.Errorf("attacker's guesses checked in %d s: got %d, want at most %d", seconds, checked, limit)
	}
	wantStatus(t, "the right password from a new address during the attack",
		b.login("203.0.113.1", "alice", "wonderland"), http.StatusTooManyRequests, "invalid_grant")
}

// A new password ends the exemption of the addresses known before: an
// address that had a stolen password gains nothing after a reset.
func TestKnownAddressEndsWithPassword(t *testing.T) {
	b, db := newLoginBenchStore(t, PasswordLimits{Hashers: 1})
	const home = "198.51.100.7"
	if err := b.login(home, "alice", "wonderland"); err != nil {
		t.Fatalf("first login: %v", err)
	}
	_, err := db.UpdateUser(context.Background(), "app", "alice", func(u storage.User) (storage.User, error) {
		u.PasswordHash = "hash:looking-glass"
		return u, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := range freeFailures {
		_ = b.login(fmt.Sprintf("10.0.0.%d", i), "alice", "guess")
	}
	wantStatus(t, "the new password from the address known with the old one, username locked",
		b.login(home, "alice", "looking-glass"), http.StatusTooManyRequests, "invalid_grant")
	b.advance(userMaxDelay)
	if err := b.login(home, "alice", "looking-glass"); err != nil {
		t.Fatalf("after the lock: got %v, want success", err)
	}
	for i := range freeFailures + 1 {
		_ = b.login(fmt.Sprintf("10.0.1.%d", i), "alice", "guess")
	}
	if err := b.login(home, "alice", "looking-glass"); err != nil {
		t.Fatalf("known again with the new password, username locked: got %v, want success", err)
	}
}

// Another account holder logging in successfully from many addresses
// churns only their own known addresses: the user's address stays known
// (so the per-username lock still does not apply there).
func TestKnownAddressesChurn(t *testing.T) {
	b, db := newLoginBenchStore(t, PasswordLimits{Hashers: 1})
	b.g.known.max = 64
	if err := db.CreateUser(context.Background(), storage.User{API: "app", Username: "mallory", PasswordHash: "hash:own"}); err != nil {
		t.Fatal(err)
	}
	const home = "198.51.100.7"
	if err := b.login(home, "alice", "wonderland"); err != nil {
		t.Fatalf("first login: %v", err)
	}
	for i := range 1000 {
		if err := b.login(fmt.Sprintf("10.0.%d.%d", i/256, i%256), "mallory", "own"); err != nil {
			t.Fatalf("mallory's login %d: %v", i+1, err)
		}
	}
	for i := range freeFailures {
		_ = b.login(fmt.Sprintf("192.0.2.%d", i), "alice", "guess")
	}
	if err := b.login(home, "alice", "wonderland"); err != nil {
		t.Fatalf("the user's login from home after another account's logins from 1,000 addresses, username locked: got %v, want success", err)
	}
}

// The known addresses stay bounded, per user and in all.
func TestKnownAddressesBounded(t *testing.T) {
	b := newLoginBench(t, PasswordLimits{})
	k := newKnownAddresses(b.clock)
	k.max = 64
	alice, pw := throttleKey("app", "alice"), throttleKey("hash")
	for i := range maxKnownPerUser + 1 {
		k.add(alice, fmt.Sprintf("10.0.0.%d", i), pw)
		b.advance(time.Second)
	}
	_, old := k.lookup(alice, "10.0.0.0")
	if _, last := k.lookup(alice, fmt.Sprintf("10.0.0.%d", maxKnownPerUser)); old || !last {
		t.Errorf("one address past the per-user bound: want the least recent forgotten, the new one known")
	}
	for i := range 1000 {
		k.add(throttleKey("app", fmt.Sprint("user", i)), "10.0.0.1", pw)
	}
	total := 0
	for _, list := range k.users {
		total += len(list)
	}
	if total != k.n || k.n > k.max {
		t.Errorf("addresses remembered after 1,000 users: got %d (counted %d), want at most %d", total, k.n, k.max)
	}
	b.advance(knownFor + time.Second)
	if _, ok := k.lookup(throttleKey("app", "user999"), "10.0.0.1"); ok {
		t.Error("an address after knownFor: still known")
	}
}

// countingStore counts user reads.
type countingStore struct {
	storage.Storage
	reads atomic.Int64
}

func (s *countingStore) GetUser(ctx context.Context, api, username string) (storage.User, error) {
	s.reads.Add(1)
	return s.Storage.GetUser(ctx, api, username)
}

// The answers given before any hash (429, 503) read no user record from
// an address the username has no successful login from: they take the
// same path whether the user exists or not, so their timing cannot tell.
func TestCheapAnswersReadNoUser(t *testing.T) {
	b, db := newLoginBenchStore(t, PasswordLimits{Hashers: 1, Queue: -1, Rate: -1})
	store := &countingStore{Storage: db}
	b.g.store = store
	if err := b.login("198.51.100.7", "alice", "wonderland"); err != nil {
		t.Fatalf("first login: %v", err)
	}
	for i := range freeFailures {
		_ = b.login(fmt.Sprintf("10.0.0.%d", i), "alice", "guess")
		_ = b.login(fmt.Sprintf("10.0.0.%d", i), "nobody", "guess")
	}
	for _, user := range []string{"alice", "nobody"} {
		before := store.reads.Load()
		wantStatus(t, user+", username locked", b.login("192.0.2.1", user, "guess"), http.StatusTooManyRequests, "invalid_grant")
		if n := store.reads.Load() - before; n != 0 {
			t.Errorf("429 for %s: %d user reads, want none", user, n)
		}
	}
	b.advance(userMaxDelay)
	b.block, b.inHash = make(chan struct{}), make(chan struct{}, 1)
	done := make(chan error, 1)
	go func() { done <- b.login("192.0.2.9", "someone", "guess") }()
	<-b.inHash
	for _, user := range []string{"alice", "nobody"} {
		before := store.reads.Load()
		wantStatus(t, user+", hasher busy", b.login("192.0.2.2", user, "guess"), http.StatusServiceUnavailable, "temporarily_unavailable")
		if n := store.reads.Load() - before; n != 0 {
			t.Errorf("503 for %s: %d user reads, want none", user, n)
		}
	}
	close(b.block)
	<-done
}

// A flood that keeps the hashing queue full cannot refuse the user's
// login from an address they logged in from: it waits for a hasher.
func TestKnownAddressPastFullQueue(t *testing.T) {
	b := newLoginBench(t, PasswordLimits{Hashers: 1, Queue: 1, Rate: -1})
	const home = "198.51.100.7"
	if err := b.login(home, "alice", "wonderland"); err != nil {
		t.Fatalf("first login: %v", err)
	}
	b.block, b.inHash = make(chan struct{}), make(chan struct{}, 10)
	flood := make(chan error, 2)
	for i := range 2 {
		go func() { flood <- b.login(fmt.Sprintf("192.0.2.%d", i), fmt.Sprintf("nobody%d", i), "guess") }()
	}
	<-b.inHash
	waitFor(t, "the flood fills the queue", func() bool { return b.g.gate.entered.Load() == 2 })
	wantStatus(t, "another unknown login", b.login("192.0.2.9", "nobody9", "guess"), http.StatusServiceUnavailable, "temporarily_unavailable")
	user := make(chan error, 1)
	go func() { user <- b.login(home, "alice", "wonderland") }()
	waitFor(t, "the user's login waits for a hasher", func() bool { return b.g.gate.entered.Load() == 3 || len(user) == 1 })
	close(b.block)
	if err := <-user; err != nil {
		t.Fatalf("the user's login from home while the queue is full: got %v, want success", err)
	}
	for range 2 {
		<-flood
	}
}
