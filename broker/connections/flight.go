package connections

import (
	"context"
	"fmt"
	"sync"
)

// flight runs at most one call per key at a time; callers that arrive
// while it runs wait for it and share its result (like go-oidc's
// RemoteKeySet). The call runs in its own goroutine, so a caller that
// gives up (its ctx ends) does not cancel it for the others.
type flight struct {
	mu    sync.Mutex
	calls map[string]*call
	wg    sync.WaitGroup // calls running, for Close
}

type call struct {
	done   chan struct{}
	shared bool // callers of do may join it
	res    *Result
	err    error
}

// do runs fn for key, or joins the shared run in progress.
func (f *flight) do(ctx context.Context, key string, fn func() (*Result, error)) (*Result, error) {
	return f.join(ctx, key, fn, true)
}

// alone runs fn for key when no other run is in progress, after waiting
// for the one that is; no one joins it. It is for work whose result is
// not a token set a caller asked for (resealing), which must not run
// beside a refresh.
func (f *flight) alone(ctx context.Context, key string, fn func() (*Result, error)) (*Result, error) {
	return f.join(ctx, key, fn, false)
}

func (f *flight) join(ctx context.Context, key string, fn func() (*Result, error), share bool) (*Result, error) {
	for {
		f.mu.Lock()
		c, ok := f.calls[key]
		if ok && !(share && c.shared) {
			f.mu.Unlock()
			select {
			case <-c.done:
				continue // look again: start a run, or join another
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		if !ok {
			c = &call{done: make(chan struct{}), shared: share}
			f.calls[key] = c
			f.wg.Add(1)
			go func() {
				defer f.wg.Done()
				c.res, c.err = run(fn)
				f.mu.Lock()
				delete(f.calls, key)
				f.mu.Unlock()
				close(c.done)
			}()
		}
		f.mu.Unlock()
		select {
		case <-c.done:
			return c.res, c.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// run calls fn, turning a panic into an error: the call runs outside any
// request, where nothing else would recover it.
func run(fn func() (*Result, error)) (res *Result, err error) {
	defer func() {
		if r := recover(); r != nil {
			res, err = nil, fmt.Errorf("connections: refresh panicked: %v", r)
		}
	}()
	return fn()
}

// wait blocks until every call has finished.
func (f *flight) wait() { f.wg.Wait() }
