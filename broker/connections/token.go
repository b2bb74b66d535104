package connections

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"time"

	"github.com/oauth2broker/oauth2broker/broker/connerr"
	"github.com/oauth2broker/oauth2broker/providers"
	"github.com/oauth2broker/oauth2broker/storage"
)

// TokenRequest asks for a connection's usable tokens.
type TokenRequest struct {
	ClientID string
	Identity string
	Provider string
	// Force refreshes even a fresh token.
	Force bool
	// Refused, with Force, is the TokenHash of the access token an
	// upstream refused (HTTP 401): the forced refresh happens only if
	// that token is still the stored one, so that many calls refused
	// the same token cause one refresh, not one each.
	Refused []byte
}

// TokenHash is the SHA-256 of an access token, for
// TokenRequest.Refused.
func TokenHash(token string) []byte {
	return hash(token)
}

// forced reports whether r forces a refresh of cur: Force, and cur's
// access token is the refused one when r names it.
func (r TokenRequest) forced(cur *Result) bool {
	if !r.Force {
		return false
	}
	return r.Refused == nil || subtle.ConstantTimeCompare(hash(cur.Tokens.AccessToken), r.Refused) == 1
}

// Result is a connection with its current token set. Results may be shared
// between concurrent callers: treat them as read-only.
type Result struct {
	Conn   storage.Connection
	Tokens *providers.TokenSet
	// refreshed: these tokens came from the upstream in this call.
	refreshed bool
	// failed is the transient upstream failure behind a still-valid
	// token served instead of a refreshed one.
	failed error
}

// Token returns the connection's tokens, refreshing them first when they
// expire within the leeway or r.Force is set. Concurrent calls for one
// connection share one upstream refresh.
func (m *Manager) Token(ctx context.Context, api storage.API, r TokenRequest) (*Result, error) {
	if err := CheckIdentity(r.Identity); err != nil {
		return nil, err
	}
	p, err := m.resolveProvider(ctx, api.Name, r.Provider)
	if err != nil {
		return nil, err
	}
	id := ConnectionID(r.ClientID, r.Identity, p.Name)
	res, err := m.load(ctx, api.Name, id)
	if err != nil {
		return nil, err
	}
	if err := usable(res.Conn); err != nil {
		return nil, err
	}
	if !r.Force && m.fresh(res.Tokens) {
		return res, nil
	}
	return m.flight.do(ctx, api.Name+"\x00"+id, func() (*Result, error) {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), refreshTimeout)
		defer cancel()
		return m.refresh(ctx, api.Name, id, func(cur *Result) bool { return r.forced(cur) || !m.fresh(cur.Tokens) })
	})
}

// load reads a connection and opens its tokens.
func (m *Manager) load(ctx context.Context, api, id string) (*Result, error) {
	c, err := m.store.GetConnection(ctx, api, id)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, &connerr.Error{Kind: connerr.NotFound, Description: "no connection for this client_user_identity and provider; authorize first",
			ConnectionStatus: "none"}
	}
	if err != nil {
		return nil, err
	}
	ts, err := m.openTokens(c)
	if err != nil {
		return nil, err
	}
	return &Result{Conn: c, Tokens: ts}, nil
}

// usable refuses connections the user must reconnect.
func usable(c storage.Connection) error {
	if c.Status == storage.StatusNeedsReauth || c.Status == storage.StatusRevoked {
		return &connerr.Error{Kind: connerr.NeedsReauth, Description: "the user must reconnect this provider", ConnectionStatus: c.Status}
	}
	return nil
}

// fresh reports whether a token set can be served without a refresh.
func (m *Manager) fresh(ts *providers.TokenSet) bool {
	return ts.Expiry.IsZero() || m.now().Add(m.leeway).Before(ts.Expiry)
}

