package etcd

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/oauth2broker/oauth2broker/storage"
	"github.com/oauth2broker/oauth2broker/storage/etcd/etcdtest"
)

// startCluster starts a 3-member etcd cluster for one test.
func startCluster(t *testing.T) *etcdtest.Cluster {
	t.Helper()
	c, err := etcdtest.StartCluster(t.TempDir(), 3)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// On a 3-member cluster, losing the leader mid-load (killed, no hand-over)
// fails no call;
// losing a second (no quorum) makes calls fail with ErrUnavailable within
// the request timeout, corrupting nothing; with the quorum back, every
// record written before is there and writes work again.
func TestClusterFaults(t *testing.T) {
	c := startCluster(t)
	db := mustOpen(t, Config{Endpoints: c.Endpoints(), Prefix: freshPrefix()}) // the default request timeout (5 s)
	ctx := t.Context()
	if err := db.CreateAPI(ctx, storage.API{Name: "shop", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}

	// Load: each worker creates clients and updates them, and checks each
	// call; a member stops in the middle.
	var (
		wg      sync.WaitGroup
		calls   atomic.Int64
		mu      sync.Mutex
		failed  []error
		created sync.Map
	)
	stop := make(chan struct{})
	for w := range 8 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				id := fmt.Sprintf("w%d-%d", w, i)
				err := db.CreateClient(ctx, storage.Client{API: "shop", ID: id, Name: "v0", CreatedAt: time.Now()})
				if err == nil {
					created.Store(id, true)
					_, err = db.UpdateClient(ctx, "shop", id, func(cl storage.Client) (storage.Client, error) {
						cl.Name = "v1"
						return cl, nil
					})
				}
				if err == nil {
					_, err = db.GetClient(ctx, "shop", id)
				}
				calls.Add(3)
				if err != nil {
					mu.Lock()
					failed = append(failed, fmt.Errorf("%s: %w", id, err))
					mu.Unlock()
				}
			}
		})
	}
	// Kill the leader once the load runs, and keep the load on through the
	// election until more calls went through under the new leader:
	// events, not a pace, so a slow machine only takes longer.
	leader := -1
	ok := waitLoad(func() bool { return calls.Load() >= 30 })
	if ok {
		if leader = c.Leader(); leader >= 0 {
			c.Kill(leader) // a crash: no leadership hand-over
			ok = waitLoad(func() bool { l := c.Leader(); return l >= 0 && l != leader })
			after := calls.Load()
			ok = ok && waitLoad(func() bool { return calls.Load() >= after+30 })
		}
	}
	close(stop)
	wg.Wait()
	if !ok || leader < 0 {
		t.Fatalf("the load or the election did not go on within 2 minutes (leader %d, %d calls)", leader, calls.Load())
	}
	second := (leader + 1) % 3
	if len(failed) > 0 {
		t.Errorf("with the leader of three members killed mid-load, %d of %d calls failed; first: %v", len(failed), calls.Load(), failed[0])
	}
	t.Logf("%d calls, the leader killed in the middle", calls.Load())

	// A watch cut by the lost quorum resumes where it was: a change made
	// once the quorum is back is heard.
	changes := make(chan storage.Change, 64)
	wctx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	go func() {
		_ = db.Watch(wctx, []string{storage.KindAPIs}, func(ch storage.Change) {
			select {
			case changes <- ch:
			default:
			}
		})
	}()

	// No quorum: a write and a read fail as unavailable, in bounded time.
	c.Stop(second)
	err := db.CreateClient(ctx, storage.Client{API: "shop", ID: "during-outage", CreatedAt: time.Now()})
	if !errors.Is(err, storage.ErrUnavailable) {
		t.Errorf("write without quorum: got %v, want an error wrapping storage.ErrUnavailable", err)
	}
	if _, err := db.GetClient(ctx, "shop", "w0-0"); !errors.Is(err, storage.ErrUnavailable) {
		t.Errorf("read without quorum: got %v, want an error wrapping storage.ErrUnavailable", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := db.GetClient(cctx, "shop", "w0-0"); errors.Is(err, storage.ErrUnavailable) {
		t.Errorf("a call the caller cancelled: got %v, want no ErrUnavailable (the caller gave up)", err)
	}

	// Quorum back: everything written before is there, writes work.
	for _, i := range []int{leader, second} {
		if err := c.Restart(i); err != nil {
			t.Fatal(err)
		}
	}
	for _, i := range []int{leader, second} {
		if err := c.Ready(i); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		err = db.CreateClient(ctx, storage.Client{API: "shop", ID: "after-outage", CreatedAt: time.Now()})
		if err == nil || errors.Is(err, storage.ErrAlreadyExists) || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil && !errors.Is(err, storage.ErrAlreadyExists) {
		t.Fatalf("write after quorum returned: %v", err)
	}
	if _, err := db.UpdateAPI(ctx, "shop", func(a storage.API) (storage.API, error) { a.Audience = "after"; return a, nil }); err != nil {
		t.Fatal(err)
	}
	for heard, wait := false, time.After(20*time.Second); !heard; {
		select {
		case ch := <-changes:
			heard = ch == (storage.Change{Kind: storage.KindAPIs, API: "shop"})
		case <-wait:
			t.Fatal("the watch did not hear a change made after the quorum came back, in 20 s")
		}
	}
	n := 0
	created.Range(func(k, _ any) bool {
		cl, err := db.GetClient(ctx, "shop", k.(string))
		if err != nil || cl.Name != "v1" {
			t.Errorf("client %s after the outage: %+v, %v; want it with name v1", k, cl, err)
		}
		n++
		return true
	})
	if n == 0 {
		t.Error("the load created no client")
	}
}

// waitLoad polls cond every 10 ms for up to 2 minutes, while a load runs.
func waitLoad(cond func() bool) bool {
	for deadline := time.Now().Add(2 * time.Minute); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			return false
		}
	}
	return true
}
