package connections

import (
	"context"
	"errors"
	"time"

	"github.com/oauth2broker/oauth2broker/broker/protocol"
	"github.com/oauth2broker/oauth2broker/providers"
	"github.com/oauth2broker/oauth2broker/storage"
)

// Backoff of failed refreshes.
const (
	// backoffBase is how long background refreshes leave a connection
	// alone after its first transient failure; each further consecutive
	// failure doubles it, up to backoffMax.
	backoffBase = time.Minute
	backoffMax  = time.Hour
	// maxRetryAfter caps the wait an upstream's Retry-After imposes, so
	// that an absurd value cannot park a connection for good.
	maxRetryAfter = time.Hour
)

// backoff is the wait after the n-th consecutive transient failure.
func backoff(n int) time.Duration {
	d := backoffBase
	for i := 1; i < n && d < backoffMax; i++ {
		d *= 2
	}
	return min(d, backoffMax)
}

// refreshFailed records a failed refresh. invalid_grant (or a refused
// client) makes the connection needs_reauth and tombstones its refresh
// token; a transient failure makes it degraded, keeps the tokens, and
// pushes the next background attempt back (backoff, Retry-After); the
// still-valid access token is served if there is one.
func (m *Manager) refreshFailed(ctx context.Context, cur *Result, cause error) (*Result, error) {
	reauth := providers.NeedsReauth(cause)
	m.log.WarnContext(ctx, "connection refresh failed", "api", cur.Conn.API, "connection", cur.Conn.ID, "provider", cur.Conn.Provider, "needs_reauth", reauth, "err", cause)
	now := m.now().UTC()
	var err error
	if reauth {
		err = m.tombstone(ctx, cur, cause, now)
	} else {
		err = m.recordTransient(ctx, cur, cause, now)
	}
	if errors.Is(err, storage.ErrConflict) || errors.Is(err, storage.ErrNotFound) {
		// Someone else refreshed meanwhile (perhaps with a rotated token),
		// or reconnected, or revoked: their result stands.
		return m.load(ctx, cur.Conn.API, cur.Conn.ID)
	}
	if err != nil {
		return nil, err
	}
	m.notifyFailure(ctx, cur.Conn, cause, reauth, now)
	if reauth {
		return nil, protocol.ErrInvalidGrant.WithDescription("the provider refused the refresh; the user must reconnect").
			WithExtra("connection_status", storage.StatusNeedsReauth).WithCause(cause)
	}
	if cur.Tokens.Expiry.IsZero() || m.now().Before(cur.Tokens.Expiry) {
		served := *cur
		served.failed = cause
		return &served, nil
	}
	return nil, upstreamError(cause)
}

// recordTransient stores a transient failure: the connection is
// degraded, and background refreshes leave it alone for an exponential
// backoff, and at least as long as the upstream's Retry-After, which
// on-demand refreshes honour too.
func (m *Manager) recordTransient(ctx context.Context, cur *Result, cause error, now time.Time) error {
	_, err := m.casUpdate(ctx, cur.Conn, func(c storage.Connection) storage.Connection {
		c.Status, c.LastError, c.LastErrorAt, c.RefreshLeaseUntil = storage.StatusDegraded, errorClass(cause), now, time.Time{}
		c.RefreshFailures++
		c.NextRefreshAt = now.Add(backoff(c.RefreshFailures))
		if after, ok := providers.RetryAfter(cause); ok && after > 0 {
			c.RetryAfter = now.Add(min(after, maxRetryAfter))
			c.NextRefreshAt = maxTime(c.NextRefreshAt, c.RetryAfter)
		}
		return c
	})
	return err
}

// tombstone marks the connection needs_reauth and deletes its refused
// refresh token from the record, so that no refresh, background or on
// demand, sends it again. A record rewritten meanwhile is tombstoned too
// while it still holds the refused token; one holding another (a
// reconnect, a rotation stored by a replica) stands: storage.ErrConflict.
func (m *Manager) tombstone(ctx context.Context, cur *Result, cause error, now time.Time) error {
	refused := cur.Tokens.RefreshToken
	return m.store.UpdateConnection(ctx, cur.Conn.API, cur.Conn.ID, func(c storage.Connection) (storage.Connection, error) {
		ts := cur.Tokens
		if c.Version != cur.Conn.Version {
			var err error
			if ts, err = m.openTokens(c); err != nil || refused == "" || ts.RefreshToken != refused {
				return c, storage.ErrConflict
			}
		}
		dead := *ts
		dead.RefreshToken = ""
		sealed, err := m.sealTokens(c.API, c.ID, &dead)
		if err != nil {
			return c, err
		}
		c.Status, c.SealedTokens = storage.StatusNeedsReauth, sealed
		c.LastError, c.LastErrorAt, c.RefreshLeaseUntil = errorClass(cause), now, time.Time{}
		c.NextRefreshAt, c.RetryAfter = time.Time{}, time.Time{}
		return c, nil
	})
}

// notifyFailure tells OnEvent of a status change caused by a failure.
func (m *Manager) notifyFailure(ctx context.Context, was storage.Connection, cause error, reauth bool, now time.Time) {
	failed := was
	failed.SealedTokens, failed.LastError, failed.LastErrorAt = nil, errorClass(cause), now
	failed.Status = storage.StatusDegraded
	event := "connection.refresh_failed"
	if reauth {
		failed.Status, event = storage.StatusNeedsReauth, "connection.needs_reauth"
	}
	if failed.Status != was.Status {
		m.onEvent(ctx, event, failed)
	}
}

// held answers, without calling the upstream, a refresh it asked to
// postpone (Retry-After): the still-valid token, else 503
// temporarily_unavailable saying how long to wait.
func (m *Manager) held(cur *Result) (*Result, error) {
	if cur.Tokens.Expiry.IsZero() || m.now().Before(cur.Tokens.Expiry) {
		return cur, nil
	}
	return nil, protocol.ErrTemporarilyUnavailable.WithDescription("the provider asked the broker to wait; try again later").
		WithRetryAfter(cur.Conn.RetryAfter.Sub(m.now()))
}

// errorClass is the short, secret-free kind of an upstream error kept in
// the record's last_error.
func errorClass(err error) string {
	switch {
	case errors.Is(err, providers.ErrInvalidGrant):
		return "invalid_grant"
	case errors.Is(err, providers.ErrInvalidClient):
		return "invalid_client"
	case errors.Is(err, providers.ErrUnavailable):
		return "upstream_unavailable"
	}
	return "upstream_error"
}

// maxTime returns the later of two times.
func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
