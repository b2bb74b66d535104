package connections

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/oauth2broker/oauth2broker/storage"
)

// RefreshAhead renews, before they expire, the connections whose access
// token expires within lead, at most workers at a time, so that token
// requests rarely wait for an upstream call. Connections marked
// needs_reauth are never touched (their refresh token is tombstoned);
// degraded ones are retried. It returns how many it refreshed. It scans
// every connection of every API: run it every few minutes, not per
// request. With replicas, the refresh lease keeps two of them from
// refreshing one connection.
func (m *Manager) RefreshAhead(ctx context.Context, lead time.Duration, workers int) (int, error) {
	apis, err := m.store.ListAPIs(ctx)
	if err != nil {
		return 0, err
	}
	due := make(chan storage.Connection)
	var refreshed atomic.Int64
	var wg sync.WaitGroup
	for range max(workers, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range due {
				if m.refreshIfDue(ctx, c, lead) {
					refreshed.Add(1)
				}
			}
		}()
	}
	err = m.sendDue(ctx, apis, lead, due)
	close(due)
	wg.Wait()
	return int(refreshed.Load()), err
}

// sendDue lists the connections due for a refresh.
func (m *Manager) sendDue(ctx context.Context, apis []storage.API, lead time.Duration, due chan<- storage.Connection) error {
	horizon := m.now().Add(lead)
	for _, a := range apis {
		conns, err := m.store.ListConnections(ctx, a.Name, storage.ConnectionFilter{})
		if err != nil {
			return err
		}
		for _, c := range conns {
			if c.Expiry.IsZero() || c.Expiry.After(horizon) || (c.Status != storage.StatusActive && c.Status != storage.StatusDegraded) {
				continue
			}
			select {
			case due <- c:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
	return nil
}

// refreshIfDue refreshes one connection through the single-flight, after
// checking again (under it) that it is still due.
func (m *Manager) refreshIfDue(ctx context.Context, c storage.Connection, lead time.Duration) bool {
	res, err := m.flight.do(ctx, c.API+"\x00"+c.ID, func() (*Result, error) {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), refreshTimeout)
		defer cancel()
		cur, err := m.load(ctx, c.API, c.ID)
		if err != nil {
			return nil, err
		}
		if cur.Tokens.Expiry.IsZero() || cur.Tokens.Expiry.After(m.now().Add(lead)) || cur.Tokens.RefreshToken == "" {
			return cur, nil // refreshed meanwhile, or cannot be
		}
		return m.refresh(ctx, c.API, c.ID, true)
	})
	if err != nil {
		m.log.WarnContext(ctx, "refresh ahead failed", "api", c.API, "connection", c.ID, "provider", c.Provider, "err", err)
		return false
	}
	return res.Conn.Version != c.Version
}
