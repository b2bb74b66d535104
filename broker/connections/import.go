package connections

import (
	"context"
	"errors"

	"github.com/oauth2broker/oauth2broker/providers"
	"github.com/oauth2broker/oauth2broker/storage"
)

// Import stores a token set obtained elsewhere (a migration from another
// broker, or a bench seeding connections) as the active connection of
// (clientID, identity, provider), sealed like one made by the callback.
// It fails with storage.ErrAlreadyExists when the connection exists.
func (m *Manager) Import(ctx context.Context, api storage.API, clientID, identity, provider string, ts *providers.TokenSet) error {
	c, err := m.imported(api, clientID, identity, provider, ts)
	if err != nil {
		return err
	}
	return m.store.CreateConnection(ctx, c)
}

// Put stores a token set obtained elsewhere (an import from another
// broker) as the active connection of (clientID, identity, provider),
// sealed like one made by the callback: it creates the connection, or
// replaces the record of an existing one (its CreatedAt kept), and says
// which. Each is one store write, so a failure leaves the old record or
// none. It emits no event: the caller says who imported. The returned
// record carries no tokens.
func (m *Manager) Put(ctx context.Context, api storage.API, clientID, identity, provider string, ts *providers.TokenSet) (storage.Connection, bool, error) {
	c, err := m.imported(api, clientID, identity, provider, ts)
	if err != nil {
		return storage.Connection{}, false, err
	}
	c, replaced, err := m.upsert(ctx, c)
	c.SealedTokens = nil
	return c, replaced, err
}

// imported is the record of an imported token set, sealed.
func (m *Manager) imported(api storage.API, clientID, identity, provider string, ts *providers.TokenSet) (storage.Connection, error) {
	if err := CheckIdentity(identity); err != nil {
		return storage.Connection{}, err
	}
	if ts == nil || ts.AccessToken == "" {
		return storage.Connection{}, errors.New("connections: import: a token set needs an access token")
	}
	id := ConnectionID(clientID, identity, provider)
	sealed, err := m.sealTokens(api.Name, id, ts)
	if err != nil {
		return storage.Connection{}, err
	}
	now := m.now().UTC()
	return storage.Connection{
		API: api.Name, ID: id, ClientID: clientID, Identity: identity, Provider: provider, Status: storage.StatusActive,
		Scope: ts.Scope, SealedTokens: sealed, Expiry: ts.Expiry, CreatedAt: now, ConnectedAt: now,
	}, nil
}

// upsert creates c or, when its connection exists, replaces the record
// with c but for the first CreatedAt; replaced says which.
func (m *Manager) upsert(ctx context.Context, c storage.Connection) (storage.Connection, bool, error) {
	err := m.store.CreateConnection(ctx, c)
	if !errors.Is(err, storage.ErrAlreadyExists) {
		return c, false, err
	}
	stored, err := m.store.UpdateConnection(ctx, c.API, c.ID, func(old storage.Connection) (storage.Connection, error) {
		rec := c
		rec.CreatedAt = old.CreatedAt
		return rec, nil
	})
	return stored, true, err
}
