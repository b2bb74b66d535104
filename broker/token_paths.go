package broker

import (
	"context"
	"sync"
	"time"

	"github.com/oauth2broker/oauth2broker/storage"
)

// tokenPathTTL bounds how long a replica serves a stale index of extra
// token paths after another replica changed an API.
const tokenPathTTL = 5 * time.Second

// tokenPathIndex maps the APIs' extra token paths to their API.
type tokenPathIndex struct {
	store    storage.Storage
	now      func() time.Time
	mu       sync.Mutex
	byPath   map[string]string
	loadedAt time.Time
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
	if x.byPath == nil || x.now().Sub(x.loadedAt) > tokenPathTTL {
		apis, err := x.store.ListAPIs(ctx)
		if err != nil {
			return "", err
		}
		x.byPath = map[string]string{}
		for _, a := range apis {
			for _, p := range a.TokenPaths {
				x.byPath[p] = a.Name
			}
		}
		x.loadedAt = x.now()
	}
	return x.byPath[path], nil
}

// invalidate drops the index after a local API change.
func (x *tokenPathIndex) invalidate() {
	x.mu.Lock()
	x.byPath = nil
	x.mu.Unlock()
}

func ignoreNotFound(err error) error {
	if err == storage.ErrNotFound {
		return nil
	}
	return err
}
