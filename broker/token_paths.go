package broker

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/oauth2broker/oauth2broker/storage"
)

// tokenPathTTL bounds how long a replica serves a stale index of extra
// token paths after another replica changed an API, when no watch of the
// store told it at once.
const tokenPathTTL = 5 * time.Second

// tokenPathIndex maps the APIs' extra token paths to their API.
type tokenPathIndex struct {
	store    storage.Storage
	now      func() time.Time
	mu       sync.Mutex
	byPath   map[string]string
	loadedAt time.Time
	stale    bool
	retryAt  time.Time // the store was unavailable: use as is until then
}

// lookup returns the API that serves its token endpoint at path.
func (x *tokenPathIndex) lookup(ctx context.Context, path string) (storage.API, bool, error) {
	name, err := x.apiFor(ctx, path)
	if err != nil || name == "" {
		return storage.API{}, false, err
	}
	a, err := x.store.GetAPI(ctx, name)
	if err != nil {
		return storage.API{}, false, ignoreNotFound(err)
	}
	return a, true, nil
}

func (x *tokenPathIndex) apiFor(ctx context.Context, path string) (string, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.byPath == nil || ((x.stale || x.now().Sub(x.loadedAt) > tokenPathTTL) && !time.Now().Before(x.retryAt)) {
		apis, err := x.store.ListAPIs(ctx)
		switch {
		case err != nil && x.byPath != nil && errors.Is(err, storage.ErrUnavailable):
			// No quorum: route with the index known moments ago, and ask
			// the store again in a while, not on every request.
			x.retryAt = time.Now().Add(outagePause)
			return x.byPath[path], nil
		case err != nil:
			return "", err
		}
		x.byPath = map[string]string{}
		for _, a := range apis {
			for _, p := range a.TokenPaths {
				x.byPath[p] = a.Name
			}
		}
		x.loadedAt, x.stale = x.now(), false
	}
	return x.byPath[path], nil
}

// invalidate marks the index stale after an API change, here or (heard
// through the store's watch) on another replica: the next lookup reloads.
func (x *tokenPathIndex) invalidate() {
	x.mu.Lock()
	x.stale = true
	x.mu.Unlock()
}

func ignoreNotFound(err error) error {
	if err == storage.ErrNotFound {
		return nil
	}
	return err
}
