package connections

import (
	"context"
	"errors"
	"slices"

	"github.com/oauth2broker/oauth2broker/providers"
	"github.com/oauth2broker/oauth2broker/storage"
)

// Upstream revocation outcomes.
const (
	RevocationRevoked     = "revoked"
	RevocationUnsupported = "unsupported"
	RevocationFailed      = "failed"
	// RevocationNone: there was no connection to revoke (already gone).
	RevocationNone = "none"
)

// RevokeResult tells what Revoke did.
type RevokeResult struct {
	// Upstream is the combined outcome at the providers: failed if any
	// failed, else revoked if any was revoked, else unsupported (or none).
	Upstream string
	// Deleted counts the deleted connections.
	Deleted int
}

// Revoke revokes the connections of clientID's identity at their
// providers (all of them, or only provider's) and deletes them. The local
// records are deleted whatever the providers answer; revoking again is
// not an error.
func (m *Manager) Revoke(ctx context.Context, api storage.API, clientID, identity, provider string) (*RevokeResult, error) {
	if err := CheckIdentity(identity); err != nil {
		return nil, err
	}
	conns, err := m.List(ctx, api, clientID, identity)
	if err != nil {
		return nil, err
	}
	if provider != "" {
		conns = slices.DeleteFunc(conns, func(c storage.Connection) bool { return c.Provider != provider })
	}
	return m.revokeEach(ctx, api, conns), nil
}

func combine(a, b string) string {
	rank := map[string]int{RevocationNone: 0, RevocationUnsupported: 1, RevocationRevoked: 2, RevocationFailed: 3}
	if rank[b] > rank[a] {
		return b
	}
	return a
}

// revokeUpstream revokes one connection at its provider.
func (m *Manager) revokeUpstream(ctx context.Context, c storage.Connection) string {
	ts, err := m.openTokens(c)
	if err != nil {
		m.log.ErrorContext(ctx, "revoke: open tokens", "connection", c.ID, "err", err)
		return RevocationFailed
	}
	p, err := m.store.GetProvider(ctx, c.API, c.Provider)
	if err != nil {
		return RevocationFailed
	}
	up, err := m.provider(ctx, p)
	if err != nil {
		return RevocationFailed
	}
	rv, ok := up.(providers.Revoker)
	if !ok {
		return RevocationUnsupported
	}
	err = rv.Revoke(ctx, ts)
	switch {
	case err == nil:
		return RevocationRevoked
	case errors.Is(err, providers.ErrRevocationUnsupported):
		return RevocationUnsupported
	}
	m.log.WarnContext(ctx, "upstream revocation failed", "api", c.API, "connection", c.ID, "provider", c.Provider, "err", err)
	return RevocationFailed
}

// List returns clientID's connections of one identity. Connection ids
// derive from (client, identity, provider), so it reads one record per
// provider of the API instead of scanning the connections.
func (m *Manager) List(ctx context.Context, api storage.API, clientID, identity string) ([]storage.Connection, error) {
	if err := CheckIdentity(identity); err != nil {
		return nil, err
	}
	provs, err := m.store.ListProviders(ctx, api.Name)
	if err != nil {
		return nil, err
	}
	var out []storage.Connection
	for _, p := range provs {
		c, err := m.store.GetConnection(ctx, api.Name, ConnectionID(clientID, identity, p.Name))
		if errors.Is(err, storage.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// RevokeAll revokes at their providers and deletes every connection the
// filter selects (all of a deleted client's, or of a deleted provider's).
// It scans the API's connections: an administrative operation.
func (m *Manager) RevokeAll(ctx context.Context, api storage.API, f storage.ConnectionFilter) (*RevokeResult, error) {
	conns, err := m.store.ListConnections(ctx, api.Name, f)
	if err != nil {
		return nil, err
	}
	return m.revokeEach(ctx, api, conns), nil
}

// RevokeByID revokes one connection at its provider and deletes it.
func (m *Manager) RevokeByID(ctx context.Context, api storage.API, id string) (*RevokeResult, error) {
	c, err := m.store.GetConnection(ctx, api.Name, id)
	if err != nil {
		return nil, err
	}
	return m.revokeEach(ctx, api, []storage.Connection{c}), nil
}

func (m *Manager) revokeEach(ctx context.Context, api storage.API, conns []storage.Connection) *RevokeResult {
	res := &RevokeResult{Upstream: RevocationNone}
	for _, c := range conns {
		outcome := m.revokeUpstream(ctx, c)
		if err := m.store.DeleteConnection(ctx, api.Name, c.ID); err != nil && !errors.Is(err, storage.ErrNotFound) {
			m.log.ErrorContext(ctx, "revoke: delete connection", "api", api.Name, "connection", c.ID, "err", err)
			res.Upstream = combine(res.Upstream, RevocationFailed)
			continue
		}
		res.Deleted++
		res.Upstream = combine(res.Upstream, outcome)
		c.SealedTokens, c.Status = nil, storage.StatusRevoked
		m.onEvent(ctx, "connection.revoked", c)
	}
	return res
}
