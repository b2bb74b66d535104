package connections

import (
	"context"
	"errors"
	"time"

	"github.com/oauth2broker/oauth2broker/broker/connerr"
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

// refreshFailed records a failed refresh. invalid_grant (the user's
// grant is dead) makes the connection needs_reauth and tombstones its
// refresh token. Any other failure keeps the tokens and makes the
// connection degraded: a transient one pushes the next background attempt
// back (backoff, Retry-After); a refusal of the broker's own client
// credentials (invalid_client, unauthorized_client) is the provider
// configuration's fault, not the user's, and refresh ahead leaves the
// provider alone until its record changes (refreshNow holds it). The
// still-valid access token is served if there is one.
func (m *Manager) refreshFailed(ctx context.Context, cur *Result, cause error) (*Result, error) {
	reauth := providers.NeedsReauth(cause)
	if errors.Is(cause, providers.ErrInvalidClient) {
		m.log.ErrorContext(ctx, "connection refresh failed: the provider refused the broker's client credentials; fix the provider configuration (the connection keeps its refresh token)",
			"api", cur.Conn.API, "connection", cur.Conn.ID, "provider", cur.Conn.Provider, "err", cause)
	} else {
		m.log.WarnContext(ctx, "connection refresh failed", "api", cur.Conn.API, "connection", cur.Conn.ID, "provider", cur.Conn.Provider, "needs_reauth", reauth, "err", cause)
	}
	now := m.now().UTC()
	var err error
	if reauth {
		err = m.tombstone(ctx, cur, cause, now)
	} else {
		err = m.recordTransient(ctx, cur, cause, now)
	}
	if errors.Is(err, storage.ErrConflict) || errors.Is(err, storage.ErrNotFound) {
		// Someone else refreshed meanwhile (perhaps with a rotated token),
		// or reconnected, or revoked: their result stands. (A write that
		// left the token set alone does not get here: saveOutcome.)
		return m.load(ctx, cur.Conn.API, cur.Conn.ID)
	}
	if err != nil {
		return nil, err
	}
	m.notifyFailure(ctx, cur.Conn, cause, reauth, now)
	if reauth {
		return nil, &connerr.Error{Kind: connerr.NeedsReauth, Description: "the provider refused the refresh; the user must reconnect",
			ConnectionStatus: storage.StatusNeedsReauth, Err: cause}
	}
	if cur.Tokens.Expiry.IsZero() || m.now().Before(cur.Tokens.Expiry) {
		served := *cur
		served.failed = cause
		return &served, nil
	}
	if errors.Is(cause, providers.ErrInvalidClient) {
		return nil, errClientRefused.With(cause)
	}
	return nil, upstreamError(cause)
}

// errClientRefused answers a token request whose refresh the provider
// refused for the broker's client credentials, with no still-valid token
// to serve: the broker's side is at fault, not the user's grant.
var errClientRefused = &connerr.Error{Kind: connerr.Upstream, ConnectionStatus: storage.StatusDegraded,
	Description: "the provider rejected the broker's client credentials: the broker's configuration of this provider must be fixed; the connection is kept, the user need not reconnect"}

// recordTransient stores a failure that leaves the user's grant alone (a
// transient one, or a refused client): the connection is degraded and
// keeps its tokens. After a transient failure background refreshes leave
// it alone for an exponential backoff, and at least as long as the
// upstream's Retry-After, which on-demand refreshes honour too.
func (m *Manager) recordTransient(ctx context.Context, cur *Result, cause error, now time.Time) error {
	_, err := m.saveOutcome(ctx, cur, func(c storage.Connection) storage.Connection {
		c.Status, c.LastError, c.LastErrorAt, c.RefreshLeaseUntil = storage.StatusDegraded, lastError(cause), now, time.Time{}
		if errors.Is(cause, providers.ErrInvalidClient) {
			// Not this connection's failure: the hold on the provider
			// stands in for a backoff, and once the provider is fixed
			// the connection is due at once.
			return c
		}
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
	_, err := m.store.UpdateConnection(ctx, cur.Conn.API, cur.Conn.ID, func(c storage.Connection) (storage.Connection, error) {
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
		c.LastError, c.LastErrorAt, c.RefreshLeaseUntil = lastError(cause), now, time.Time{}
		c.NextRefreshAt, c.RetryAfter = time.Time{}, time.Time{}
		return c, nil
	})
	return err
}

// notifyFailure tells OnEvent of a status change caused by a failure.
func (m *Manager) notifyFailure(ctx context.Context, was storage.Connection, cause error, reauth bool, now time.Time) {
	failed := was
	failed.SealedTokens, failed.LastError, failed.LastErrorAt = nil, lastError(cause), now
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
	return nil, &connerr.Error{Kind: connerr.Unavailable, Description: "the provider asked the broker to wait; try again later",
		RetryAfter: cur.Conn.RetryAfter.Sub(m.now())}
}

// lastErrorClientRefused is the last_error of a connection whose refresh
// the provider refused because of the broker's client credentials.
const lastErrorClientRefused = "invalid_client: the provider rejected the broker's client credentials; the provider configuration must be fixed"

// lastError is the secret-free last_error a failure leaves on the record:
// its class, spelled out for a refused client, whose name alone would
// read as the user's or the app's fault.
func lastError(err error) string {
	if errors.Is(err, providers.ErrInvalidClient) {
		return lastErrorClientRefused
	}
	return errorClass(err)
}

// errorClass is the short, secret-free kind of an upstream error (the
// outcome of OnRefresh).
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
