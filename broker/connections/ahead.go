package connections

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"time"

	"github.com/oauth2broker/oauth2broker/providers"
	"github.com/oauth2broker/oauth2broker/storage"
)

// Jitter of refresh ahead. Each connection has a fixed fraction in
// [0, 1) derived from a hash of its id (spread), so the spreading is
// deterministic: the same connection is always due at the same point of
// its window, and connections created together, which would otherwise
// all come due in the same pass, are spread over the window, and stay
// spread after their refreshes.
const (
	// leadJitterDiv: a connection is due up to lead/leadJitterDiv before
	// its lead.
	leadJitterDiv = 2
	// idleJitterDiv: an idle connection is due up to
	// idleAfter/idleJitterDiv before its idle keep-alive.
	idleJitterDiv = 10
)

// RefreshAhead renews connections in the background, before a token
// request needs it, and returns how many it refreshed. A connection is
// due when its access token expires within its provider's lead (the
// provider's refresh_lead, else its catalog entry's, else lead), moved
// earlier by a per-connection jitter; or, when its provider has an idle
// keep-alive (refresh_idle_after), when its grant was last refreshed or
// connected that long ago, whether its access token expires or not.
//
// At most workers refreshes run at once, providers take turns, and no
// provider holds more than half of them while another has work. A
// connection whose refresh failed transiently is left alone for an
// exponential backoff (persisted on its record, so it survives restarts
// and holds for every replica), and at least as long as the upstream's
// Retry-After; a provider that answered 429 is left alone as long as it
// asked, and one that refused the broker's client credentials
// (invalid_client: its connections stay degraded, with their tokens)
// until its record changes. Connections marked needs_reauth are never
// touched: their refused refresh token is gone.
//
// It scans every connection of every API: run it every minute or so, not
// per request. With replicas, the refresh lease keeps two of them from
// refreshing one connection.
func (m *Manager) RefreshAhead(ctx context.Context, lead time.Duration, workers int) (int, error) {
	queues, err := m.dueConnections(ctx, lead)
	n := newAheadPass(m, queues, max(workers, 1)).run(ctx)
	return n, err
}

// aheadPolicy is the resolved refresh-ahead policy of one provider.
type aheadPolicy struct {
	lead, idleAfter time.Duration
	// version is the provider record's UpdatedAt: a change of the record
	// ends a hold on the provider.
	version time.Time
}

// dueConn is a connection a pass found due, with its provider's policy.
type dueConn struct {
	conn storage.Connection
	pol  aheadPolicy
	at   time.Time
}

// dueConnections lists the connections due now, by provider
// (api + "\x00" + provider), the most overdue first. An API whose
// records cannot be listed is skipped and reported; the others are
// still returned.
func (m *Manager) dueConnections(ctx context.Context, lead time.Duration) (map[string][]dueConn, error) {
	apis, err := m.store.ListAPIs(ctx)
	if err != nil {
		return nil, fmt.Errorf("connections: refresh ahead: %w", err)
	}
	queues := map[string][]dueConn{}
	var errs []error
	for _, a := range apis {
		if err := m.dueOfAPI(ctx, a.Name, lead, queues); err != nil {
			errs = append(errs, fmt.Errorf("connections: refresh ahead: api %s: %w", a.Name, err))
		}
	}
	for _, q := range queues {
		slices.SortFunc(q, func(a, b dueConn) int { return a.at.Compare(b.at) })
	}
	return queues, errors.Join(errs...)
}