// refresh is the one upstream refresh of a connection. It reloads the
// record first and refreshes only if need says the loaded record still
// needs it (a refresh that just finished makes it unneeded), and stores
// the result only if nobody else wrote the record meanwhile. It sends
// nothing before the upstream's Retry-After. With replicas it first takes
// the record's refresh lease, or waits for the replica that holds it.
func (m *Manager) refresh(ctx context.Context, api, id string, need func(*Result) bool) (*Result, error) {
	for {
		cur, err := m.load(ctx, api, id)
		if err != nil {
			return nil, err
		}
		if err := usable(cur.Conn); err != nil {
			return nil, err
		}
		if !need(cur) {
			return cur, nil
		}
		if cur.Conn.RetryAfter.After(m.now()) {
			return m.held(cur)
		}
		if cur.Tokens.RefreshToken == "" {
			return m.noRefreshToken(ctx, cur)
		}
		if !m.replicated {
			return m.refreshNow(ctx, api, id, cur)
		}
		if cur.Conn.RefreshLeaseUntil.After(m.now()) {
			if res, err := m.awaitOutcome(ctx, cur); res != nil || err != nil {
				return res, err
			}
			continue // the lease expired unused: claim it
		}
		claimed, err := m.casUpdate(ctx, cur.Conn, func(c storage.Connection) storage.Connection {
			c.RefreshLeaseUntil = m.now().Add(refreshTimeout)
			return c
		})
		if errors.Is(err, storage.ErrConflict) {
			continue // another replica wrote first: look again
		}
		if err != nil {
			return nil, err
		}
		cur.Conn = claimed
		res, err := m.refreshNow(ctx, api, id, cur)
		m.releaseLease(ctx, api, id, claimed.RefreshLeaseUntil)
		return res, err
	}
}

// releaseLease clears the lease this replica took (until lease), when
// refreshNow left early without storing an outcome (which clears it too).
// A lease taken since by another replica is left alone.
func (m *Manager) releaseLease(ctx context.Context, api, id string, lease time.Time) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	_, _ = m.store.UpdateConnection(ctx, api, id, func(c storage.Connection) (storage.Connection, error) {
		if !c.RefreshLeaseUntil.Equal(lease) {
			return c, errLeaseFree
		}
		c.RefreshLeaseUntil = time.Time{}
		return c, nil
	})
}

var errLeaseFree = errors.New("connections: lease already free")

// leasePoll is how often a replica waiting for another's refresh looks.
const leasePoll = 25 * time.Millisecond

// awaitOutcome waits for the outcome the replica holding the refresh
// lease stores, and answers it; nil and no error when the lease expired
// unused.
func (m *Manager) awaitOutcome(ctx context.Context, cur *Result) (*Result, error) {
	next, err := m.awaitLease(ctx, cur)
	if err != nil || next == nil {
		return nil, err
	}
	return m.leaseOutcome(next)
}

// awaitLease waits until the replica holding the refresh lease stores its
// outcome (the record's version changes, and the lease is free or the
// connection unusable), and returns that record for leaseOutcome. It
// returns nil when the lease expired with no outcome, so that the caller
// may claim it.
func (m *Manager) awaitLease(ctx context.Context, cur *Result) (*Result, error) {
	t := time.NewTicker(leasePoll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-t.C:
		}
		next, err := m.load(ctx, cur.Conn.API, cur.Conn.ID)
		if err != nil {
			return nil, err
		}
		if next.Conn.Version != cur.Conn.Version {
			if next.Conn.RefreshLeaseUntil.IsZero() || usable(next.Conn) != nil {
				return next, nil
			}
			cur = next // leased again meanwhile: keep waiting
		}
		if !cur.Conn.RefreshLeaseUntil.After(m.now()) {
			return nil, nil
		}
	}
}

// leaseOutcome answers what the lease holder stored: its tokens while
// they are usable, else why they are not.
func (m *Manager) leaseOutcome(next *Result) (*Result, error) {
	if err := usable(next.Conn); err != nil {
		return nil, err
	}
	if m.fresh(next.Tokens) || m.now().Before(next.Tokens.Expiry) {
		return next, nil
	}
	// The holder's refresh failed and the token is dead.
	if next.Conn.LastError == lastErrorClientRefused {
		return nil, errClientRefused
	}
	e := connerr.New(connerr.Unavailable, "the provider is unavailable; try again later")
	if next.Conn.RetryAfter.After(m.now()) {
		e.RetryAfter = next.Conn.RetryAfter.Sub(m.now())
	}
	return nil, e
}

// refreshNow makes the upstream refresh and stores its outcome.
func (m *Manager) refreshNow(ctx context.Context, api, id string, cur *Result) (*Result, error) {
	p, err := m.store.GetProvider(ctx, api, cur.Conn.Provider)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, connerr.New(connerr.Invalid, "the connection's provider was removed").With(err)
	}
	if err != nil {
		return nil, err // storage.ErrUnavailable: 503 at the HTTP layer
	}
	up, err := m.provider(ctx, p)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	ts, err := up.Refresh(ctx, cur.Tokens)
	outcome := "ok"
	if err != nil {
		outcome = errorClass(err)
	}
	m.onRefresh(api, cur.Conn.Provider, outcome, time.Since(start))
	if errors.Is(err, providers.ErrInvalidClient) {
		// Every connection of the provider would fail alike: refresh
		// ahead leaves it alone until its record changes.
		m.holdProvider(api+"\x00"+p.Name, p.UpdatedAt, time.Time{})
	}
	if err != nil {
		return m.refreshFailed(ctx, cur, err)
	}
	m.clientAccepted(api + "\x00" + p.Name)
	if ts.Scope == "" {
		ts.Scope = cur.Conn.Scope
	}
	sealed, err := m.sealTokens(api, id, ts)
	if err != nil {
		return nil, err
	}
	now := m.now().UTC()
	// The provider may have rotated the refresh token already: the save
	// gets its own time, whatever is left of the request's.
	saveCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	next, err := m.saveOutcome(saveCtx, cur, func(c storage.Connection) storage.Connection {
		c.SealedTokens, c.Expiry, c.Scope, c.Status = sealed, ts.Expiry, ts.Scope, storage.StatusActive
		c.RefreshedAt, c.LastError, c.LastErrorAt = now, "", time.Time{}
		c.RefreshFailures, c.NextRefreshAt, c.RetryAfter = 0, time.Time{}, time.Time{}
		c.RefreshLeaseUntil = time.Time{}
		return c
	})
	if errors.Is(err, storage.ErrConflict) || errors.Is(err, storage.ErrNotFound) {
		// Another replica refreshed first (serve what it stored), the
		// user reconnected, or the connection was revoked meanwhile (load
		// answers "none").
		return m.load(ctx, api, id)
	}
	if err != nil {
		return nil, err
	}
	return &Result{Conn: next, Tokens: ts, refreshed: true}, nil
}

// noRefreshToken answers a refresh the connection cannot make: its
// still-valid token, or, once expired, needs_reauth (the user must
// reconnect). Providers without refresh tokens (GitHub OAuth apps) land
// here on force_refresh.
func (m *Manager) noRefreshToken(ctx context.Context, cur *Result) (*Result, error) {
	if cur.Tokens.Expiry.IsZero() || m.now().Before(cur.Tokens.Expiry) {
		return cur, nil
	}
	return m.refreshFailed(ctx, cur, fmt.Errorf("connections: %w: expired and no refresh token", providers.ErrInvalidGrant))
}

// saveOutcome stores the outcome of the refresh that read cur: change,
// applied to the record as it is now, provided the record still holds the
// token set cur read. A write meanwhile that left that token set alone (a
// reseal under a new encryption key, a failure recorded by another
// replica, a lease) does not stop it, so a refresh token the upstream has
// just rotated is not lost to it; a refresh lease another replica took
// meanwhile is left to that replica. It answers storage.ErrConflict when
// the token set changed: someone else refreshed (and stored what the
// upstream answered them) or the user reconnected.
func (m *Manager) saveOutcome(ctx context.Context, cur *Result, change func(storage.Connection) storage.Connection) (storage.Connection, error) {
	return m.store.UpdateConnection(ctx, cur.Conn.API, cur.Conn.ID, func(c storage.Connection) (storage.Connection, error) {
		if c.Version == cur.Conn.Version {
			return change(c), nil
		}
		if !m.holdsTokenSet(c, cur) {
			return c, storage.ErrConflict
		}
		lease := c.RefreshLeaseUntil
		out := change(c)
		if !lease.Equal(cur.Conn.RefreshLeaseUntil) {
			out.RefreshLeaseUntil = lease
		}
		return out, nil
	})
}

// holdsTokenSet reports whether record c, written since cur was read,
// still holds cur's token set: the same grant (not reconnected), not
// refreshed since, still refreshable, and with the refresh token cur's
// refresh presented.
func (m *Manager) holdsTokenSet(c storage.Connection, cur *Result) bool {
	if cur.Tokens.RefreshToken == "" || !refreshable(c) ||
		!c.ConnectedAt.Equal(cur.Conn.ConnectedAt) || !c.RefreshedAt.Equal(cur.Conn.RefreshedAt) {
		return false
	}
	ts, err := m.openTokens(c)
	return err == nil && ts.RefreshToken == cur.Tokens.RefreshToken
}

// casUpdate applies change to the connection only if its version is still
// the one read (storage.ErrConflict otherwise).
func (m *Manager) casUpdate(ctx context.Context, read storage.Connection, change func(storage.Connection) storage.Connection) (storage.Connection, error) {
	return m.store.UpdateConnection(ctx, read.API, read.ID, func(c storage.Connection) (storage.Connection, error) {
		if c.Version != read.Version {
			return c, storage.ErrConflict
		}
		return change(c), nil
	})
}