// dueOfAPI adds the due connections of one API to queues. Providers are
// opened (for their catalog policy) only when they have a connection
// refresh ahead may touch.
func (m *Manager) dueOfAPI(ctx context.Context, api string, lead time.Duration, queues map[string][]dueConn) error {
	conns, err := m.store.ListConnections(ctx, api, storage.ConnectionFilter{})
	if err != nil {
		return err
	}
	ps, err := m.store.ListProviders(ctx, api)
	if err != nil {
		return err
	}
	records := map[string]storage.Provider{}
	for _, p := range ps {
		records[p.Name] = p
	}
	policies := map[string]aheadPolicy{}
	now := m.now()
	for _, c := range conns {
		p, ok := records[c.Provider]
		if !ok || !refreshable(c) {
			continue
		}
		pol, ok := policies[c.Provider]
		if !ok {
			pol = m.aheadPolicy(ctx, p, lead)
			policies[c.Provider] = pol
		}
		at, ok := pol.dueAt(c)
		key := api + "\x00" + c.Provider
		if ok && !now.Before(at) && !m.providerHeld(key, pol.version, now) {
			queues[key] = append(queues[key], dueConn{conn: c, pol: pol, at: at})
		}
	}
	return nil
}

// refreshable reports whether refresh ahead may touch a connection at
// all: needs_reauth and revoked ones wait for the user.
func refreshable(c storage.Connection) bool {
	return c.Status == storage.StatusActive || c.Status == storage.StatusDegraded
}

// aheadPolicy resolves a provider's policy: its own settings, completed
// by its catalog entry's as the opened upstream reports them (the
// record's alone when it cannot be opened now), else the global lead.
func (m *Manager) aheadPolicy(ctx context.Context, p storage.Provider, lead time.Duration) aheadPolicy {
	rp := settings(p).Refresh()
	if up, err := m.provider(ctx, p); err == nil {
		if a, ok := up.(providers.RefreshAdvisor); ok {
			rp = a.RefreshPolicy()
		}
	}
	return aheadPolicy{lead: cmp.Or(rp.Lead, lead), idleAfter: rp.IdleAfter, version: p.UpdatedAt}
}

// dueAt returns when refresh ahead should renew c, and false when it
// never should (its token does not expire and there is no idle
// keep-alive). It is never before the connection's backoff or the
// upstream's Retry-After.
func (pol aheadPolicy) dueAt(c storage.Connection) (time.Time, bool) {
	f := spread(c)
	var at time.Time
	if !c.Expiry.IsZero() {
		at = c.Expiry.Add(-pol.lead - jitter(pol.lead/leadJitterDiv, f))
	}
	if pol.idleAfter > 0 {
		idle := lastGrant(c).Add(pol.idleAfter - jitter(pol.idleAfter/idleJitterDiv, f))
		if at.IsZero() || idle.Before(at) {
			at = idle
		}
	}
	if at.IsZero() {
		return at, false
	}
	return maxTime(at, maxTime(c.NextRefreshAt, c.RetryAfter)), true
}

// lastGrant is when the connection's grant was last exercised: its last
// refresh, or the (re)connect that gave its tokens.
func lastGrant(c storage.Connection) time.Time {
	return maxTime(c.RefreshedAt, maxTime(c.ConnectedAt, c.CreatedAt))
}

// spread is the connection's fixed fraction in [0, 1), from a hash of its
// API and id.
func spread(c storage.Connection) float64 {
	h := fnv.New64a()
	h.Write([]byte(c.API + "\x00" + c.ID))
	return float64(h.Sum64()>>11) / (1 << 53)
}

// jitter is fraction f of window.
func jitter(window time.Duration, f float64) time.Duration {
	return time.Duration(float64(window) * f)
}

// refreshAheadOne refreshes one due connection through the
// single-flight, after checking again, on the reloaded record, that it
// is still due (another replica or a token request may have refreshed
// it). A connection without a refresh token is left for token requests
// to handle.
func (m *Manager) refreshAheadOne(ctx context.Context, d dueConn) (*Result, error) {
	return m.flight.do(ctx, d.conn.API+"\x00"+d.conn.ID, func() (*Result, error) {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), refreshTimeout)
		defer cancel()
		return m.refresh(ctx, d.conn.API, d.conn.ID, func(cur *Result) bool {
			at, ok := d.pol.dueAt(cur.Conn)
			return ok && refreshable(cur.Conn) && cur.Tokens.RefreshToken != "" && !m.now().Before(at)
		})
	})
}
